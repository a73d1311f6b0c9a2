package service

import (
	"context"
	"time"

	"github.com/hookgate/hookgate/internal/domain"
)

// ActivityBucket counts the deliveries created in one time bucket by
// outcome.
type ActivityBucket struct {
	Start     time.Time
	Succeeded int64
	Failed    int64
	Held      int64
	Pending   int64
}

// Total is every delivery of the bucket.
func (b ActivityBucket) Total() int64 { return b.Succeeded + b.Failed + b.Held + b.Pending }

// DeliveryActivity returns the caller's deliveries of the last buckets·width
// (oldest bucket first), counted by status: the portal dashboard's chart.
func (s *Service) DeliveryActivity(ctx context.Context, p domain.Principal, buckets int, width time.Duration) ([]ActivityBucket, error) {
	pid, err := partnerOf(p, domain.ScopeDeliveriesRead)
	if err != nil {
		return nil, err
	}
	if buckets < 1 || buckets > 200 {
		return nil, domain.Invalid("buckets", "must be from 1 to 200")
	}
	if width < time.Minute || width > 24*time.Hour {
		return nil, domain.Invalid("width", "must be from 1 minute to 24 hours")
	}
	// Buckets end at the next whole width, so they line up with the clock.
	end := s.now().Truncate(width).Add(width)
	since := end.Add(-time.Duration(buckets) * width)
	counts, err := s.d.Store.DeliveryActivity(ctx, pid, since, width)
	if err != nil {
		return nil, err
	}
	out := make([]ActivityBucket, buckets)
	for i := range out {
		out[i].Start = since.Add(time.Duration(i) * width)
	}
	for _, c := range counts {
		if c.Bucket < 0 || c.Bucket >= buckets {
			continue
		}
		b := &out[c.Bucket]
		switch c.Status {
		case domain.DeliverySucceeded:
			b.Succeeded += c.Count
		case domain.DeliveryFailed:
			b.Failed += c.Count
		case domain.DeliveryHeld:
			b.Held += c.Count
		default:
			b.Pending += c.Count
		}
	}
	return out, nil
}
