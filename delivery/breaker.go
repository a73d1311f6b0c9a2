package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/store"
)

// Operational event types sent to a partner's own endpoints about its
// endpoints' health.
const (
	OpsEndpointFailing   = "endpoint.failing"
	OpsEndpointDisabled  = "endpoint.disabled"
	OpsEndpointRecovered = "endpoint.recovered"
	OpsDeliveryExhausted = "delivery.exhausted"
)

// IsOperational reports whether t is one of the operational event types.
func IsOperational(t string) bool {
	switch t {
	case OpsEndpointFailing, OpsEndpointDisabled, OpsEndpointRecovered, OpsDeliveryExhausted:
		return true
	}
	return false
}

// OpsEmitter records an operational event for one partner.
type OpsEmitter interface {
	EmitOperational(ctx context.Context, partnerID, eventType string, data map[string]any) error
}

// Breaker is the circuit breaker shared by all workers: consecutive failed
// attempts per endpoint are counted in Redis; at Threshold the endpoint is
// paused (new and pending deliveries are held, not attempted) and probed
// with one held delivery after a back-off that doubles up to MaxBackoff. A
// successful probe closes the circuit and releases what was held; an
// endpoint failing for DisableAfter is disabled. (sony/gobreaker keeps its
// state in one process; this state must be shared by every worker.)
type Breaker struct {
	Store        *store.Store
	Redis        redis.UniversalClient
	Log          *slog.Logger
	Ops          OpsEmitter
	Enqueuer     *Enqueuer
	OnChange     func(ctx context.Context)
	Threshold    int
	FirstBackoff time.Duration
	MaxBackoff   time.Duration
	DisableAfter time.Duration
	Now          func() time.Time
}

func breakerKey(endpointID string) string { return "hookgate:breaker:" + endpointID }

// onSuccess forgets the endpoint's failures (one pipelined round trip with
// the slot release is done by the caller through pipe).
func (b *Breaker) onSuccess(pipe redis.Pipeliner, endpointID string) {
	pipe.Del(context.Background(), breakerKey(endpointID))
}

// onFailure counts a failed scheduled attempt and opens the circuit or
// disables the endpoint when due.
func (b *Breaker) onFailure(ctx context.Context, rt *Route) {
	now := b.Now()
	key := breakerKey(rt.Endpoint.ID)
	pipe := b.Redis.TxPipeline()
	n := pipe.HIncrBy(ctx, key, "n", 1)
	pipe.HSetNX(ctx, key, "since", now.UnixMilli())
	since := pipe.HGet(ctx, key, "since")
	pipe.Expire(ctx, key, b.DisableAfter+24*time.Hour)
	if _, err := pipe.Exec(ctx); err != nil {
		b.Log.WarnContext(ctx, "circuit breaker count failed", "endpoint_id", rt.Endpoint.ID, "error", err)
		return
	}
	ms, _ := strconv.ParseInt(since.Val(), 10, 64)
	failingSince := time.UnixMilli(ms).UTC()
	ep := rt.Endpoint
	switch {
	case now.Sub(failingSince) >= b.DisableAfter && ep.Status != domain.EndpointDisabled:
		b.disable(ctx, ep, domain.ReasonFailing, fmt.Sprintf("failing since %s", failingSince.Format(time.RFC3339)), &failingSince)
	case int(n.Val()) >= b.Threshold && ep.Status == domain.EndpointActive:
		next := now.Add(b.FirstBackoff)
		err := b.Store.SetEndpointHealth(ctx, ep.ID, store.EndpointHealth{
			Status: domain.EndpointPaused, Reason: domain.ReasonCircuitOpen, FailingSince: &failingSince,
			NextProbeAt: &next, ProbeBackoff: b.FirstBackoff,
		})
		if err != nil {
			b.Log.ErrorContext(ctx, "cannot open circuit", "endpoint_id", ep.ID, "error", err)
			return
		}
		b.Log.WarnContext(ctx, "circuit opened: endpoint paused", "endpoint_id", ep.ID, "consecutive_failures", n.Val())
		b.changed(ctx)
		b.emit(ctx, ep.PartnerID, OpsEndpointFailing, map[string]any{
			"endpoint_id": ep.ID, "url": ep.URL, "consecutive_failures": n.Val(),
			"failing_since": failingSince.Format(time.RFC3339), "next_probe_at": next.Format(time.RFC3339),
		})
	}
}

// Disable turns an endpoint off for good (410 Gone, or failing too long).
func (b *Breaker) disable(ctx context.Context, ep domain.Endpoint, reason, detail string, failingSince *time.Time) {
	err := b.Store.SetEndpointHealth(ctx, ep.ID, store.EndpointHealth{
		Status: domain.EndpointDisabled, Reason: reason, FailingSince: failingSince,
	})
	if err != nil {
		b.Log.ErrorContext(ctx, "cannot disable endpoint", "endpoint_id", ep.ID, "error", err)
		return
	}
	b.Log.WarnContext(ctx, "endpoint disabled", "endpoint_id", ep.ID, "reason", reason, "detail", detail)
	b.changed(ctx)
	b.emit(ctx, ep.PartnerID, OpsEndpointDisabled, map[string]any{
		"endpoint_id": ep.ID, "url": ep.URL, "reason": reason, "detail": detail,
	})
}

