package delivery

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// FanOutDeps are what a Dispatcher needs.
type FanOutDeps struct {
	Store    *store.Store
	Routes   *Routes
	Enqueuer *Enqueuer
	Log      *slog.Logger
	// Observe, when set, is told of every delivery created (metrics).
	Observe func(d domain.Delivery)
	// Quota, when set, holds deliveries beyond a partner's monthly quota.
	Quota QuotaGate
	// Enricher, when set, names the events that must be enriched (Odoo
	// connector) before fan-out: FanOut enqueues TaskEnrich for them
	// instead of fanning them out, and the task fans them out once done.
	Enricher Enricher
}

// Dispatcher turns accepted events into deliveries: it matches each event
// against the routing table, records the deliveries and marks the events
// fanned out in one transaction, then enqueues the first attempts. Events
// reach it straight from ingest (no queue hop); if the process stops first,
// the sweeper finds the events still marked not fanned out.
type Dispatcher struct {
	d       FanOutDeps
	in      chan domain.Event
	workers int
	wg      sync.WaitGroup
}

// NewDispatcher returns a dispatcher with a bounded inbox.
func NewDispatcher(d FanOutDeps) *Dispatcher {
	return &Dispatcher{d: d, in: make(chan domain.Event, 16384), workers: 2}
}

// Submit hands freshly stored events to fan-out without waiting. When the
// inbox is full the events stay in the database, not fanned out, and the
// sweeper picks them up: accepted data is never lost.
func (f *Dispatcher) Submit(events []domain.Event) {
	for i, e := range events {
		select {
		case f.in <- e:
		default:
			f.d.Log.Warn("fan-out inbox full; sweeper will fan out the rest", "pending", len(events)-i)
			return
		}
	}
}

// Run fans out submitted events until ctx ends, then drains the inbox.
func (f *Dispatcher) Run(ctx context.Context) {
	for range f.workers {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.loop(ctx)
		}()
	}
	f.wg.Wait()
}

func (f *Dispatcher) loop(ctx context.Context) {
	batch := make([]domain.Event, 0, 256)
	for {
		var first domain.Event
		select {
		case first = <-f.in:
		case <-ctx.Done():
			return
		}
		batch = append(batch[:0], first)
	more:
		for len(batch) < cap(batch) {
			select {
			case e := <-f.in:
				batch = append(batch, e)
			default:
				break more
			}
		}
		// Fan-out outlives a cancelled ctx for the batch in hand, so a
		// shutdown does not leave half-recorded work.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		if err := f.FanOut(bctx, batch); err != nil {
			f.d.Log.Warn("fan-out failed; sweeper will retry", "events", len(batch), "error", err)
		}
		cancel()
	}
}

// FanOut records and enqueues the deliveries of events. It is idempotent:
// deliveries that exist already are not created or enqueued twice.
func (f *Dispatcher) FanOut(ctx context.Context, events []domain.Event) error {
	if events = f.holdForEnrichment(ctx, events); len(events) == 0 {
		return nil
	}
	now := time.Now().UTC()
	eventIDs := make([]string, len(events))
	var ds []domain.Delivery
	for i, e := range events {
		eventIDs[i] = e.ID
		for _, rt := range f.d.Routes.Matching(e.Type, e.PartnerID) {
			d := domain.Delivery{
				ID: ids.NewAt(ids.Delivery, now), EventID: e.ID, EndpointID: rt.Endpoint.ID,
				PartnerID: rt.Endpoint.PartnerID, EventType: e.Type, Status: domain.DeliveryPending,
				CreatedAt: now, UpdatedAt: now,
			}
			if reason := holdReason(rt); reason != "" {
				d.Status, d.HeldReason = domain.DeliveryHeld, reason
			} else {
				t := now
				d.NextAttemptAt = &t
			}
			ds = append(ds, d)
		}
	}
	quota, err := f.admitQuota(ctx, ds, now) // holds what exceeds a monthly quota
	if err != nil {
		return err
	}
	created, err := f.d.Store.FanOut(ctx, eventIDs, ds)
	quota.settle(ctx, created, err)
	if err != nil {
		return err
	}
	return f.enqueueAll(ctx, created)
}

// enqueueAll enqueues pending deliveries concurrently (bounded): each
// enqueue is one Redis round trip.
func (f *Dispatcher) enqueueAll(ctx context.Context, ds []domain.Delivery) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, d := range ds {
		if f.d.Observe != nil {
			f.d.Observe(d)
		}
		if d.Status != domain.DeliveryPending {
			continue
		}
		g.Go(func() error { return f.d.Enqueuer.EnqueueFor(gctx, d, time.Time{}) })
	}
	// A failed enqueue is not lost: the delivery is pending in the
	// database and the sweeper enqueues it.
	return g.Wait()
}
