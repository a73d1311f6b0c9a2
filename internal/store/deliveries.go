package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hookgate/hookgate/internal/domain"
)

type deliveryRow struct {
	ID            string `gorm:"primaryKey"`
	EventID       string
	EndpointID    string
	PartnerID     string
	EventType     string
	Status        string
	HeldReason    string
	Attempts      int
	NextAttemptAt *int64
	LastStatus    int
	LastError     string
	CreatedAt     int64 `gorm:"autoCreateTime:false"`
	UpdatedAt     int64 `gorm:"autoUpdateTime:false"`
}

func (deliveryRow) TableName() string { return "deliveries" }

func (r deliveryRow) domain() domain.Delivery {
	return domain.Delivery{
		ID: r.ID, EventID: r.EventID, EndpointID: r.EndpointID, PartnerID: r.PartnerID,
		EventType: r.EventType, Status: domain.DeliveryStatus(r.Status), HeldReason: r.HeldReason,
		Attempts: r.Attempts, NextAttemptAt: fromMicrosPtr(r.NextAttemptAt),
		LastStatus: r.LastStatus, LastError: r.LastError,
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
	}
}

const deliveryCols = 10

func deliveryArgs(args []any, d domain.Delivery) []any {
	return append(args, d.ID, d.EventID, d.EndpointID, d.PartnerID, d.EventType,
		string(d.Status), d.HeldReason, microsPtr(d.NextAttemptAt), micros(d.CreatedAt), micros(d.UpdatedAt))
}

// FanOut records the deliveries of a batch of events and marks the events
// fanned out, in one transaction. Deliveries that already exist (same event
// and endpoint) are skipped, so a repeated fan-out is harmless. It returns
// the deliveries actually created.
func (s *Store) FanOut(ctx context.Context, eventIDs []string, ds []domain.Delivery) ([]domain.Delivery, error) {
	created := ds[:0:0]
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		const chunk = 500
		for start := 0; start < len(ds); start += chunk {
			end := min(start+chunk, len(ds))
			part := ds[start:end]
			args := make([]any, 0, len(part)*deliveryCols)
			for _, d := range part {
				args = deliveryArgs(args, d)
			}
			var ids []string
			q := `INSERT INTO deliveries (id, event_id, endpoint_id, partner_id, event_type, status, held_reason, next_attempt_at, created_at, updated_at) VALUES ` +
				placeholders(len(part), deliveryCols) + ` ON CONFLICT (event_id, endpoint_id) DO NOTHING RETURNING id`
			if err := tx.Raw(q, args...).Scan(&ids).Error; err != nil {
				return fmt.Errorf("insert deliveries: %w", err)
			}
			if len(ids) == len(part) {
				created = append(created, part...)
				continue
			}
			got := make(map[string]bool, len(ids))
			for _, id := range ids {
				got[id] = true
			}
			for _, d := range part {
				if got[d.ID] {
					created = append(created, d)
				}
			}
		}
		for start := 0; start < len(eventIDs); start += 500 {
			end := min(start+500, len(eventIDs))
			if err := tx.Exec(`UPDATE events SET fanned_out = ? WHERE id IN ?`, true, eventIDs[start:end]).Error; err != nil {
				return fmt.Errorf("mark fanned out: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: fan out: %w", err)
	}
	return created, nil
}

// InsertDelivery records a single delivery (test sends, back-fills).
func (s *Store) InsertDelivery(ctx context.Context, d domain.Delivery) error {
	q := `INSERT INTO deliveries (id, event_id, endpoint_id, partner_id, event_type, status, held_reason, next_attempt_at, created_at, updated_at) VALUES ` +
		placeholders(1, deliveryCols)
	if err := s.db.WithContext(ctx).Exec(q, deliveryArgs(nil, d)...).Error; err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("store: delivery for event %s endpoint %s: %w", d.EventID, d.EndpointID, domain.ErrConflict)
		}
		return fmt.Errorf("store: insert delivery: %w", err)
	}
	return nil
}

// Work is what one delivery attempt needs from the database.
type Work struct {
	Delivery domain.Delivery
	Payload  []byte
}

// DeliveryWork loads a delivery and its event payload in one query.
func (s *Store) DeliveryWork(ctx context.Context, id string) (Work, error) {
	var rows []struct {
		ID            string
		EventID       string
		EndpointID    string
		PartnerID     string
		EventType     string
		Status        string
		HeldReason    string
		Attempts      int
		NextAttemptAt *int64
		LastStatus    int
		LastError     string
		CreatedAt     int64
		UpdatedAt     int64
		Payload       []byte
	}
	err := s.db.WithContext(ctx).Raw(`SELECT d.id, d.event_id, d.endpoint_id, d.partner_id, d.event_type, d.status,
			d.held_reason, d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.updated_at, e.payload
		FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id = ?`, id).Scan(&rows).Error
	if err != nil {
		return Work{}, fmt.Errorf("store: delivery work %s: %w", id, err)
	}
	if len(rows) == 0 {
		return Work{}, notFound("delivery", id)
	}
	r := rows[0]
	d := deliveryRow{
		ID: r.ID, EventID: r.EventID, EndpointID: r.EndpointID, PartnerID: r.PartnerID, EventType: r.EventType,
		Status: r.Status, HeldReason: r.HeldReason, Attempts: r.Attempts, NextAttemptAt: r.NextAttemptAt,
		LastStatus: r.LastStatus, LastError: r.LastError, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	return Work{Delivery: d.domain(), Payload: r.Payload}, nil
}

// Delivery returns a partner's delivery ("" skips the tenant check).
func (s *Store) Delivery(ctx context.Context, partnerID, id string) (domain.Delivery, error) {
	var r deliveryRow
	q := s.db.WithContext(ctx).Where("id = ?", id)
	if partnerID != "" {
		q = q.Where("partner_id = ?", partnerID)
	}
	err := q.Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.Delivery{}, notFound("delivery", id)
	}
	if err != nil {
		return domain.Delivery{}, fmt.Errorf("store: delivery %s: %w", id, err)
	}
	return r.domain(), nil
}

