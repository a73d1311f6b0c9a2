package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/internal/domain"
)

// Retention purges in small batches, each its own short statement, so
// delivery keeps writing between them. Every method removes at most batch
// rows and reports how many it removed; the caller loops until 0.

// PurgeAttempts deletes up to batch attempts started before cutoff.
func (s *Store) PurgeAttempts(ctx context.Context, cutoff time.Time, batch int) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM attempts WHERE id IN
		(SELECT id FROM attempts WHERE started_at < ? ORDER BY started_at LIMIT ?)`, micros(cutoff), batch)
	if res.Error != nil {
		return 0, fmt.Errorf("store: purge attempts: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// PurgeEventPayloads clears the payload of up to batch events received
// before cutoff. The event row stays, so the delivery log keeps its
// deliveries (and their event ids and types); only the body is gone. An
// event that still has a pending or held delivery keeps its payload: held
// deliveries are kept, never dropped.
func (s *Store) PurgeEventPayloads(ctx context.Context, cutoff time.Time, batch int) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`UPDATE events SET payload = NULL WHERE id IN
		(SELECT e.id FROM events e WHERE e.received_at < ? AND e.payload IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status IN (?, ?))
			ORDER BY e.received_at LIMIT ?)`,
		micros(cutoff), string(domain.DeliveryPending), string(domain.DeliveryHeld), batch)
	if res.Error != nil {
		return 0, fmt.Errorf("store: purge event payloads: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// PurgeIdempotencyKeys deletes up to batch idempotency keys that expired
// before now.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context, now time.Time, batch int) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM idempotency_keys WHERE (source_id, key) IN
		(SELECT source_id, key FROM idempotency_keys WHERE expires_at < ? LIMIT ?)`, micros(now), batch)
	if res.Error != nil {
		return 0, fmt.Errorf("store: purge idempotency keys: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// PurgeJobs deletes up to batch finished jobs created before cutoff, with
// the record of what they handed over.
func (s *Store) PurgeJobs(ctx context.Context, cutoff time.Time, batch int) (int64, error) {
	var ids []string
	err := s.db.WithContext(ctx).Model(&jobRow{}).
		Where("created_at < ? AND status IN ?", micros(cutoff),
			[]string{string(domain.JobCompleted), string(domain.JobCancelled), string(domain.JobFailed)}).
		Order("created_at").Limit(batch).Pluck("id", &ids).Error
	if err != nil {
		return 0, fmt.Errorf("store: purge jobs: %w", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	// Items first, a few jobs at a time: a big replay has many.
	for _, id := range ids {
		for {
			res := s.db.WithContext(ctx).Exec(`DELETE FROM job_items WHERE job_id = ? AND delivery_id IN
				(SELECT delivery_id FROM job_items WHERE job_id = ? LIMIT ?)`, id, id, 5000)
			if res.Error != nil {
				return 0, fmt.Errorf("store: purge job items: %w", res.Error)
			}
			if res.RowsAffected == 0 {
				break
			}
		}
	}
	res := s.db.WithContext(ctx).Exec(`DELETE FROM jobs WHERE id IN ?`, ids)
	if res.Error != nil {
		return 0, fmt.Errorf("store: purge jobs: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// RecordRetentionRun stores one retention pass and forgets the passes
// older than keepAfter.
func (s *Store) RecordRetentionRun(ctx context.Context, r domain.RetentionRun, keepAfter time.Time) error {
	purged := r.Purged
	if purged == nil {
		purged = map[string]int64{}
	}
	err := s.db.WithContext(ctx).Exec(`INSERT INTO retention_runs (id, started_at, finished_at, cutoff, purged, error) VALUES (?, ?, ?, ?, ?, ?)`,
		r.ID, micros(r.StartedAt), micros(r.FinishedAt), micros(r.Cutoff), mustJSON(purged), r.Error).Error
	if err != nil {
		return fmt.Errorf("store: record retention run: %w", err)
	}
	if err := s.db.WithContext(ctx).Exec(`DELETE FROM retention_runs WHERE started_at < ?`, micros(keepAfter)).Error; err != nil {
		return fmt.Errorf("store: forget retention runs: %w", err)
	}
	return nil
}

// LastRetentionRun returns the newest retention pass; ok is false when
// none has run yet.
func (s *Store) LastRetentionRun(ctx context.Context) (run domain.RetentionRun, ok bool, err error) {
	var rows []struct {
		ID         string
		StartedAt  int64
		FinishedAt int64
		Cutoff     int64
		Purged     string
		Error      string
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT id, started_at, finished_at, cutoff, purged, error FROM retention_runs
		ORDER BY started_at DESC LIMIT 1`).Scan(&rows).Error; err != nil {
		return domain.RetentionRun{}, false, fmt.Errorf("store: last retention run: %w", err)
	}
	if len(rows) == 0 {
		return domain.RetentionRun{}, false, nil
	}
	r := rows[0]
	run = domain.RetentionRun{
		ID: r.ID, StartedAt: fromMicros(r.StartedAt), FinishedAt: fromMicros(r.FinishedAt),
		Cutoff: fromMicros(r.Cutoff), Error: r.Error, Purged: map[string]int64{},
	}
	_ = json.Unmarshal([]byte(r.Purged), &run.Purged)
	return run, true, nil
}
