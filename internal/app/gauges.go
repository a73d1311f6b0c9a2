package app

import (
	"context"
	"time"

	"github.com/hookgate/hookgate/delivery"
)

// runGauges refreshes the gauges that describe shared state (queue depths,
// oldest pending task, held deliveries) every interval.
func (a *App) runGauges(ctx context.Context, every time.Duration) {
	in := delivery.NewInspector(a.Redis)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		a.updateGauges(ctx, in)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *App) updateGauges(ctx context.Context, in *delivery.Inspector) {
	if qs, err := in.Queues(ctx); err == nil {
		for _, q := range qs {
			a.Metrics.QueueDepth.WithLabelValues(q.Queue, "pending").Set(float64(q.Pending))
			a.Metrics.QueueDepth.WithLabelValues(q.Queue, "active").Set(float64(q.Active))
			a.Metrics.QueueDepth.WithLabelValues(q.Queue, "scheduled").Set(float64(q.Scheduled))
			a.Metrics.QueueDepth.WithLabelValues(q.Queue, "retry").Set(float64(q.Retry))
			a.Metrics.QueueOldest.WithLabelValues(q.Queue).Set(q.OldestPending.Seconds())
		}
	}
	if held, err := a.Store.CountHeld(ctx); err == nil {
		a.Metrics.HeldDeliveries.Reset()
		for reason, n := range held {
			a.Metrics.HeldDeliveries.WithLabelValues(reason).Set(float64(n))
		}
	}
	if lag, err := a.Store.IngestLag(ctx, time.Now()); err == nil {
		a.Metrics.IngestLag.Set(lag.Seconds())
	}
}
