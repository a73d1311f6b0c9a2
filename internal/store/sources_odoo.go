package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/odoo"
)

// sourceOdooRow is the Odoo connector's view of a sources row.
type sourceOdooRow struct {
	ID                       string `gorm:"primaryKey"`
	OdooConfig               []byte
	Rules                    *string
	OdooUID                  int64  `gorm:"column:odoo_uid"`
	CredentialsSavedAt       *int64 `gorm:"column:credentials_saved_at"`
	ReconcileIntervalSeconds int    `gorm:"column:reconcile_interval_seconds"`
	Watermark                *int64 `gorm:"column:watermark"`
	LastReconcileAt          *int64 `gorm:"column:last_reconcile_at"`
	LastReconcileOkAt        *int64 `gorm:"column:last_reconcile_ok_at"`
	LastReconcileError       string `gorm:"column:last_reconcile_error"`
	LastReconcileScanned     int64  `gorm:"column:last_reconcile_scanned"`
	LastReconcileEmitted     int64  `gorm:"column:last_reconcile_emitted"`
	ReconciledTotal          int64  `gorm:"column:reconciled_total"`
}

func (sourceOdooRow) TableName() string { return "sources" }

// odooColumns are the columns sourceOdooRow reads.
const odooColumns = "id, odoo_config, rules, odoo_uid, credentials_saved_at, reconcile_interval_seconds, watermark, " +
	"last_reconcile_at, last_reconcile_ok_at, last_reconcile_error, last_reconcile_scanned, last_reconcile_emitted, reconciled_total"

// odooSettings decrypts and decodes a row.
func (s *Store) odooSettings(r sourceOdooRow) (domain.OdooSettings, error) {
	o := domain.OdooSettings{
		SourceID: r.ID, UID: r.OdooUID, CredentialsSavedAt: fromMicrosPtr(r.CredentialsSavedAt),
		ReconcileInterval: time.Duration(r.ReconcileIntervalSeconds) * time.Second,
		Watermark:         fromMicrosPtr(r.Watermark), LastReconcileAt: fromMicrosPtr(r.LastReconcileAt),
		LastReconcileOKAt: fromMicrosPtr(r.LastReconcileOkAt), LastReconcileError: r.LastReconcileError,
		LastScanned: r.LastReconcileScanned, LastEmitted: r.LastReconcileEmitted, ReconciledTotal: r.ReconciledTotal,
	}
	if len(r.OdooConfig) > 0 {
		plain, err := s.box.Open(r.OdooConfig, []byte(r.ID))
		if err != nil {
			return o, fmt.Errorf("store: source %s odoo credentials: %w", r.ID, err)
		}
		var c odoo.Connection
		if err := json.Unmarshal(plain, &c); err != nil {
			return o, fmt.Errorf("store: source %s odoo credentials: %w", r.ID, err)
		}
		o.Connection = &c
	}
	if r.Rules != nil && *r.Rules != "" {
		if err := json.Unmarshal([]byte(*r.Rules), &o.Rules); err != nil {
			return o, fmt.Errorf("store: source %s rules: %w", r.ID, err)
		}
		if o.Rules == nil {
			o.Rules = []odoo.Rule{}
		}
	}
	return o, nil
}

// SourceOdoo returns a source's Odoo connector settings, credentials
// decrypted.
func (s *Store) SourceOdoo(ctx context.Context, id string) (domain.OdooSettings, error) {
	var r sourceOdooRow
	err := s.db.WithContext(ctx).Select(odooColumns).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.OdooSettings{}, notFound("source", id)
	}
	if err != nil {
		return domain.OdooSettings{}, fmt.Errorf("store: source %s: %w", id, err)
	}
	return s.odooSettings(r)
}

// ListSourceOdoo returns the Odoo settings of every source, by id.
func (s *Store) ListSourceOdoo(ctx context.Context) (map[string]domain.OdooSettings, error) {
	var rows []sourceOdooRow
	if err := s.db.WithContext(ctx).Select(odooColumns).Order("id").Limit(10000).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list source odoo settings: %w", err)
	}
	out := make(map[string]domain.OdooSettings, len(rows))
	for _, r := range rows {
		o, err := s.odooSettings(r)
		if err != nil {
			return nil, err
		}
		out[r.ID] = o
	}
	return out, nil
}

// CredentialedSources returns the Odoo settings of the sources that have
// API credentials.
func (s *Store) CredentialedSources(ctx context.Context) ([]domain.OdooSettings, error) {
	var rows []sourceOdooRow
	err := s.db.WithContext(ctx).Select(odooColumns).Where("odoo_config IS NOT NULL").Order("id").Limit(10000).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: credentialed sources: %w", err)
	}
	out := make([]domain.OdooSettings, 0, len(rows))
	for _, r := range rows {
		o, err := s.odooSettings(r)
		if err != nil {
			return nil, err
		}
		if o.Connection != nil {
			out = append(out, o)
		}
	}
	return out, nil
}