// probeResult handles the outcome of a half-open probe.
func (b *Breaker) probeResult(ctx context.Context, rt *Route, ok bool) {
	ep := rt.Endpoint
	if ok {
		b.close(ctx, ep)
		return
	}
	now := b.Now()
	if ep.FailingSince != nil && now.Sub(*ep.FailingSince) >= b.DisableAfter {
		b.disable(ctx, ep, domain.ReasonFailing, fmt.Sprintf("failing since %s", ep.FailingSince.Format(time.RFC3339)), ep.FailingSince)
		return
	}
	backoff, _ := b.Store.ProbeBackoff(ctx, ep.ID)
	backoff = min(max(2*backoff, b.FirstBackoff), b.MaxBackoff)
	next := now.Add(backoff)
	_ = b.Store.SetEndpointHealth(ctx, ep.ID, store.EndpointHealth{
		Status: domain.EndpointPaused, Reason: domain.ReasonCircuitOpen, FailingSince: ep.FailingSince,
		NextProbeAt: &next, ProbeBackoff: backoff,
	})
	b.changed(ctx)
}

// close ends a circuit-open period: the endpoint is active again and its
// held deliveries are released.
func (b *Breaker) close(ctx context.Context, ep domain.Endpoint) {
	if err := b.Store.SetEndpointHealth(ctx, ep.ID, store.EndpointHealth{Status: domain.EndpointActive}); err != nil {
		b.Log.ErrorContext(ctx, "cannot close circuit", "endpoint_id", ep.ID, "error", err)
		return
	}
	b.Redis.Del(ctx, breakerKey(ep.ID))
	b.changed(ctx)
	n, err := ReleaseHeld(ctx, b.Store, b.Enqueuer, store.HeldFilter{EndpointID: ep.ID, Reasons: []string{domain.ReasonCircuitOpen}})
	if err != nil {
		b.Log.WarnContext(ctx, "releasing held deliveries failed; sweeper will retry", "endpoint_id", ep.ID, "error", err)
	}
	b.Log.InfoContext(ctx, "circuit closed: endpoint recovered", "endpoint_id", ep.ID, "released", n)
	b.emit(ctx, ep.PartnerID, OpsEndpointRecovered, map[string]any{"endpoint_id": ep.ID, "url": ep.URL, "released_deliveries": n})
}

func (b *Breaker) changed(ctx context.Context) {
	if b.OnChange != nil {
		b.OnChange(ctx)
	}
}

func (b *Breaker) emit(ctx context.Context, partnerID, typ string, data map[string]any) {
	if b.Ops == nil {
		return
	}
	if err := b.Ops.EmitOperational(ctx, partnerID, typ, data); err != nil {
		b.Log.WarnContext(ctx, "operational event not recorded", "type", typ, "error", err)
	}
}

// Probe runs due half-open probes: for each circuit-open endpoint whose
// probe time has come, one held delivery is sent as the probe; with none
// held, the circuit simply closes.
func (b *Breaker) Probe(ctx context.Context) error {
	eps, err := b.Store.EndpointsToProbe(ctx, b.Now(), 100)
	if err != nil {
		return err
	}
	for _, ep := range eps {
		ok, err := b.Redis.SetNX(ctx, "hookgate:probe:"+ep.ID, "1", time.Minute).Result()
		if err != nil || !ok {
			continue // another worker probes it
		}
		ids, err := b.Store.ReleaseHeld(ctx, store.HeldFilter{EndpointID: ep.ID, Reasons: []string{domain.ReasonCircuitOpen}}, 1)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			b.close(ctx, ep)
			continue
		}
		// Push the probe time out while the probe runs.
		later := b.Now().Add(b.MaxBackoff)
		_ = b.Store.SetEndpointHealth(ctx, ep.ID, store.EndpointHealth{
			Status: domain.EndpointPaused, Reason: domain.ReasonCircuitOpen, FailingSince: ep.FailingSince, NextProbeAt: &later,
			ProbeBackoff: mustBackoff(ctx, b.Store, ep.ID),
		})
		if err := b.Enqueuer.EnqueueProbe(ctx, ids[0]); err != nil {
			return err
		}
	}
	return nil
}

func mustBackoff(ctx context.Context, st *store.Store, id string) time.Duration {
	d, _ := st.ProbeBackoff(ctx, id)
	return d
}

// Run probes every interval until ctx ends.
func (b *Breaker) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := b.Probe(ctx); err != nil && ctx.Err() == nil {
			b.Log.WarnContext(ctx, "circuit probes failed", "error", err)
		}
	}
}

// ReleaseHeld moves held deliveries matching f back to pending and enqueues
// them, in batches; it returns how many were released.
func ReleaseHeld(ctx context.Context, st *store.Store, enq interface {
	Enqueue(ctx context.Context, deliveryID string, at time.Time) error
}, f store.HeldFilter) (int, error) {
	total := 0
	for {
		ids, err := st.ReleaseHeld(ctx, f, 500)
		if err != nil {
			return total, err
		}
		for _, id := range ids {
			if err := enq.Enqueue(ctx, id, time.Time{}); err != nil {
				return total, err // pending in the database: the sweeper enqueues it
			}
		}
		total += len(ids)
		if len(ids) < 500 {
			return total, nil
		}
	}
}
