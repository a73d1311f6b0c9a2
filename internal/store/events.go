package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hookgate/hookgate/internal/domain"
)

type eventRow struct {
	ID             string `gorm:"primaryKey"`
	Type           string
	SourceID       string
	Model          string
	RecordID       int64
	OccurredAt     int64
	ReceivedAt     int64
	IdempotencyKey *string
	Payload        []byte
	FannedOut      bool
	PartnerID      *string
	EnrichedAt     *int64 // migration 4 (Odoo connector)
}

func (eventRow) TableName() string { return "events" }

func (r eventRow) domain() domain.Event {
	e := domain.Event{
		ID: r.ID, Type: r.Type, SourceID: r.SourceID, Model: r.Model, RecordID: r.RecordID,
		OccurredAt: fromMicros(r.OccurredAt), ReceivedAt: fromMicros(r.ReceivedAt), Payload: r.Payload,
	}
	if r.IdempotencyKey != nil {
		e.IdempotencyKey = *r.IdempotencyKey
	}
	if r.PartnerID != nil {
		e.PartnerID = *r.PartnerID
	}
	e.Enriched = r.EnrichedAt != nil
	return e
}

// InsertResult is the outcome of one event in InsertEvents.
type InsertResult struct {
	// ID is the stored event's id: the new one, or the earlier event's id
	// when this one was a duplicate.
	ID        string
	Duplicate bool
	// Mismatch is set on a duplicate whose request fingerprint differs from
	// the one the key was first used with.
	Mismatch bool
}

// InsertEvents stores a batch of events in one transaction (group commit).
// Events with an IdempotencyKey already seen from the same source within
// the window are not stored again; their result names the earlier event.
func (s *Store) InsertEvents(ctx context.Context, events []domain.Event, window time.Duration, now time.Time) ([]InsertResult, error) {
	results := make([]InsertResult, len(events))
	if len(events) == 0 {
		return results, nil
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// 1. Claim idempotency keys. Duplicates inside the batch are settled
		//    in memory first: the first one wins.
		type claim struct{ idx []int }
		claims := map[[2]string]*claim{}
		var keyArgs []any
		var keyOrder [][2]string
		for i, e := range events {
			if e.IdempotencyKey == "" {
				continue
			}
			k := [2]string{e.SourceID, e.IdempotencyKey}
			if c, ok := claims[k]; ok {
				c.idx = append(c.idx, i)
				continue
			}
			claims[k] = &claim{idx: []int{i}}
			keyOrder = append(keyOrder, k)
			keyArgs = append(keyArgs, e.SourceID, e.IdempotencyKey, e.ID, micros(now.Add(window)), e.Fingerprint)
		}
		accepted := map[[2]string]bool{}
		if len(keyOrder) > 0 {
			type won struct {
				SourceID string
				Key      string
			}
			var wins []won
			q := `INSERT INTO idempotency_keys (source_id, key, event_id, expires_at, fingerprint) VALUES ` +
				placeholders(len(keyOrder), 5) +
				` ON CONFLICT (source_id, key) DO UPDATE SET event_id = excluded.event_id, expires_at = excluded.expires_at, fingerprint = excluded.fingerprint
				  WHERE idempotency_keys.expires_at < ? RETURNING source_id, key`
			if err := tx.Raw(q, append(keyArgs, micros(now))...).Scan(&wins).Error; err != nil {
				return fmt.Errorf("claim idempotency keys: %w", err)
			}
			for _, w := range wins {
				accepted[[2]string{w.SourceID, w.Key}] = true
			}
			for _, k := range keyOrder {
				c := claims[k]
				first := c.idx[0]
				if accepted[k] {
					results[first] = InsertResult{ID: events[first].ID}
					for _, j := range c.idx[1:] {
						results[j] = InsertResult{ID: events[first].ID, Duplicate: true,
							Mismatch: events[j].Fingerprint != events[first].Fingerprint}
					}
					continue
				}
				var prev []struct {
					EventID     string
					Fingerprint string
				}
				if err := tx.Raw(`SELECT event_id, fingerprint FROM idempotency_keys WHERE source_id = ? AND key = ?`, k[0], k[1]).
					Scan(&prev).Error; err != nil || len(prev) == 0 {
					return fmt.Errorf("read idempotency key: %v", err)
				}
				for _, j := range c.idx {
					results[j] = InsertResult{ID: prev[0].EventID, Duplicate: true, Mismatch: prev[0].Fingerprint != events[j].Fingerprint}
				}
			}
		}
		// 2. Insert the events that won (or carry no key) in one statement.
		var args []any
		n := 0
		for i, e := range events {
			if e.IdempotencyKey == "" {
				results[i] = InsertResult{ID: e.ID}
			} else if results[i].Duplicate {
				continue
			}
			var key *string
			if e.IdempotencyKey != "" {
				k := e.IdempotencyKey
				key = &k
			}
			var partner *string
			if e.PartnerID != "" {
				p := e.PartnerID
				partner = &p
			}
			var enriched *int64
			if e.Enriched {
				v := micros(e.ReceivedAt)
				enriched = &v
			}
			args = append(args, e.ID, e.Type, e.SourceID, e.Model, e.RecordID,
				micros(e.OccurredAt), micros(e.ReceivedAt), key, e.Payload, false, partner, enriched)
			n++
		}
		if n == 0 {
			return nil
		}
		q := `INSERT INTO events (id, type, source_id, model, record_id, occurred_at, received_at, idempotency_key, payload, fanned_out, partner_id, enriched_at) VALUES ` +
			placeholders(n, 12)
		if err := tx.Exec(q, args...).Error; err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: insert events: %w", err)
	}
	return results, nil
}

// Event returns one event.
func (s *Store) Event(ctx context.Context, id string) (domain.Event, error) {
	var r eventRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.Event{}, notFound("event", id)
	}
	if err != nil {
		return domain.Event{}, fmt.Errorf("store: event %s: %w", id, err)
	}
	return r.domain(), nil
}

// UnfannedEvents returns events accepted before olderThan whose fan-out has
// not been recorded (the process that accepted them stopped first).
func (s *Store) UnfannedEvents(ctx context.Context, olderThan time.Time, limit int) ([]domain.Event, error) {
	var rows []eventRow
	err := s.db.WithContext(ctx).Where("fanned_out = ? AND received_at < ?", false, micros(olderThan)).
		Order("received_at").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: unfanned events: %w", err)
	}
	out := make([]domain.Event, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