// SourceOdooUpdate changes a source's connector settings; nil fields stay.
type SourceOdooUpdate struct {
	Name *string
	// Connection, when SetConnection, replaces the credentials (nil
	// removes them). New credentials set the watermark to now when there is
	// none, so reconciliation starts from the moment they were saved.
	SetConnection bool
	Connection    *odoo.Connection
	// Rules, when SetRules, replaces the rules (nil restores the defaults).
	SetRules bool
	Rules    []odoo.Rule
	// ReconcileInterval overrides the global interval (0: the default).
	ReconcileInterval *time.Duration
}

// UpdateSourceOdoo applies u to source id in one transaction.
func (s *Store) UpdateSourceOdoo(ctx context.Context, id string, u SourceOdooUpdate, now time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r sourceOdooRow
		err := tx.Select(odooColumns).Where("id = ?", id).Take(&r).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return notFound("source", id)
		}
		if err != nil {
			return fmt.Errorf("store: update source %s: %w", id, err)
		}
		set := map[string]any{"updated_at": micros(now)}
		if u.Name != nil {
			set["name"] = *u.Name
		}
		if u.SetConnection {
			if u.Connection == nil {
				set["odoo_config"], set["credentials_saved_at"], set["watermark"], set["odoo_uid"] = nil, nil, nil, 0
			} else {
				plain, err := json.Marshal(u.Connection)
				if err != nil {
					return fmt.Errorf("store: update source %s: %w", id, err)
				}
				set["odoo_config"] = s.box.Seal(plain, []byte(id))
				set["credentials_saved_at"] = micros(now)
				set["odoo_uid"] = 0
				if r.Watermark == nil {
					set["watermark"] = micros(now)
				}
			}
		}
		if u.SetRules {
			if u.Rules == nil {
				set["rules"] = nil
			} else {
				set["rules"] = mustJSON(u.Rules)
			}
		}
		if u.ReconcileInterval != nil {
			set["reconcile_interval_seconds"] = int(u.ReconcileInterval.Seconds())
		}
		if err := tx.Table("sources").Where("id = ?", id).Updates(set).Error; err != nil {
			return fmt.Errorf("store: update source %s: %w", id, err)
		}
		return nil
	})
}

// SetOdooUID records hookgate's own Odoo user for a source.
func (s *Store) SetOdooUID(ctx context.Context, id string, uid int64) error {
	if err := s.db.WithContext(ctx).Table("sources").Where("id = ?", id).Update("odoo_uid", uid).Error; err != nil {
		return fmt.Errorf("store: source %s uid: %w", id, err)
	}
	return nil
}

// SetWatermark moves a source's reconciliation watermark (backfill) and
// makes its next run due.
func (s *Store) SetWatermark(ctx context.Context, id string, at time.Time) error {
	// last_reconcile_at goes too, which makes the next run due at once.
	res := s.db.WithContext(ctx).Table("sources").Where("id = ?", id).
		Updates(map[string]any{"watermark": micros(at), "last_reconcile_at": nil})
	if res.Error != nil {
		return fmt.Errorf("store: source %s watermark: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("source", id)
	}
	return nil
}

// ReconcileRun is the outcome of one reconciliation run of a source.
type ReconcileRun struct {
	At time.Time
	// Err is "" for a successful run.
	Err              string
	Scanned, Emitted int64
	// Watermark, when set, is the new watermark. It only moves forward, and
	// never past a watermark a backfill set meanwhile (Since).
	Watermark *time.Time
	// Since is the watermark the run started from; the update is skipped
	// when the stored one changed meanwhile (a backfill).
	Since time.Time
}

// RecordReconcile stores a run's outcome and progress.
func (s *Store) RecordReconcile(ctx context.Context, id string, run ReconcileRun) error {
	set := map[string]any{
		"last_reconcile_at": micros(run.At), "last_reconcile_error": run.Err,
		"last_reconcile_scanned": run.Scanned, "last_reconcile_emitted": run.Emitted,
		"reconciled_total": gorm.Expr("reconciled_total + ?", run.Emitted),
	}
	if run.Err == "" {
		set["last_reconcile_ok_at"] = micros(run.At)
	}
	db := s.db.WithContext(ctx)
	if err := db.Table("sources").Where("id = ?", id).Updates(set).Error; err != nil {
		return fmt.Errorf("store: source %s reconcile run: %w", id, err)
	}
	if run.Watermark != nil {
		err := db.Table("sources").Where("id = ? AND watermark = ? AND odoo_config IS NOT NULL", id, micros(run.Since)).
			Update("watermark", micros(*run.Watermark)).Error
		if err != nil {
			return fmt.Errorf("store: source %s watermark: %w", id, err)
		}
	}
	return nil
}

// --- events the connector holds back or rewrites ---

// EventState is what the connector needs to know about a stored event.
type EventState struct {
	FannedOut     bool
	DroppedReason string
}

// OdooEventState returns whether an event was fanned out or dropped.
func (s *Store) OdooEventState(ctx context.Context, id string) (EventState, error) {
	var r struct {
		FannedOut     bool
		DroppedReason string
	}
	err := s.db.WithContext(ctx).Table("events").Select("fanned_out, dropped_reason").Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return EventState{}, notFound("event", id)
	}
	if err != nil {
		return EventState{}, fmt.Errorf("store: event %s: %w", id, err)
	}
	return EventState{FannedOut: r.FannedOut, DroppedReason: r.DroppedReason}, nil
}

