package service

import (
	"context"
	"time"

	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/internal/domain"
)

// QueueInspector reads queue depths.
type QueueInspector interface {
	Queues(ctx context.Context) ([]delivery.QueueStats, error)
}

// PartnerRate is one partner's recent delivery outcome counts.
type PartnerRate struct {
	PartnerID   string
	Succeeded   int64
	Failed      int64
	Pending     int64
	Held        int64
	FailureRate float64 // failed / (succeeded + failed)
}

// Stats is the admin's view of the gateway's health.
type Stats struct {
	At          time.Time
	Queues      []delivery.QueueStats
	Held        map[string]int64 // by reason
	IngestLag   time.Duration
	Events1h    int64
	Partners5m  []PartnerRate // deliveries created in the last 5 minutes
	Partners24h []PartnerRate
	// Retention is the last retention purge; nil before the first.
	Retention *domain.RetentionRun
}

// Stats gathers queue depths, held deliveries, ingest lag and per-partner
// delivery and failure rates (admin).
func (s *Service) Stats(ctx context.Context, p domain.Principal) (Stats, error) {
	if err := requireAdmin(p); err != nil {
		return Stats{}, err
	}
	now := s.now()
	st := Stats{At: now}
	var err error
	if s.d.Queues != nil {
		if st.Queues, err = s.d.Queues.Queues(ctx); err != nil {
			return Stats{}, errorsJoinUnavailable(err)
		}
	}
	if st.Held, err = s.d.Store.CountHeld(ctx); err != nil {
		return Stats{}, err
	}
	if st.IngestLag, err = s.d.Store.IngestLag(ctx, now); err != nil {
		return Stats{}, err
	}
	if st.Events1h, err = s.d.Store.EventsSince(ctx, now.Add(-time.Hour)); err != nil {
		return Stats{}, err
	}
	if st.Partners5m, err = s.partnerRates(ctx, now.Add(-5*time.Minute)); err != nil {
		return Stats{}, err
	}
	if st.Partners24h, err = s.partnerRates(ctx, now.Add(-24*time.Hour)); err != nil {
		return Stats{}, err
	}
	if run, ok, err := s.d.Store.LastRetentionRun(ctx); err != nil {
		return Stats{}, err
	} else if ok {
		st.Retention = &run
	}
	return st, nil
}

func (s *Service) partnerRates(ctx context.Context, since time.Time) ([]PartnerRate, error) {
	counts, err := s.d.Store.DeliveryCountsSince(ctx, since)
	if err != nil {
		return nil, err
	}
	by := map[string]*PartnerRate{}
	var order []string
	for _, c := range counts {
		r, ok := by[c.PartnerID]
		if !ok {
			r = &PartnerRate{PartnerID: c.PartnerID}
			by[c.PartnerID] = r
			order = append(order, c.PartnerID)
		}
		switch c.Status {
		case domain.DeliverySucceeded:
			r.Succeeded += c.Count
		case domain.DeliveryFailed:
			r.Failed += c.Count
		case domain.DeliveryPending:
			r.Pending += c.Count
		case domain.DeliveryHeld:
			r.Held += c.Count
		}
	}
	out := make([]PartnerRate, 0, len(order))
	for _, id := range order {
		r := by[id]
		if done := r.Succeeded + r.Failed; done > 0 {
			r.FailureRate = float64(r.Failed) / float64(done)
		}
		out = append(out, *r)
	}
	return out, nil
}
