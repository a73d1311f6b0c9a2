package delivery

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/delivery/signer"
	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/store"
)

// routesChannel is the Redis pub/sub channel on which processes tell each
// other that endpoints or partners changed.
const routesChannel = "hookgate:routes:changed"

// Route is a cached endpoint ready for fan-out and delivery.
type Route struct {
	store.Route
	Signer signer.Signer
}

type routeSnapshot struct {
	byID   map[string]*Route
	all    []*Route
	byType sync.Map // event type → []*Route (matching endpoints)
}

// Routes is the in-memory routing table: every live endpoint with its
// partner's state and decrypted secrets. It is reloaded when this process
// changes an endpoint or partner (Invalidate), when another process says so
// over Redis pub/sub, and every RefreshEvery as a safety net.
type Routes struct {
	store  *store.Store
	rdb    redis.UniversalClient
	log    *slog.Logger
	snap   atomic.Pointer[routeSnapshot]
	mu     sync.Mutex // serialises reloads
	gen    atomic.Uint64
	loaded atomic.Uint64
}

// NewRoutes returns an empty table; call Reload before use.
func NewRoutes(st *store.Store, rdb redis.UniversalClient, log *slog.Logger) *Routes {
	r := &Routes{store: st, rdb: rdb, log: log}
	r.snap.Store(&routeSnapshot{byID: map[string]*Route{}})
	return r
}

// Reload reads every route from the database.
func (r *Routes) Reload(ctx context.Context) error {
	want := r.gen.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.loaded.Load() >= want {
		return nil // a reload that started after our request already ran
	}
	start := r.gen.Load()
	rows, err := r.store.Routes(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	snap := &routeSnapshot{byID: make(map[string]*Route, len(rows)), all: make([]*Route, 0, len(rows))}
	for _, row := range rows {
		rt := &Route{Route: row}
		if row.Secrets.Ed25519 != "" {
			if k, err := signer.ParseEd25519Private(row.Secrets.Ed25519); err == nil {
				rt.Signer.Ed25519 = append(rt.Signer.Ed25519, k)
			}
		}
		if sec, err := signer.ParseSecret(row.Secrets.Current); err == nil {
			rt.Signer.Secrets = append(rt.Signer.Secrets, sec)
		}
		if row.Secrets.Previous != "" && row.Secrets.PreviousExpires.After(now) {
			if sec, err := signer.ParseSecret(row.Secrets.Previous); err == nil {
				rt.Signer.Secrets = append(rt.Signer.Secrets, sec)
			}
		}
		snap.byID[row.Endpoint.ID] = rt
		snap.all = append(snap.all, rt)
	}
	r.snap.Store(snap)
	r.loaded.Store(start)
	return nil
}

// Invalidate reloads this process's table now and tells other processes.
func (r *Routes) Invalidate(ctx context.Context) {
	if err := r.Reload(ctx); err != nil {
		r.log.WarnContext(ctx, "routes reload failed", "error", err)
	}
	if r.rdb != nil {
		if err := r.rdb.Publish(ctx, routesChannel, "1").Err(); err != nil {
			r.log.WarnContext(ctx, "routes change not published", "error", err)
		}
	}
}

// Get returns the cached route of an endpoint.
func (r *Routes) Get(endpointID string) (*Route, bool) {
	rt, ok := r.snap.Load().byID[endpointID]
	return rt, ok
}

// Matching returns the routes an event of type t fans out to: live
// endpoints (not disabled) of active or suspended partners whose patterns
// and entitlements both match. An operational event (partnerID set) goes
// only to that partner's endpoints that subscribe to it, whatever the
// entitlements. The result is cached per type until the next reload.
func (r *Routes) Matching(t, partnerID string) []*Route {
	snap := r.snap.Load()
	if partnerID != "" {
		var out []*Route
		for _, rt := range snap.all {
			if rt.Endpoint.PartnerID == partnerID && rt.Endpoint.Status != domain.EndpointDisabled &&
				subscribesExplicitly(rt.Endpoint.EventTypes, t) {
				out = append(out, rt)
			}
		}
		return out
	}
	if v, ok := snap.byType.Load(t); ok {
		return v.([]*Route)
	}
	var out []*Route
	for _, rt := range snap.all {
		if rt.Endpoint.Status == domain.EndpointDisabled {
			continue
		}
		if rt.PartnerStatus != domain.PartnerActive && rt.PartnerStatus != domain.PartnerSuspended {
			continue
		}
		if !domain.MatchAny(rt.Endpoint.EventTypes, t) || !domain.MatchAny(rt.Entitlements, t) {
			continue
		}
		out = append(out, rt)
	}
	snap.byType.Store(t, out)
	return out
}

// Run listens for change notices and refreshes periodically until ctx ends.
func (r *Routes) Run(ctx context.Context, refreshEvery time.Duration) {
	var msgs <-chan *redis.Message
	if r.rdb != nil {
		sub := r.rdb.Subscribe(ctx, routesChannel)
		defer sub.Close()
		msgs = sub.Channel()
	}
	t := time.NewTicker(refreshEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-msgs:
		case <-t.C:
		}
		if err := r.Reload(ctx); err != nil && ctx.Err() == nil {
			r.log.WarnContext(ctx, "routes reload failed", "error", err)
		}
	}
}

// subscribesExplicitly is MatchAny without the catch-all "*": operational
// events go only to endpoints that asked for them.
func subscribesExplicitly(patterns []string, t string) bool {
	for _, p := range patterns {
		if p != "*" && domain.MatchPattern(p, t) {
			return true
		}
	}
	return false
}