// MarkEventEnriched replaces an event's payload (nil keeps it) and marks
// it enriched, unless it was fanned out or dropped meanwhile.
func (s *Store) MarkEventEnriched(ctx context.Context, id string, payload []byte, at time.Time) error {
	set := map[string]any{"enriched_at": micros(at)}
	if payload != nil {
		set["payload"] = payload
	}
	err := s.db.WithContext(ctx).Table("events").Where("id = ? AND fanned_out = ?", id, false).Updates(set).Error
	if err != nil {
		return fmt.Errorf("store: enrich event %s: %w", id, err)
	}
	return nil
}

// DropEvent records that an event will never be delivered and why; it is
// marked fanned out (with no deliveries) so the sweeper leaves it alone.
func (s *Store) DropEvent(ctx context.Context, id, reason string) error {
	err := s.db.WithContext(ctx).Table("events").Where("id = ? AND fanned_out = ?", id, false).
		Updates(map[string]any{"dropped_reason": reason, "fanned_out": true}).Error
	if err != nil {
		return fmt.Errorf("store: drop event %s: %w", id, err)
	}
	return nil
}

// ClaimedIdempotencyKeys returns which of keys a source has already used
// within the deduplication window.
func (s *Store) ClaimedIdempotencyKeys(ctx context.Context, sourceID string, keys []string, now time.Time) (map[string]bool, error) {
	out := make(map[string]bool, len(keys))
	for start := 0; start < len(keys); start += 500 {
		end := min(start+500, len(keys))
		var found []string
		err := s.db.WithContext(ctx).Table("idempotency_keys").Select("key").
			Where("source_id = ? AND key IN ? AND expires_at >= ?", sourceID, keys[start:end], micros(now)).
			Scan(&found).Error
		if err != nil {
			return nil, fmt.Errorf("store: idempotency keys: %w", err)
		}
		for _, k := range found {
			out[k] = true
		}
	}
	return out, nil
}

// --- record states ---

// OdooRecordStates returns the last states saved for ids of model.
func (s *Store) OdooRecordStates(ctx context.Context, sourceID, model string, ids []int64) (map[int64]domain.OdooRecordState, error) {
	out := make(map[int64]domain.OdooRecordState, len(ids))
	for start := 0; start < len(ids); start += 500 {
		end := min(start+500, len(ids))
		var rows []struct {
			RecordID  int64
			EventType string
			WriteDate int64
		}
		err := s.db.WithContext(ctx).Table("odoo_record_states").Select("record_id, event_type, write_date").
			Where("source_id = ? AND model = ? AND record_id IN ?", sourceID, model, ids[start:end]).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("store: odoo record states: %w", err)
		}
		for _, r := range rows {
			out[r.RecordID] = domain.OdooRecordState{RecordID: r.RecordID, EventType: r.EventType, WriteDate: fromMicros(r.WriteDate)}
		}
	}
	return out, nil
}

// SaveOdooRecordStates upserts record states; a state never replaces one
// with a later write_date.
func (s *Store) SaveOdooRecordStates(ctx context.Context, sourceID, model string, states []domain.OdooRecordState, now time.Time) error {
	// One row per record per statement (PostgreSQL refuses to update a row
	// twice in one INSERT … ON CONFLICT): keep each record's latest.
	latest := make(map[int64]int, len(states))
	uniq := states[:0:0]
	for _, st := range states {
		if i, ok := latest[st.RecordID]; ok {
			if !st.WriteDate.Before(uniq[i].WriteDate) {
				uniq[i] = st
			}
			continue
		}
		latest[st.RecordID] = len(uniq)
		uniq = append(uniq, st)
	}
	states = uniq
	for start := 0; start < len(states); start += 200 {
		end := min(start+200, len(states))
		part := states[start:end]
		args := make([]any, 0, len(part)*6)
		for _, st := range part {
			args = append(args, sourceID, model, st.RecordID, st.EventType, micros(st.WriteDate), micros(now))
		}
		q := `INSERT INTO odoo_record_states (source_id, model, record_id, event_type, write_date, updated_at) VALUES ` +
			placeholders(len(part), 6) +
			` ON CONFLICT (source_id, model, record_id) DO UPDATE SET event_type = excluded.event_type,
			  write_date = excluded.write_date, updated_at = excluded.updated_at
			  WHERE odoo_record_states.write_date <= excluded.write_date`
		if err := s.db.WithContext(ctx).Exec(q, args...).Error; err != nil {
			return fmt.Errorf("store: save odoo record states: %w", err)
		}
	}
	return nil
}
