package delivery

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/store"
)

// Sweeper is the repair path: it fans out events that were stored but not
// fanned out, and re-enqueues pending deliveries that are overdue (lost
// from Redis, or whose enqueue failed). Task ids are delivery ids, so a
// delivery that is still queued is not enqueued twice. With several worker
// processes a short Redis lock lets one of them sweep per interval.
type Sweeper struct {
	Store      *store.Store
	Dispatcher *Dispatcher
	Enqueuer   *Enqueuer
	Redis      redis.UniversalClient
	Log        *slog.Logger
	Interval   time.Duration
	// Grace is how overdue work must be before it is swept (default 10s).
	Grace time.Duration
}

// Run sweeps every Interval until ctx ends.
func (s *Sweeper) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.Redis != nil {
			ok, err := s.Redis.SetNX(ctx, "hookgate:sweeper:lock", "1", s.Interval/2).Result()
			if err == nil && !ok {
				continue // another process swept this interval
			}
		}
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.Log.WarnContext(ctx, "sweep failed", "error", err)
		}
	}
}

// Sweep does one pass and reports how many events and deliveries it
// handed back to the pipeline.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	n := 0
	grace := s.Grace
	if grace <= 0 {
		grace = 10 * time.Second
	}
	cutoff := time.Now().Add(-grace)
	for {
		evs, err := s.Store.UnfannedEvents(ctx, cutoff, 500)
		if err != nil {
			return n, err
		}
		if len(evs) == 0 {
			break
		}
		if err := s.Dispatcher.FanOut(ctx, evs); err != nil {
			return n, err
		}
		n += len(evs)
		if len(evs) < 500 {
			break
		}
	}
	due, err := s.Store.DueDeliveries(ctx, cutoff, 5000)
	if err != nil {
		return n, err
	}
	for _, d := range due {
		if err := s.Enqueuer.Enqueue(ctx, d.ID, time.Time{}); err != nil {
			return n, err
		}
	}
	n += len(due)
	if n > 0 {
		s.Log.InfoContext(ctx, "sweeper re-queued work", "count", n)
	}
	return n, nil
}