// DeliveryFilter narrows ListDeliveries. Zero fields do not filter.
type DeliveryFilter struct {
	PartnerID  string
	EndpointID string
	EventID    string
	EventType  string
	Status     domain.DeliveryStatus
	Since      time.Time // created at or after
	Until      time.Time // created before
}

// ListDeliveries lists deliveries newest first. The cursor is the last id
// of the previous page; ids grow with time, so pages are stable while new
// deliveries arrive (they sort before the first page).
func (s *Store) ListDeliveries(ctx context.Context, f DeliveryFilter, cursor string, limit int) (domain.Page[domain.Delivery], error) {
	var rows []deliveryRow
	if err := s.listDeliveriesQuery(ctx, f, cursor, limit).Find(&rows).Error; err != nil {
		return domain.Page[domain.Delivery]{}, fmt.Errorf("store: list deliveries: %w", err)
	}
	return pageOf(rows, limit, func(r deliveryRow) string { return r.ID }, deliveryRow.domain), nil
}

func (s *Store) deliveryQuery(ctx context.Context, f DeliveryFilter) *gorm.DB {
	q := s.db.WithContext(ctx).Model(&deliveryRow{})
	if f.PartnerID != "" {
		q = q.Where("partner_id = ?", f.PartnerID)
	}
	if f.EndpointID != "" {
		q = q.Where("endpoint_id = ?", f.EndpointID)
	}
	if f.EventID != "" {
		q = q.Where("event_id = ?", f.EventID)
	}
	if f.EventType != "" {
		q = q.Where("event_type = ?", f.EventType)
	}
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	// Ids embed their creation time (to the millisecond), so a time window
	// is also an id range, which the primary key and every (…, id) index
	// serve; created_at keeps the bounds exact to the microsecond.
	if !f.Since.IsZero() {
		q = q.Where("id >= ? AND created_at >= ?", idBound("dlv", f.Since), micros(f.Since))
	}
	if !f.Until.IsZero() {
		q = q.Where("id < ? AND created_at < ?", idBound("dlv", f.Until.Add(time.Millisecond)), micros(f.Until))
	}
	return q
}

// DueDeliveries returns pending deliveries whose next attempt is before
// dueBefore: the sweeper re-enqueues them (a duplicate enqueue is harmless
// because the task id is the delivery id).
func (s *Store) DueDeliveries(ctx context.Context, dueBefore time.Time, limit int) ([]domain.Delivery, error) {
	var rows []deliveryRow
	err := s.db.WithContext(ctx).Where("status = ? AND next_attempt_at < ?", string(domain.DeliveryPending), micros(dueBefore)).
		Order("next_attempt_at").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: due deliveries: %w", err)
	}
	out := make([]domain.Delivery, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// SetDeliveryState sets status, held reason and next attempt time of one
// delivery (hold, release, reschedule).
func (s *Store) SetDeliveryState(ctx context.Context, id string, status domain.DeliveryStatus, heldReason string, next *time.Time) error {
	res := s.db.WithContext(ctx).Model(&deliveryRow{}).Where("id = ?", id).Updates(map[string]any{
		"status": string(status), "held_reason": heldReason, "next_attempt_at": microsPtr(next),
		"updated_at": micros(time.Now()),
	})
	if res.Error != nil {
		return fmt.Errorf("store: set delivery %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("delivery", id)
	}
	return nil
}

// HeldFilter selects held deliveries to release.
type HeldFilter struct {
	EndpointID string
	PartnerID  string
	Reasons    []string // empty: any reason
}

// ReleaseHeld turns up to limit held deliveries matching f, oldest first,
// back into pending deliveries due now, and returns their ids (to enqueue).
func (s *Store) ReleaseHeld(ctx context.Context, f HeldFilter, limit int) ([]string, error) {
	var ids []string
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Model(&deliveryRow{}).Where("status = ?", string(domain.DeliveryHeld))
		if f.EndpointID != "" {
			q = q.Where("endpoint_id = ?", f.EndpointID)
		}
		if f.PartnerID != "" {
			q = q.Where("partner_id = ?", f.PartnerID)
		}
		if len(f.Reasons) > 0 {
			q = q.Where("held_reason IN ?", f.Reasons)
		}
		if err := q.Order("id").Limit(limit).Pluck("id", &ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		now := micros(time.Now())
		return tx.Model(&deliveryRow{}).Where("id IN ? AND status = ?", ids, string(domain.DeliveryHeld)).
			Updates(map[string]any{"status": string(domain.DeliveryPending), "held_reason": "", "next_attempt_at": now, "updated_at": now}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("store: release held: %w", err)
	}
	return ids, nil
}

// CountHeld counts held deliveries by reason.
func (s *Store) CountHeld(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		HeldReason string
		N          int64
	}
	err := s.db.WithContext(ctx).Model(&deliveryRow{}).Select("held_reason, COUNT(*) AS n").
		Where("status = ?", string(domain.DeliveryHeld)).Group("held_reason").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: count held: %w", err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.HeldReason] = r.N
	}
	return out, nil
}
