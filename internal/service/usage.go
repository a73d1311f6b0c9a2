package service

import (
	"context"

	"github.com/hookgate/hookgate/internal/domain"
)

// Usage reports the caller's use of its quota this calendar month (UTC):
// deliveries counted against the monthly quota, deliveries held (by
// reason) and endpoints.
func (s *Service) Usage(ctx context.Context, p domain.Principal) (domain.Usage, error) {
	pid, err := partnerOf(p, "")
	if err != nil {
		return domain.Usage{}, err
	}
	partner, err := s.d.Store.Partner(ctx, pid)
	if err != nil {
		return domain.Usage{}, err
	}
	now := s.now()
	used, err := s.d.Store.QuotaUsage(ctx, pid, now)
	if err != nil {
		return domain.Usage{}, err
	}
	held, err := s.d.Store.HeldCounts(ctx, pid)
	if err != nil {
		return domain.Usage{}, err
	}
	eps, err := s.d.Store.CountEndpoints(ctx, pid)
	if err != nil {
		return domain.Usage{}, err
	}
	u := domain.Usage{Period: domain.Period(now), Deliveries: used, HeldBy: held, Endpoints: eps, Quota: partner.Quota}
	for _, n := range held {
		u.Held += n
	}
	return u, nil
}

// QuotaControl releases quota-held deliveries and forgets cached usage
// counts (delivery.QuotaReleaser).
type QuotaControl interface {
	ResetUsage(ctx context.Context, partnerID string) error
	Release(ctx context.Context, partnerID string, maxBatches int) (int, error)
}

// releaseQuota releases what a partner's quota now allows, synchronously
// up to 5,000 deliveries (the worker's periodic check does the rest).
func (s *Service) releaseQuota(ctx context.Context, partnerID string, quotaChanged bool) {
	if s.d.Quota == nil {
		return
	}
	if quotaChanged {
		if err := s.d.Quota.ResetUsage(ctx, partnerID); err != nil {
			s.d.Log.WarnContext(ctx, "quota counter not reset", "partner_id", partnerID, "error", err)
		}
	}
	n, err := s.d.Quota.Release(ctx, partnerID, 10)
	if err != nil {
		s.d.Log.WarnContext(ctx, "releasing quota-held deliveries failed; the worker retries", "partner_id", partnerID, "error", err)
	}
	if n > 0 {
		s.d.Log.InfoContext(ctx, "quota-held deliveries released", "partner_id", partnerID, "count", n)
	}
}
