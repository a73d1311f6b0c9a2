package store

import (
	"context"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
)

// PartnerDeliveryCount is a count of deliveries of one partner in one status.
type PartnerDeliveryCount struct {
	PartnerID string
	Status    domain.DeliveryStatus
	Count     int64
}

// DeliveryCountsSince counts deliveries created since t by partner and
// status. Ids start with their creation time, so the window is a primary-key
// range.
func (s *Store) DeliveryCountsSince(ctx context.Context, t time.Time) ([]PartnerDeliveryCount, error) {
	var rows []struct {
		PartnerID string
		Status    string
		N         int64
	}
	lower := ids.Delivery + "_" + ids.NewAt("", t)[1:11] // time part only
	err := s.db.WithContext(ctx).Raw(`SELECT partner_id, status, COUNT(*) AS n FROM deliveries WHERE id >= ? GROUP BY partner_id, status`, lower).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: delivery counts: %w", err)
	}
	out := make([]PartnerDeliveryCount, len(rows))
	for i, r := range rows {
		out[i] = PartnerDeliveryCount{PartnerID: r.PartnerID, Status: domain.DeliveryStatus(r.Status), Count: r.N}
	}
	return out, nil
}

// IngestLag is the age of the oldest stored event not yet fanned out (0
// when there is none).
func (s *Store) IngestLag(ctx context.Context, now time.Time) (time.Duration, error) {
	var oldest *int64
	err := s.db.WithContext(ctx).Raw(`SELECT MIN(received_at) FROM events WHERE fanned_out = ?`, false).Scan(&oldest).Error
	if err != nil || oldest == nil {
		return 0, err
	}
	return now.Sub(fromMicros(*oldest)), nil
}

// EventsSince counts events received since t.
func (s *Store) EventsSince(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM events WHERE received_at >= ?`, micros(t)).Scan(&n).Error
	return n, err
}
