package store

import (
	"context"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/hookgate/hookgate/internal/domain"
)

// idAt is the smallest id with the prefix whose time part is t: ids are
// ULIDs, so every id made at or after t sorts at or after it.
func idAt(prefix string, t time.Time) string {
	var u ulid.ULID
	_ = u.SetTime(ulid.Timestamp(t))
	return prefix + "_" + u.String()
}

// QuotaUsage counts the deliveries that count against a partner's monthly
// quota in the calendar month (UTC) of at: every delivery created that
// month except those held for quota, plus those released from a quota hold
// that month. This is the system of record the fast counters are
// reconciled from.
func (s *Store) QuotaUsage(ctx context.Context, partnerID string, at time.Time) (int64, error) {
	start, end := domain.PeriodBounds(at)
	var n int64
	err := s.db.WithContext(ctx).Raw(`SELECT
			(SELECT COUNT(*) FROM deliveries WHERE partner_id = ? AND id >= ? AND id < ? AND quota_period IS NULL
				AND NOT (status = ? AND held_reason = ?))
		  + (SELECT COUNT(*) FROM deliveries WHERE partner_id = ? AND quota_period = ?
				AND NOT (status = ? AND held_reason = ?))`,
		partnerID, idAt("dlv", start), idAt("dlv", end), string(domain.DeliveryHeld), domain.HeldQuota,
		partnerID, domain.Period(at), string(domain.DeliveryHeld), domain.HeldQuota).Scan(&n).Error
	if err != nil {
		return 0, fmt.Errorf("store: quota usage of %s: %w", partnerID, err)
	}
	return n, nil
}

// HeldCounts counts a partner's held deliveries by reason.
func (s *Store) HeldCounts(ctx context.Context, partnerID string) (map[string]int64, error) {
	var rows []struct {
		HeldReason string
		N          int64
	}
	err := s.db.WithContext(ctx).Model(&deliveryRow{}).Select("held_reason, COUNT(*) AS n").
		Where("partner_id = ? AND status = ?", partnerID, string(domain.DeliveryHeld)).
		Group("held_reason").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: held counts of %s: %w", partnerID, err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.HeldReason] = r.N
	}
	return out, nil
}

// PartnersWithHeld lists the partners that have deliveries held for one of
// reasons.
func (s *Store) PartnersWithHeld(ctx context.Context, reasons []string) ([]string, error) {
	var ids []string
	err := s.db.WithContext(ctx).Model(&deliveryRow{}).Distinct("partner_id").
		Where("status = ? AND held_reason IN ?", string(domain.DeliveryHeld), reasons).
		Order("partner_id").Limit(10000).Pluck("partner_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("store: partners with held deliveries: %w", err)
	}
	return ids, nil
}

// ActiveEndpointIDs lists a partner's endpoints that are live and active:
// the ones held deliveries may be released to.
func (s *Store) ActiveEndpointIDs(ctx context.Context, partnerID string) ([]string, error) {
	var ids []string
	err := s.db.WithContext(ctx).Model(&endpointRow{}).
		Where("partner_id = ? AND status = ? AND deleted_at IS NULL", partnerID, string(domain.EndpointActive)).
		Order("id").Pluck("id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("store: active endpoints of %s: %w", partnerID, err)
	}
	return ids, nil
}

// HeldDeliveries returns up to limit of a partner's deliveries held for
// one of reasons on one of endpointIDs, oldest first.
func (s *Store) HeldDeliveries(ctx context.Context, partnerID string, reasons, endpointIDs []string, limit int) ([]domain.Delivery, error) {
	if len(endpointIDs) == 0 || len(reasons) == 0 {
		return nil, nil
	}
	var rows []deliveryRow
	err := s.db.WithContext(ctx).
		Where("partner_id = ? AND status = ? AND held_reason IN ? AND endpoint_id IN ?",
			partnerID, string(domain.DeliveryHeld), reasons, endpointIDs).
		Order("id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: held deliveries of %s: %w", partnerID, err)
	}
	out := make([]domain.Delivery, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// ReleaseDeliveries turns the listed deliveries that are still held into
// pending deliveries due at `at`, counted against the quota of at's month,
// and returns the ids it released (a concurrent release takes the others).
func (s *Store) ReleaseDeliveries(ctx context.Context, ids []string, at time.Time) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var released []string
	now := micros(at)
	err := s.db.WithContext(ctx).Raw(`UPDATE deliveries SET status = ?, held_reason = '', next_attempt_at = ?, updated_at = ?, quota_period = ?
		WHERE id IN ? AND status = ? RETURNING id`,
		string(domain.DeliveryPending), now, now, domain.Period(at), ids, string(domain.DeliveryHeld)).Scan(&released).Error
	if err != nil {
		return nil, fmt.Errorf("store: release deliveries: %w", err)
	}
	return released, nil
}
