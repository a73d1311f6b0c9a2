package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookgate/hookgate/internal/catalog"
	"github.com/hookgate/hookgate/internal/crypto"
	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/testenv"
)

// open returns a migrated store on the backend.
func open(t *testing.T, b testenv.Backend) *store.Store {
	t.Helper()
	box, err := crypto.NewBox(crypto.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	u := b.URL(t)
	o := store.Options{Box: box}
	if b.Name == "postgres" {
		o.PostgresURL = u
	} else {
		o.SQLitePath = u[len("sqlite:"):]
	}
	st, err := store.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Migrating twice is a no-op.
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestConformance runs the same storage suite on SQLite and PostgreSQL.
func TestConformance(t *testing.T) {
	for _, b := range testenv.Backends {
		t.Run(b.Name, func(t *testing.T) {
			st := open(t, b)
			for _, c := range []struct {
				name string
				f    func(t *testing.T, st *store.Store)
			}{
				{"partners", testPartners},
				{"api keys", testAPIKeys},
				{"sources", testSources},
				{"catalogue", testCatalogue},
				{"endpoints", testEndpoints},
				{"events and idempotency", testEvents},
				{"fan-out and deliveries", testDeliveries},
			} {
				t.Run(c.name, func(t *testing.T) { c.f(t, st) })
			}
		})
	}
}

var ctx = context.Background()

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func newPartner(t *testing.T, st *store.Store, status domain.PartnerStatus) domain.Partner {
	t.Helper()
	n := now()
	p := domain.Partner{ID: ids.New(ids.Partner), Name: "P", Email: "p@example.com", Status: status,
		Entitlements: []string{"order.*"}, Quota: domain.Quota{MonthlyDeliveries: 10, MaxEndpoints: 2, MaxRatePerSecond: 5},
		CreatedAt: n, UpdatedAt: n}
	if err := st.CreatePartner(ctx, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func testPartners(t *testing.T, st *store.Store) {
	p := newPartner(t, st, domain.PartnerPending)
	got, err := st.Partner(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if _, err := st.Partner(ctx, "ptn_missing"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("missing partner: %v", err)
	}
	if err := st.CreatePartner(ctx, p); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("duplicate id: %v", err)
	}
	p.Status = domain.PartnerActive
	p.Entitlements = []string{"*"}
	if err := st.UpdatePartner(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, _ = st.Partner(ctx, p.ID)
	if got.Status != domain.PartnerActive || !cmp.Equal(got.Entitlements, []string{"*"}) {
		t.Errorf("update: %+v", got)
	}
	pending := newPartner(t, st, domain.PartnerPending)
	page, err := st.ListPartners(ctx, store.PartnerFilter{Status: domain.PartnerPending}, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range page.Items {
		if x.Status != domain.PartnerPending {
			t.Errorf("status filter returned %s", x.Status)
		}
		found = found || x.ID == pending.ID
	}
	if !found {
		t.Error("pending partner not listed")
	}
	// Pagination: limit 1 walks every partner exactly once.
	seen := map[string]bool{}
	cursor := ""
	for {
		pg, err := st.ListPartners(ctx, store.PartnerFilter{}, cursor, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range pg.Items {
			if seen[x.ID] {
				t.Errorf("partner %s listed twice", x.ID)
			}
			seen[x.ID] = true
		}
		if pg.NextCursor == "" {
			break
		}
		cursor = pg.NextCursor
	}
	if len(seen) < 2 {
		t.Errorf("paged through %d partners", len(seen))
	}
}

func testAPIKeys(t *testing.T, st *store.Store) {
	p := newPartner(t, st, domain.PartnerActive)
	exp := now().Add(time.Hour)
	k := domain.APIKey{ID: ids.New(ids.APIKey), PartnerID: p.ID, Name: "ci", Prefix: "hg_abc", Scopes: []string{"endpoints:read"}, ExpiresAt: &exp, CreatedAt: now()}
	if err := st.CreateAPIKey(ctx, k, "hash-1"); err != nil {
		t.Fatal(err)
	}
	got, err := st.APIKeyByHash(ctx, "hash-1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(k, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if err := st.RevokeAPIKey(ctx, "ptn_other", k.ID, now()); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("another partner revoked the key: %v", err)
	}
	if err := st.RevokeAPIKey(ctx, p.ID, k.ID, now()); err != nil {
		t.Fatal(err)
	}
	got, _ = st.APIKeyByHash(ctx, "hash-1")
	if got.RevokedAt == nil {
		t.Error("revocation not stored")
	}
	keys, _ := st.ListAPIKeys(ctx, p.ID)
	if len(keys) != 1 {
		t.Errorf("listed %d keys", len(keys))
	}
}

func testSources(t *testing.T, st *store.Store) {
	n := now()
	s := domain.Source{ID: ids.New(ids.Source), Name: "odoo", Kind: domain.SourceOdoo, CreatedAt: n, UpdatedAt: n}
	if err := st.CreateSource(ctx, s, "tok-1"); err != nil {
		t.Fatal(err)
	}
	if got, err := st.SourceByTokenHash(ctx, "tok-1", n); err != nil || got.ID != s.ID {
		t.Fatalf("by token: %v %v", got, err)
	}
	if err := st.RotateSourceToken(ctx, s.ID, "tok-2", n.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		hash string
		at   time.Time
		ok   bool
	}{{"tok-2", n, true}, {"tok-1", n, true}, {"tok-1", n.Add(2 * time.Hour), false}, {"tok-3", n, false}} {
		_, err := st.SourceByTokenHash(ctx, c.hash, c.at)
		if (err == nil) != c.ok {
			t.Errorf("token %s at +%s: err %v, want ok=%v", c.hash, c.at.Sub(n), err, c.ok)
		}
	}
}

func testCatalogue(t *testing.T, st *store.Store) {
	seed := catalog.Seed(now())
	if err := st.SeedEventTypes(ctx, seed); err != nil {
		t.Fatal(err)
	}
	et := seed[0]
	et.Description = "edited by an admin"
	if err := st.UpdateEventType(ctx, et); err != nil {
		t.Fatal(err)
	}
	if err := st.SeedEventTypes(ctx, seed); err != nil { // re-seeding keeps edits
		t.Fatal(err)
	}
	got, err := st.EventType(ctx, et.Name)
	if err != nil || got.Description != "edited by an admin" {
		t.Errorf("seed overwrote an edit: %+v %v", got, err)
	}
	all, _ := st.ListEventTypes(ctx)
	if len(all) != len(seed) {
		t.Errorf("%d types, want %d", len(all), len(seed))
	}
	if err := st.CreateEventType(ctx, et); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("duplicate type: %v", err)
	}
}

func newEndpoint(t *testing.T, st *store.Store, p domain.Partner, status domain.EndpointStatus) domain.Endpoint {
	t.Helper()
	n := now()
	e := domain.Endpoint{ID: ids.New(ids.Endpoint), PartnerID: p.ID, URL: "https://example.com/h", EventTypes: []string{"order.*"},
		Status: status, RetrySchedule: []time.Duration{time.Second, time.Minute}, Headers: map[string]string{"X-A": "b"},
		CreatedAt: n, UpdatedAt: n}
	if err := st.CreateEndpoint(ctx, e, "whsec_secret-"+e.ID); err != nil {
		t.Fatal(err)
	}
	return e
}

func testEndpoints(t *testing.T, st *store.Store) {
	p := newPartner(t, st, domain.PartnerActive)
	other := newPartner(t, st, domain.PartnerActive)
	e := newEndpoint(t, st, p, domain.EndpointActive)
	got, err := st.Endpoint(ctx, p.ID, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if _, err := st.Endpoint(ctx, other.ID, e.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("another partner read the endpoint: %v", err)
	}
	sec, err := st.EndpointSecrets(ctx, p.ID, e.ID)
	if err != nil || sec.Current != "whsec_secret-"+e.ID {
		t.Fatalf("secret: %v %v", sec, err)
	}
	// The secret is not stored in the clear.
	var raw []byte
	st.DB().Raw("SELECT secret FROM endpoints WHERE id = ?", e.ID).Scan(&raw)
	if len(raw) == 0 || string(raw) == sec.Current || containsBytes(raw, []byte("whsec_")) {
		t.Errorf("secret stored in the clear: %q", raw)
	}
	if err := st.RotateEndpointSecret(ctx, p.ID, e.ID, "whsec_new", now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	sec, _ = st.EndpointSecrets(ctx, p.ID, e.ID)
	if sec.Current != "whsec_new" || sec.Previous != "whsec_secret-"+e.ID {
		t.Errorf("rotation: %+v", sec)
	}
	if n, _ := st.CountEndpoints(ctx, p.ID); n != 1 {
		t.Errorf("count %d", n)
	}
	routes, err := st.Routes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rt *store.Route
	for i := range routes {
		if routes[i].Endpoint.ID == e.ID {
			rt = &routes[i]
		}
	}
	if rt == nil || rt.Secrets.Current != "whsec_new" || rt.PartnerStatus != domain.PartnerActive {
		t.Errorf("route: %+v", rt)
	}
	if err := st.DeleteEndpoint(ctx, other.ID, e.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("another partner deleted the endpoint: %v", err)
	}
	if err := st.DeleteEndpoint(ctx, p.ID, e.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Endpoint(ctx, p.ID, e.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("deleted endpoint still readable: %v", err)
	}
}

func containsBytes(b, sub []byte) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == string(sub) {
			return true
		}
	}
	return false
}

func newEvent(src, key string) domain.Event {
	n := now()
	return domain.Event{ID: ids.New(ids.Event), Type: "order.confirmed", SourceID: src, Model: "sale.order", RecordID: 1,
		OccurredAt: n, ReceivedAt: n, IdempotencyKey: key, Payload: []byte(`{"x":1}`)}
}

func testEvents(t *testing.T, st *store.Store) {
	a, b, c := newEvent("src_a", "k1"), newEvent("src_a", "k1"), newEvent("src_b", "k1")
	d := newEvent("src_a", "")
	res, err := st.InsertEvents(ctx, []domain.Event{a, b, c, d}, time.Hour, now())
	if err != nil {
		t.Fatal(err)
	}
	want := []store.InsertResult{{ID: a.ID}, {ID: a.ID, Duplicate: true}, {ID: c.ID}, {ID: d.ID}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("batch (-want +got):\n%s", diff)
	}
	// The same key in a later batch is a duplicate of the stored event…
	e := newEvent("src_a", "k1")
	res, _ = st.InsertEvents(ctx, []domain.Event{e}, time.Hour, now())
	if res[0].ID != a.ID || !res[0].Duplicate {
		t.Errorf("later duplicate: %+v", res)
	}
	// …until the window has passed.
	res, _ = st.InsertEvents(ctx, []domain.Event{e}, time.Hour, now().Add(2*time.Hour))
	if res[0].ID != e.ID || res[0].Duplicate {
		t.Errorf("after the window: %+v", res)
	}
	got, err := st.Event(ctx, a.ID)
	if err != nil || string(got.Payload) != `{"x":1}` {
		t.Errorf("event: %+v %v", got, err)
	}
	un, _ := st.UnfannedEvents(ctx, now().Add(time.Minute), 100)
	if len(un) < 4 {
		t.Errorf("%d unfanned events, want >= 4", len(un))
	}
}

func testDeliveries(t *testing.T, st *store.Store) {
	p := newPartner(t, st, domain.PartnerActive)
	e1 := newEndpoint(t, st, p, domain.EndpointActive)
	e2 := newEndpoint(t, st, p, domain.EndpointActive)
	ev := newEvent("src_d", "")
	if _, err := st.InsertEvents(ctx, []domain.Event{ev}, time.Hour, now()); err != nil {
		t.Fatal(err)
	}
	n := now()
	mk := func(ep domain.Endpoint) domain.Delivery {
		return domain.Delivery{ID: ids.New(ids.Delivery), EventID: ev.ID, EndpointID: ep.ID, PartnerID: p.ID,
			EventType: ev.Type, Status: domain.DeliveryPending, NextAttemptAt: &n, CreatedAt: n, UpdatedAt: n}
	}
	ds := []domain.Delivery{mk(e1), mk(e2)}
	created, err := st.FanOut(ctx, []string{ev.ID}, ds)
	if err != nil || len(created) != 2 {
		t.Fatalf("fan-out: %d %v", len(created), err)
	}
	// Fanning out again creates nothing new.
	again, err := st.FanOut(ctx, []string{ev.ID}, []domain.Delivery{mk(e1)})
	if err != nil || len(again) != 0 {
		t.Errorf("repeat fan-out created %d (%v)", len(again), err)
	}
	un, _ := st.UnfannedEvents(ctx, now().Add(time.Minute), 1000)
	for _, u := range un {
		if u.ID == ev.ID {
			t.Error("event still marked not fanned out")
		}
	}
	w, err := st.DeliveryWork(ctx, ds[0].ID)
	if err != nil || string(w.Payload) != `{"x":1}` || w.Delivery.EndpointID != e1.ID {
		t.Fatalf("work: %+v %v", w, err)
	}
	next := n.Add(time.Minute)
	out := []store.Outcome{
		{Attempt: domain.Attempt{ID: ids.New(ids.Attempt), DeliveryID: ds[0].ID, EndpointID: e1.ID, PartnerID: p.ID, Number: 1,
			Trigger: domain.TriggerScheduled, StartedAt: n, Duration: 1500 * time.Microsecond, RequestURL: "https://example.com/h",
			RequestHeaders: map[string]string{"Webhook-Id": ev.ID}, ResponseStatus: 503, ResponseHeaders: map[string]string{"Retry-After": "5"},
			ResponseBody: []byte("busy"), ErrorClass: "http_status", Error: "HTTP 503"},
			Status: domain.DeliveryPending, Attempts: 1, NextAttemptAt: &next},
		{Attempt: domain.Attempt{ID: ids.New(ids.Attempt), DeliveryID: ds[1].ID, EndpointID: e2.ID, PartnerID: p.ID, Number: 1,
			Trigger: domain.TriggerScheduled, StartedAt: n, RequestHeaders: map[string]string{}, ResponseStatus: 200},
			Status: domain.DeliverySucceeded, Attempts: 1},
	}
	if err := st.RecordOutcomes(ctx, out); err != nil {
		t.Fatal(err)
	}
	d0, _ := st.Delivery(ctx, p.ID, ds[0].ID)
	if d0.Status != domain.DeliveryPending || d0.Attempts != 1 || d0.LastStatus != 503 || d0.NextAttemptAt == nil || !d0.NextAttemptAt.Equal(next) {
		t.Errorf("delivery after outcome: %+v", d0)
	}
	atts, err := st.Attempts(ctx, p.ID, ds[0].ID)
	if err != nil || len(atts) != 1 {
		t.Fatalf("attempts: %v %v", atts, err)
	}
	if diff := cmp.Diff(out[0].Attempt, atts[0]); diff != "" {
		t.Errorf("attempt round trip (-want +got):\n%s", diff)
	}
	if _, err := st.Attempts(ctx, "ptn_other", ds[0].ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("another partner read attempts: %v", err)
	}
	page, _ := st.ListDeliveries(ctx, store.DeliveryFilter{PartnerID: p.ID, Status: domain.DeliverySucceeded}, "", 10)
	if len(page.Items) != 1 || page.Items[0].ID != ds[1].ID {
		t.Errorf("status filter: %+v", page.Items)
	}
	page, _ = st.ListDeliveries(ctx, store.DeliveryFilter{PartnerID: p.ID, EndpointID: e1.ID}, "", 10)
	if len(page.Items) != 1 || page.Items[0].ID != ds[0].ID {
		t.Errorf("endpoint filter: %+v", page.Items)
	}
	due, _ := st.DueDeliveries(ctx, next.Add(time.Second), 10)
	found := false
	for _, d := range due {
		found = found || d.ID == ds[0].ID
		if d.ID == ds[1].ID {
			t.Error("a succeeded delivery is due")
		}
	}
	if !found {
		t.Error("the pending delivery is not due after its next attempt time")
	}
	if err := st.SetDeliveryState(ctx, ds[0].ID, domain.DeliveryHeld, "endpoint_paused", nil); err != nil {
		t.Fatal(err)
	}
	d0, _ = st.Delivery(ctx, "", ds[0].ID)
	if d0.Status != domain.DeliveryHeld || d0.HeldReason != "endpoint_paused" {
		t.Errorf("held: %+v", d0)
	}
}
