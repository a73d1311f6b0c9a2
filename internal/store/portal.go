package store

import (
	"context"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/internal/domain"
)

// ActivityCount is how many of one partner's deliveries created in one time
// bucket are in one status.
type ActivityCount struct {
	// Bucket is the bucket's index from since: bucket i covers
	// [since + i·width, since + (i+1)·width).
	Bucket int
	Status domain.DeliveryStatus
	Count  int64
}

// DeliveryActivity counts a partner's deliveries created since t by bucket
// of width and status (the portal's dashboard chart). The window is an id
// range of the deliveries_partner index, so it stays cheap however long the
// log is.
func (s *Store) DeliveryActivity(ctx context.Context, partnerID string, since time.Time, width time.Duration) ([]ActivityCount, error) {
	if width < time.Second {
		return nil, fmt.Errorf("store: delivery activity: bucket width %s is under a second", width)
	}
	var rows []struct {
		B      int64
		Status string
		N      int64
	}
	err := s.db.WithContext(ctx).Raw(`SELECT (created_at - ?) / ? AS b, status, COUNT(*) AS n FROM deliveries
		WHERE partner_id = ? AND id >= ? AND created_at >= ? GROUP BY b, status`,
		micros(since), width.Microseconds(), partnerID, idBound("dlv", since), micros(since)).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: delivery activity: %w", err)
	}
	out := make([]ActivityCount, len(rows))
	for i, r := range rows {
		out[i] = ActivityCount{Bucket: int(r.B), Status: domain.DeliveryStatus(r.Status), Count: r.N}
	}
	return out, nil
}
