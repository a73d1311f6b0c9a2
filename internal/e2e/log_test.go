package e2e

// Acceptance tests of the delivery log (issue 8): recovery after an
// outage, admin replay (dry run = what is sent), pagination under inserts,
// retention with a fake clock, the first page of a 100,000-delivery log on
// PostgreSQL, test sends, back-fill, redaction and export.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/google/go-cmp/cmp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookgate/hookgate/internal/apptest"
	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/odoo"
	"github.com/hookgate/hookgate/internal/store"
)

func init() {
	// The contract checker validates NDJSON exports as text.
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", openapi3filter.PlainBodyDecoder)
}

// logEnv are the settings of the delivery-log tests: a short retry
// schedule, and a circuit breaker that stays out of the way of outages the
// tests stage on purpose.
func logEnv(extra map[string]string) map[string]string {
	env := map[string]string{
		"HOOKGATE_RETRY_SCHEDULE":    "50ms,50ms",
		"HOOKGATE_RETRY_JITTER":      "0",
		"HOOKGATE_BREAKER_THRESHOLD": "100000",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// postEvent ingests a canonical event as the admin and returns its id.
func postEvent(t *testing.T, g *apptest.Gateway, typ string, data map[string]any) string {
	t.Helper()
	return g.Must(202, "POST", "/v1/events", apptest.AdminToken, map[string]any{"type": typ, "data": withExample(typ, data)}).Map(t)["id"].(string)
}

// withExample completes data with the catalogue example of its type, so a
// test's event satisfies the type's schema (what the test sets wins).
func withExample(typ string, data map[string]any) map[string]any {
	out, ok := odoo.ExampleData(typ)
	if !ok {
		return data
	}
	for k, v := range data {
		out[k] = v
	}
	return out
}

// listAll pages through a delivery-log query and returns every item.
func listAll(t *testing.T, g *apptest.Gateway, key, query string) []map[string]any {
	t.Helper()
	var out []map[string]any
	cursor := ""
	for {
		q := "/v1/deliveries?limit=200" + query
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		page := g.Must(200, "GET", q, key, nil).Map(t)
		for _, d := range page["data"].([]any) {
			out = append(out, d.(map[string]any))
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
}

// attemptsOf returns a delivery's attempts.
func attemptsOf(t *testing.T, g *apptest.Gateway, key, deliveryID string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, a := range g.Must(200, "GET", "/v1/deliveries/"+deliveryID+"/attempts", key, nil).Map(t)["data"].([]any) {
		out = append(out, a.(map[string]any))
	}
	return out
}

// waitJob polls a job until done says so.
func waitJob(t *testing.T, g *apptest.Gateway, path, token string, timeout time.Duration, what string, done func(j map[string]any) bool) map[string]any {
	t.Helper()
	var j map[string]any
	apptest.Eventually(t, timeout, what, func() bool {
		j = g.Must(200, "GET", path, token, nil).Map(t)
		return done(j)
	})
	return j
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

// jobSettled: completed, and every handed-over delivery's attempt logged.
func jobSettled(j map[string]any) bool {
	return j["status"] == "completed" && num(j["succeeded"])+num(j["failed"]) == num(j["done"])
}

// TestRecoverAfterOutage is the scenario: the receiver is down for
// the first 50 of 100 events, whose retries are all exhausted; a recovery
// since the start re-sends exactly those 50, each with its original
// webhook-id, and the log shows trigger recover.
func TestRecoverAfterOutage(t *testing.T) {
	g := apptest.Start(t, apptest.Options{Env: logEnv(nil)})
	var up atomic.Bool
	rc := newReceiver(t, func(_ int, _ *http.Request) (int, string) {
		if up.Load() {
			return 200, "ok"
		}
		return 503, "down for maintenance"
	})
	p := g.NewPartner("Recovering Co")
	ep := g.NewEndpoint(p, rc.URL+"/hooks", []string{"order.*"}, nil)
	start := time.Now().UTC().Add(-time.Second)

	firstIDs := map[string]bool{}
	for i := range 50 {
		firstIDs[postEvent(t, g, "order.confirmed", map[string]any{"id": i, "name": fmt.Sprintf("S%05d", i)})] = true
	}
	apptest.Eventually(t, 60*time.Second, "the first 50 deliveries to exhaust their retries", func() bool {
		return len(listAll(t, g, p.Key, "&status=failed&endpoint_id="+ep.ID)) == 50
	})
	if n := rc.count(); n != 150 {
		t.Errorf("the receiver saw %d attempts of the first 50 events, want 150 (3 each)", n)
	}
	up.Store(true)
	for i := 50; i < 100; i++ {
		postEvent(t, g, "order.confirmed", map[string]any{"id": i, "name": fmt.Sprintf("S%05d", i)})
	}
	apptest.Eventually(t, 30*time.Second, "the last 50 to succeed", func() bool {
		return len(listAll(t, g, p.Key, "&status=succeeded&endpoint_id="+ep.ID)) == 50
	})
	before := rc.count()

	job := g.Must(202, "POST", "/v1/endpoints/"+ep.ID+"/recover", p.Key, map[string]any{"since": start.Format(time.RFC3339Nano)})
	j := job.Map(t)
	if j["kind"] != "recover" || num(j["total"]) != 50 || j["endpoint_id"] != ep.ID {
		t.Errorf("recovery job: %v", j)
	}
	if loc := job.Header.Get("Location"); loc != "/v1/recoveries/"+j["id"].(string) {
		t.Errorf("Location %q", loc)
	}
	j = waitJob(t, g, "/v1/recoveries/"+j["id"].(string), p.Key, 30*time.Second, "the recovery to settle", jobSettled)
	if diff := cmp.Diff([]int64{50, 50, 50, 0}, []int64{num(j["total"]), num(j["done"]), num(j["succeeded"]), num(j["failed"])}); diff != "" {
		t.Errorf("total, done, succeeded, failed (-want +got):\n%s", diff)
	}
	if j["finished_at"] == nil || j["started_at"] == nil {
		t.Errorf("timestamps: %v", j)
	}

	time.Sleep(300 * time.Millisecond) // would anything more arrive?
	got := rc.requests()[before:]
	if len(got) != 50 {
		t.Fatalf("the recovery delivered %d requests, want exactly 50", len(got))
	}
	wh, err := standardwebhooks.NewWebhook(ep.Secret)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range got {
		id := r.Header.Get("webhook-id")
		var env envelope
		if err := json.Unmarshal(r.Body, &env); err != nil {
			t.Fatal(err)
		}
		switch {
		case !firstIDs[id]:
			t.Errorf("recovered %s, which was not among the 50 that failed", id)
		case seen[id]:
			t.Errorf("%s recovered twice", id)
		case env.ID != id:
			t.Errorf("webhook-id %s is not the event id %s", id, env.ID)
		}
		seen[id] = true
		if err := wh.Verify(r.Body, r.Header); err != nil {
			t.Errorf("signature of a recovered delivery: %v", err)
		}
	}
	// The log: every one of the 50 ends with a successful recover attempt.
	for _, d := range listAll(t, g, p.Key, "&endpoint_id="+ep.ID) {
		if !firstIDs[d["event_id"].(string)] {
			continue
		}
		if d["status"] != "succeeded" {
			t.Errorf("delivery %s is %s after recovery", d["id"], d["status"])
		}
		as := attemptsOf(t, g, p.Key, d["id"].(string))
		last := as[len(as)-1]
		if len(as) != 4 || last["trigger"] != "recover" || num(last["response"].(map[string]any)["status"]) != 200 {
			t.Errorf("attempts of %s: %d, last %v", d["id"], len(as), last)
		}
	}
	// Nothing left to recover: a second recovery hands over nothing.
	j2 := g.Must(202, "POST", "/v1/endpoints/"+ep.ID+"/recover", p.Key, map[string]any{"since": start.Format(time.RFC3339)}).Map(t)
	waitJob(t, g, "/v1/recoveries/"+j2["id"].(string), p.Key, 10*time.Second, "the empty recovery", jobSettled)
	// Another partner sees neither the job nor the endpoint.
	other := g.NewPartner("Nosy Co")
	g.Must(404, "GET", "/v1/recoveries/"+j["id"].(string), other.Key, nil)
	g.Must(404, "POST", "/v1/endpoints/"+ep.ID+"/recover", other.Key, map[string]any{"since": start.Format(time.RFC3339)})
	g.Must(404, "GET", "/v1/admin/replays/"+j["id"].(string), apptest.AdminToken, nil)
}

// TestRecoverValidation: bad windows are refused and change nothing.
func TestRecoverValidation(t *testing.T) {
	g := apptest.Start(t, apptest.Options{SQLite: true, Env: logEnv(nil)})
	p := g.NewPartner("Strict Co")
	ep := g.NewEndpoint(p, "http://127.0.0.1:9/hooks", []string{"order.*"}, nil)
	now := time.Now().UTC()
	before := snapshot(t, g)
	for _, c := range []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"no since", map[string]any{}, 422, "since"},
		{"since not a time", map[string]any{"since": "yesterday"}, 422, "since"},
		{"since a number", map[string]any{"since": 12}, 422, "since"},
		{"since in the future", map[string]any{"since": now.Add(time.Hour).Format(time.RFC3339)}, 422, "since"},
		{"until before since", map[string]any{"since": now.Add(-time.Hour).Format(time.RFC3339), "until": now.Add(-2 * time.Hour).Format(time.RFC3339)}, 422, "until"},
		{"window over 14 days", map[string]any{"since": now.Add(-15 * 24 * time.Hour).Format(time.RFC3339)}, 422, "until"},
		{"unknown field", map[string]any{"since": now.Add(-time.Hour).Format(time.RFC3339), "status": "failed"}, 422, "status"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := g.Do("POST", "/v1/endpoints/"+ep.ID+"/recover", p.Key, c.body)
			if r.Status != c.status || r.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%s", r)
			}
			if errs, _ := r.Map(t)["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["field"] != c.field {
				t.Errorf("errors: %s", r.Body)
			}
		})
	}
	for _, c := range []struct {
		name, path string
		body       any
		status     int
	}{
		{"backfill days 0", "/v1/endpoints/" + ep.ID + "/backfill", map[string]any{"days": 0}, 422},
		{"backfill days 31", "/v1/endpoints/" + ep.ID + "/backfill", map[string]any{"days": 31}, 422},
		{"backfill no days", "/v1/endpoints/" + ep.ID + "/backfill", map[string]any{}, 422},
		{"test no type", "/v1/endpoints/" + ep.ID + "/test", map[string]any{}, 422},
		{"test unknown type", "/v1/endpoints/" + ep.ID + "/test", map[string]any{"event_type": "order.exploded"}, 422},
		{"test bad name", "/v1/endpoints/" + ep.ID + "/test", map[string]any{"event_type": "Order Confirmed"}, 422},
		{"test unknown endpoint", "/v1/endpoints/ep_01JPB2KH9Q8R7S6T5V4W3X2Y1Z/test", map[string]any{"event_type": "order.confirmed"}, 404},
		{"replay as partner", "/v1/admin/replay", map[string]any{"since": now.Add(-time.Hour).Format(time.RFC3339), "until": now.Format(time.RFC3339)}, 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := g.Do("POST", c.path, p.Key, c.body)
			if r.Status != c.status || r.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%s", r)
			}
		})
	}
	for _, c := range []struct {
		name string
		body any
	}{
		{"no since", map[string]any{"until": now.Format(time.RFC3339)}},
		{"no until", map[string]any{"since": now.Format(time.RFC3339)}},
		{"until before since", map[string]any{"since": now.Format(time.RFC3339), "until": now.Add(-time.Hour).Format(time.RFC3339)}},
		{"bad pattern", map[string]any{"since": now.Add(-time.Hour).Format(time.RFC3339), "until": now.Format(time.RFC3339), "event_types": []string{"Order!"}}},
		{"unknown partner", map[string]any{"since": now.Add(-time.Hour).Format(time.RFC3339), "until": now.Format(time.RFC3339), "partner_id": "ptn_01JPB2KH9Q8R7S6T5V4W3X2Y1Z"}},
		{"unknown endpoint", map[string]any{"since": now.Add(-time.Hour).Format(time.RFC3339), "until": now.Format(time.RFC3339), "endpoint_id": "ep_01JPB2KH9Q8R7S6T5V4W3X2Y1Z"}},
		{"dry_run not a bool", map[string]any{"since": now.Add(-time.Hour).Format(time.RFC3339), "until": now.Format(time.RFC3339), "dry_run": "yes"}},
	} {
		t.Run("replay "+c.name, func(t *testing.T) {
			r := g.Do("POST", "/v1/admin/replay", apptest.AdminToken, c.body)
			if r.Status != 422 {
				t.Fatalf("%s", r)
			}
		})
	}
	g.Must(404, "POST", "/v1/admin/replays/job_01JPB3A0QW8E2R4T6Y8V0J2K4P/cancel", apptest.AdminToken, nil)
	if after := snapshot(t, g); after != before {
		t.Error("a refused request changed the database")
	}
	var jobs int64
	g.App.Store.DB().Raw("SELECT COUNT(*) FROM jobs").Scan(&jobs)
	if jobs != 0 {
		t.Errorf("%d jobs created by refused requests", jobs)
	}
}

// TestAdminReplayDryRunMatchesResent: for several selections, the dry run's
// count is exactly what the replay then re-sends, to the endpoints that
// match now (a new endpoint included, a paused one not), with trigger
// replay and the original webhook-id.
func TestAdminReplayDryRunMatchesResent(t *testing.T) {
	g := apptest.Start(t, apptest.Options{Env: logEnv(nil)})
	var mu sync.Mutex
	hits := map[string]int{} // webhook-id → requests
	rc := newReceiver(t, func(_ int, r *http.Request) (int, string) {
		mu.Lock()
		hits[r.Header.Get("webhook-id")]++
		mu.Unlock()
		return 200, "ok"
	})
	pa, pb := g.NewPartner("Replay A"), g.NewPartner("Replay B")
	epA1 := g.NewEndpoint(pa, rc.URL+"/a1", []string{"order.*"}, nil)
	g.NewEndpoint(pa, rc.URL+"/a2", []string{"invoice.*", "payment.received"}, nil)
	epB := g.NewEndpoint(pb, rc.URL+"/b", []string{"*"}, nil)
	paused := g.NewEndpoint(pb, rc.URL+"/paused", []string{"*"}, nil)
	g.Must(200, "PATCH", "/v1/endpoints/"+paused.ID, pb.Key, map[string]any{"status": "paused"})

	since := time.Now().UTC().Add(-time.Second)
	eventIDs := map[string]bool{}
	for i, typ := range []string{
		"order.confirmed", "order.confirmed", "order.confirmed", "order.confirmed", "order.cancelled", "order.cancelled",
		"invoice.paid", "invoice.paid", "invoice.paid", "payment.received", "payment.received", "customer.created", "customer.created",
	} {
		eventIDs[postEvent(t, g, typ, map[string]any{"id": i})] = true
	}
	// a1: 6 orders; a2: 5 invoices and payments; b: all 13.
	apptest.Eventually(t, 20*time.Second, "24 live deliveries", func() bool { return rc.count() == 24 })
	until := time.Now().UTC().Add(time.Second)
	// Created after the events, it matches them now.
	epNew := g.NewEndpoint(pa, rc.URL+"/new", []string{"customer.*"}, nil)

	window := map[string]any{"since": since.Format(time.RFC3339Nano), "until": until.Format(time.RFC3339Nano)}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range window {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, c := range []struct {
		name string
		body map[string]any
		want int64
	}{
		{"everything", with(nil), 6 + 5 + 13 + 2},
		{"orders of partner A", with(map[string]any{"event_types": []string{"order.*"}, "partner_id": pa.ID}), 6},
		{"one endpoint", with(map[string]any{"endpoint_id": epB.ID}), 13},
		{"the new endpoint", with(map[string]any{"endpoint_id": epNew.ID}), 2},
		{"a paused endpoint", with(map[string]any{"endpoint_id": paused.ID}), 0},
		{"nothing in the window", map[string]any{"since": until.Format(time.RFC3339Nano), "until": until.Add(time.Hour).Format(time.RFC3339Nano)}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			dry := with(nil)
			for k, v := range c.body {
				dry[k] = v
			}
			dry["dry_run"] = true
			beforeDry := rc.count()
			count := num(g.Must(200, "POST", "/v1/admin/replay", apptest.AdminToken, dry).Map(t)["count"])
			if count != c.want {
				t.Errorf("dry run counts %d, want %d", count, c.want)
			}
			time.Sleep(100 * time.Millisecond)
			if rc.count() != beforeDry {
				t.Fatal("the dry run sent something")
			}
			mu.Lock()
			before := map[string]int{}
			for k, v := range hits {
				before[k] = v
			}
			mu.Unlock()
			beforeN := rc.count()
			r := g.Must(202, "POST", "/v1/admin/replay", apptest.AdminToken, c.body)
			j := r.Map(t)
			if num(j["total"]) != count || j["kind"] != "replay" {
				t.Errorf("job %v, want total %d", j, count)
			}
			j = waitJob(t, g, "/v1/admin/replays/"+j["id"].(string), apptest.AdminToken, 30*time.Second, "the replay to settle", jobSettled)
			if num(j["done"]) != count || num(j["succeeded"]) != count || num(j["failed"]) != 0 {
				t.Errorf("replay progress %v, want %d done and succeeded", j, count)
			}
			apptest.Eventually(t, 10*time.Second, "the re-sends", func() bool { return int64(rc.count()-beforeN) >= count })
			time.Sleep(200 * time.Millisecond)
			if sent := int64(rc.count() - beforeN); sent != count {
				t.Errorf("the replay sent %d requests; the dry run said %d", sent, count)
			}
			mu.Lock()
			for id, n := range hits {
				if n > before[id] && !eventIDs[id] {
					t.Errorf("replayed %s, which is not an event of the window", id)
				}
			}
			mu.Unlock()
		})
	}
	// The log of a replayed delivery ends with trigger replay; the new
	// endpoint's deliveries were created by the replay.
	newOnes := listAll(t, g, pa.Key, "&endpoint_id="+epNew.ID)
	if len(newOnes) != 2 {
		t.Fatalf("new endpoint has %d deliveries, want 2", len(newOnes))
	}
	for _, d := range append(newOnes, listAll(t, g, pa.Key, "&endpoint_id="+epA1.ID)[:1]...) {
		as := attemptsOf(t, g, pa.Key, d["id"].(string))
		if last := as[len(as)-1]; last["trigger"] != "replay" {
			t.Errorf("last attempt of %s: %v", d["id"], last["trigger"])
		}
	}
	// Paused endpoint: still only held deliveries, nothing sent.
	for _, d := range listAll(t, g, pb.Key, "&endpoint_id="+paused.ID) {
		if d["status"] != "held" || num(d["attempts"]) != 0 {
			t.Errorf("paused endpoint delivery %v", d)
		}
	}
	var audited int64
	g.App.Store.DB().Raw("SELECT COUNT(*) FROM audit_log WHERE action = 'replay.started'").Scan(&audited)
	if audited != 6 {
		t.Errorf("%d replay.started audit entries, want 6", audited)
	}
}

// seedDeliveries stores events (one per i < events, received at at(i),
// already fanned out) and their deliveries to every endpoint, fast, through
// the store: events × len(eps) deliveries with the given status.
func seedDeliveries(t testing.TB, st *store.Store, eps []domain.Endpoint, events int, at func(i int) time.Time,
	typ func(i int) string, status func(i, e int) domain.DeliveryStatus) []domain.Delivery {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out []domain.Delivery
	const chunk = 4000
	for start := 0; start < events; start += chunk {
		end := min(start+chunk, events)
		evs := make([]domain.Event, 0, end-start)
		evIDs := make([]string, 0, end-start)
		var ds []domain.Delivery
		for i := start; i < end; i++ {
			ts := at(i)
			e := domain.Event{ID: ids.NewAt(ids.Event, ts), Type: typ(i), SourceID: "src_seed", OccurredAt: ts, ReceivedAt: ts}
			e.Payload = envelopeOf(e, map[string]any{"n": i})
			evs = append(evs, e)
			evIDs = append(evIDs, e.ID)
			for k, ep := range eps {
				ds = append(ds, domain.Delivery{ID: ids.NewAt(ids.Delivery, ts), EventID: e.ID, EndpointID: ep.ID, PartnerID: ep.PartnerID,
					EventType: e.Type, Status: status(i, k), Attempts: 1, CreatedAt: ts, UpdatedAt: ts})
			}
		}
		if _, err := st.InsertEvents(ctx, evs, time.Hour, time.Now()); err != nil {
			t.Fatal(err)
		}
		created, err := st.FanOut(ctx, evIDs, ds)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, created...)
	}
	return out
}

// envelopeOf is the envelope hookgate would have stored for e.
func envelopeOf(e domain.Event, data map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": e.ID, "type": e.Type, "version": 1, "occurred_at": e.OccurredAt.Format(time.RFC3339Nano),
		"source": map[string]any{"kind": "api", "name": "seed"}, "data": data,
	})
	return b
}

// insertDelivery stores one event and its delivery to ep, now (safe to
// call from any goroutine).
func insertDelivery(st *store.Store, ep domain.Endpoint, status domain.DeliveryStatus) (string, error) {
	ctx := context.Background()
	now := time.Now().UTC()
	e := domain.Event{ID: ids.NewAt(ids.Event, now), Type: "order.cancelled", SourceID: "src_seed", OccurredAt: now, ReceivedAt: now}
	e.Payload = envelopeOf(e, map[string]any{"concurrent": true})
	if _, err := st.InsertEvents(ctx, []domain.Event{e}, time.Hour, now); err != nil {
		return "", err
	}
	d := domain.Delivery{ID: ids.NewAt(ids.Delivery, now), EventID: e.ID, EndpointID: ep.ID, PartnerID: ep.PartnerID,
		EventType: e.Type, Status: status, Attempts: 1, CreatedAt: now, UpdatedAt: now}
	if _, err := st.FanOut(ctx, []string{e.ID}, []domain.Delivery{d}); err != nil {
		return "", err
	}
	return d.ID, nil
}

func endpointOf(p apptest.Partner, e apptest.Endpoint) domain.Endpoint {
	return domain.Endpoint{ID: e.ID, PartnerID: p.ID}
}

// TestAdminReplayCancel: a replay paced by a slow endpoint's rate limit is
// cancelled after its first chunk: nothing more is handed over, and a
// second cancel is a conflict.
func TestAdminReplayCancel(t *testing.T) {
	g := apptest.Start(t, apptest.Options{Env: logEnv(nil)})
	rc := newReceiver(t, nil)
	p := g.NewPartner("Slow Co")
	ep := g.NewEndpoint(p, rc.URL, []string{"order.*"}, map[string]any{"rate_limit_per_second": 1})
	base := time.Now().UTC().Add(-time.Hour)
	seedDeliveries(t, g.App.Store, nil, 501, func(i int) time.Time { return base.Add(time.Duration(i) * time.Millisecond) },
		func(int) string { return "order.confirmed" }, nil)
	body := map[string]any{"since": base.Add(-time.Minute).Format(time.RFC3339), "until": time.Now().UTC().Format(time.RFC3339), "endpoint_id": ep.ID}
	j := g.Must(202, "POST", "/v1/admin/replay", apptest.AdminToken, body).Map(t)
	if num(j["total"]) != 501 {
		t.Fatalf("total %v, want 501", j["total"])
	}
	path := "/v1/admin/replays/" + j["id"].(string)
	// The first chunk (500) goes at once; the next waits 500 s for the 1/s limit.
	j = waitJob(t, g, path, apptest.AdminToken, 20*time.Second, "the first chunk", func(j map[string]any) bool {
		return j["status"] == "running" && num(j["done"]) == 500
	})
	c := g.Must(200, "POST", path+"/cancel", apptest.AdminToken, nil).Map(t)
	if c["status"] != "cancelled" || c["finished_at"] == nil || num(c["done"]) != 500 {
		t.Errorf("cancelled job: %v", c)
	}
	r := g.Must(409, "POST", path+"/cancel", apptest.AdminToken, nil)
	if !strings.Contains(string(r.Body), "already cancelled") {
		t.Errorf("second cancel: %s", r)
	}
	// The rate limit holds: at 1/s only a few have gone out.
	time.Sleep(time.Second)
	if n := rc.count(); n > 5 {
		t.Errorf("%d requests within about 2 s at 1/s", n)
	}
	if d := num(g.Must(200, "GET", path, apptest.AdminToken, nil).Map(t)["done"]); d != 500 {
		t.Errorf("done %d after cancel", d)
	}
	var audited int64
	g.App.Store.DB().Raw("SELECT COUNT(*) FROM audit_log WHERE action = 'replay.cancelled' AND target = ?", j["id"]).Scan(&audited)
	if audited != 1 {
		t.Errorf("%d replay.cancelled audit entries", audited)
	}
	// Stop the queued re-sends: a deleted endpoint is not attempted.
	g.Must(204, "DELETE", "/v1/endpoints/"+ep.ID, p.Key, nil)
}

// TestDeliveryLogPaginationUnderInserts: 1,000 deliveries listed page by
// page while new ones are inserted: none is listed twice, none is skipped.
func TestDeliveryLogPaginationUnderInserts(t *testing.T) {
	g := apptest.Start(t, apptest.Options{Env: logEnv(nil)})
	p := g.NewPartner("Paging Co")
	e := g.NewEndpoint(p, "http://127.0.0.1:9/never", []string{"*"}, nil)
	ep := endpointOf(p, e)
	base := time.Now().UTC().Add(-time.Hour)
	status := func(i, _ int) domain.DeliveryStatus {
		if i%3 == 0 {
			return domain.DeliveryFailed
		}
		return domain.DeliverySucceeded
	}
	initial := seedDeliveries(t, g.App.Store, []domain.Endpoint{ep}, 1000,
		func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }, func(int) string { return "order.confirmed" }, status)

	// Everything inserted while paging, across subtests.
	var mu sync.Mutex
	concurrent := map[string]bool{}
	for _, c := range []struct {
		name   string
		query  string
		status domain.DeliveryStatus
	}{
		{"whole log", "", ""},
		{"failed of the endpoint", "&status=failed&endpoint_id=" + e.ID, domain.DeliveryFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := map[string]bool{}
			for _, d := range initial {
				if c.status == "" || d.Status == c.status {
					want[d.ID] = true
				}
			}
			stop := make(chan struct{})
			inserted := 0
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					id, err := insertDelivery(g.App.Store, ep, status(i, 0))
					if err != nil {
						t.Errorf("concurrent insert: %v", err)
						return
					}
					mu.Lock()
					concurrent[id] = true
					inserted++
					mu.Unlock()
					time.Sleep(2 * time.Millisecond)
				}
			}()
			seen := map[string]int{}
			cursor, pages := "", 0
			for {
				q := "/v1/deliveries?limit=13" + c.query
				if cursor != "" {
					q += "&cursor=" + cursor
				}
				page := g.Must(200, "GET", q, p.Key, nil).Map(t)
				pages++
				for _, d := range page["data"].([]any) {
					seen[d.(map[string]any)["id"].(string)]++
				}
				next, _ := page["next_cursor"].(string)
				if next == "" {
					break
				}
				cursor = next
				time.Sleep(time.Millisecond) // let inserts land between pages
			}
			close(stop)
			wg.Wait()
			mu.Lock()
			defer mu.Unlock()
			if inserted < 3 {
				t.Errorf("only %d deliveries were inserted while paging", inserted)
			}
			for id, n := range seen {
				if n > 1 {
					t.Errorf("%s listed %d times", id, n)
				}
				if !want[id] && !concurrent[id] {
					t.Errorf("%s listed but neither seeded nor inserted meanwhile", id)
				}
			}
			missing := 0
			for id := range want {
				if seen[id] == 0 {
					missing++
				}
			}
			if missing > 0 {
				t.Errorf("%d of %d deliveries skipped", missing, len(want))
			}
			t.Logf("%s: %d pages, %d listed, %d inserted meanwhile", c.name, pages, len(seen), inserted)
		})
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestRetentionPurgeWithFakeClock: old attempts and payloads are purged in
// batches while deliveries keep flowing; recent ones stay; the delivery
// rows stay (payload null); metrics and the admin's figures show it; once
// the clock passes the retention, the rest goes too.
func TestRetentionPurgeWithFakeClock(t *testing.T) {
	g := apptest.Start(t, apptest.Options{Env: logEnv(map[string]string{"HOOKGATE_RETENTION_INTERVAL": "0"})})
	rc := newReceiver(t, nil)
	p := g.NewPartner("Retained Co")
	e := g.NewEndpoint(p, rc.URL, []string{"order.*"}, nil)
	ep := endpointOf(p, e)
	st := g.App.Store
	clock := &fakeClock{t: time.Now().UTC()}
	retention := 30 * 24 * time.Hour
	old := clock.Now().Add(-retention - 10*24*time.Hour)
	recent := clock.Now().Add(-24 * time.Hour)

	done := func(int, int) domain.DeliveryStatus { return domain.DeliverySucceeded }
	order := func(int) string { return "order.confirmed" }
	oldDs := seedDeliveries(t, st, []domain.Endpoint{ep}, 2000, func(i int) time.Time { return old.Add(time.Duration(i) * time.Second) }, order, done)
	recentDs := seedDeliveries(t, st, []domain.Endpoint{ep}, 200, func(i int) time.Time { return recent.Add(time.Duration(i) * time.Second) }, order, done)
	attempts := func(ds []domain.Delivery, per int) {
		var outs []store.Outcome
		for _, d := range ds {
			for k := range per {
				at := d.CreatedAt.Add(time.Duration(k) * time.Second)
				outs = append(outs, store.Outcome{Attempt: domain.Attempt{ID: ids.NewAt(ids.Attempt, at), DeliveryID: d.ID, EndpointID: d.EndpointID,
					PartnerID: d.PartnerID, Number: k + 1, Trigger: domain.TriggerScheduled, StartedAt: at, RequestURL: rc.URL,
					RequestHeaders: map[string]string{"Content-Type": "application/json"}, ResponseStatus: 200}, Status: domain.DeliverySucceeded, Attempts: k + 1})
			}
		}
		for start := 0; start < len(outs); start += 1000 {
			if err := st.RecordOutcomes(context.Background(), outs[start:min(start+1000, len(outs))]); err != nil {
				t.Fatal(err)
			}
		}
	}
	attempts(oldDs, 3)
	attempts(recentDs, 1)

	purger := *g.App.Purger
	purger.Now, purger.Batch, purger.Pause, purger.Retention = clock.Now, 200, 30*time.Millisecond, retention
	type result struct {
		run        domain.RetentionRun
		start, end time.Time
		err        error
	}
	purge := func() <-chan result {
		ch := make(chan result, 1)
		go func() {
			start := time.Now()
			run, err := purger.Purge(context.Background())
			ch <- result{run, start, time.Now(), err}
		}()
		return ch
	}

	// Deliveries continue during the purge.
	pending := purge()
	var live []string
	for i := range 20 {
		live = append(live, postEvent(t, g, "order.confirmed", map[string]any{"id": i}))
	}
	apptest.Eventually(t, 20*time.Second, "20 live deliveries", func() bool { return rc.count() == 20 })
	firstArrival := rc.requests()[0].At
	var res result
	select {
	case res = <-pending:
	case <-time.After(2 * time.Minute):
		t.Fatal("the purge did not finish within 2 minutes")
	}
	if res.err != nil {
		t.Fatal(res.err)
	}
	if !firstArrival.Before(res.end) {
		t.Errorf("no delivery arrived while the purge ran (%s–%s)", res.start.Format(time.StampMilli), res.end.Format(time.StampMilli))
	}
	t.Logf("first purge took %s; %d live deliveries arrived during it", res.end.Sub(res.start).Round(time.Millisecond),
		countBetween(rc.requests(), res.start, res.end))
	if diff := cmp.Diff(map[string]int64{"attempts": 6000, "event_payloads": 2000, "idempotency_keys": 0, "jobs": 0}, res.run.Purged); diff != "" {
		t.Errorf("purged (-want +got):\n%s", diff)
	}
	var left, leftRecent int64
	st.DB().Raw("SELECT COUNT(*) FROM attempts WHERE started_at < ?", res.run.Cutoff.UnixMicro()).Scan(&left)
	st.DB().Raw("SELECT COUNT(*) FROM attempts WHERE started_at >= ?", res.run.Cutoff.UnixMicro()).Scan(&leftRecent)
	if left != 0 || leftRecent != 200+20 {
		t.Errorf("attempts left: %d old, %d recent (want 0 and 220)", left, leftRecent)
	}
	// The log keeps the old delivery, without its payload; recent ones keep theirs.
	d := g.Must(200, "GET", "/v1/deliveries/"+oldDs[0].ID, p.Key, nil).Map(t)
	if d["event"] != nil || d["status"] != "succeeded" {
		t.Errorf("old delivery after purge: %v", d)
	}
	if d := g.Must(200, "GET", "/v1/deliveries/"+recentDs[0].ID, p.Key, nil).Map(t); d["event"] == nil {
		t.Error("a recent payload was purged")
	}
	if n := len(attemptsOf(t, g, p.Key, recentDs[0].ID)); n != 1 {
		t.Errorf("recent delivery has %d attempts, want 1", n)
	}
	g.Must(409, "POST", "/v1/deliveries/"+oldDs[0].ID+"/retry", p.Key, nil)
	metrics := string(g.Must(200, "GET", "/metrics", "", nil).Body)
	for _, want := range []string{`hookgate_retention_purged_total{table="attempts"} 6000`, `hookgate_retention_purged_total{table="event_payloads"} 2000`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if run, ok, err := g.App.Service.RetentionStatus(context.Background(), domain.Principal{Kind: domain.PrincipalAdmin}); err != nil || !ok || run.Purged["attempts"] != 6000 {
		t.Errorf("retention status: %+v %v %v", run, ok, err)
	}

	// 31 days later the recent rows and today's are old too.
	clock.Advance(retention + 24*time.Hour)
	select {
	case res = <-purge():
	case <-time.After(2 * time.Minute):
		t.Fatal("the second purge did not finish within 2 minutes")
	}
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.run.Purged["attempts"] != 220 || res.run.Purged["event_payloads"] != 220 {
		t.Errorf("second purge: %v, want 220 attempts and 220 payloads", res.run.Purged)
	}
	for _, d := range listAll(t, g, p.Key, "&endpoint_id="+e.ID) {
		if slices.Contains(live, d["event_id"].(string)) {
			if full := g.Must(200, "GET", "/v1/deliveries/"+d["id"].(string), p.Key, nil).Map(t); full["event"] != nil {
				t.Errorf("payload of %s kept after its retention", d["id"])
			}
			break
		}
	}
	if total := len(listAll(t, g, p.Key, "&endpoint_id="+e.ID)); total != 2000+200+20 {
		t.Errorf("the log lists %d deliveries, want all 2220 kept", total)
	}
}

func countBetween(rs []received, from, to time.Time) int {
	n := 0
	for _, r := range rs {
		if !r.At.Before(from) && r.At.Before(to) {
			n++
		}
	}
	return n
}

// TestRetentionRunsOncePerInterval: two worker processes each schedule the
// purge every second; it runs at most once per interval.
func TestRetentionRunsOncePerInterval(t *testing.T) {
	env := logEnv(map[string]string{"HOOKGATE_RETENTION_INTERVAL": "1s"})
	g1 := apptest.Start(t, apptest.Options{Env: env})
	g2 := apptest.Start(t, apptest.Options{Env: env, DatabaseURL: g1.DatabaseURL, RedisURL: g1.RedisURL})
	_ = g2
	time.Sleep(5500 * time.Millisecond)
	var starts []int64
	g1.App.Store.DB().Raw("SELECT started_at FROM retention_runs ORDER BY started_at").Scan(&starts)
	if len(starts) < 3 {
		t.Fatalf("%d purges in 5.5 s at 1/s", len(starts))
	}
	periods := map[int64]int{}
	for _, s := range starts {
		periods[s/1_000_000]++
	}
	for p, n := range periods {
		if n > 1 {
			t.Errorf("%d purges in the second starting %s", n, time.Unix(p, 0).UTC().Format(time.TimeOnly))
		}
	}
	t.Logf("%d purges in 5.5 s across 2 processes", len(starts))
}

// TestDeliveryLogFirstPageFast loads 100,000 deliveries into PostgreSQL
// and times the first page of filtered log queries through the API (each
// must answer in under 50 ms, median of 15), with EXPLAIN showing index
// scans.
func TestDeliveryLogFirstPageFast(t *testing.T) {
	g := apptest.Start(t, apptest.Options{Env: logEnv(nil)})
	if !g.App.Store.IsPostgres() {
		t.Fatal("this test measures PostgreSQL")
	}
	pa, pb := g.NewPartner("Big A"), g.NewPartner("Big B")
	var eps []domain.Endpoint
	var first apptest.Endpoint
	for i := range 10 {
		p := pa
		if i >= 5 {
			p = pb
		}
		e := g.NewEndpoint(p, fmt.Sprintf("http://127.0.0.1:9/e%d", i), []string{"*"}, nil)
		if i == 0 {
			first = e
		}
		eps = append(eps, endpointOf(p, e))
	}
	types := []string{"order.confirmed", "invoice.paid", "shipment.dispatched", "inventory.adjusted"}
	base := time.Now().UTC().Add(-10 * 24 * time.Hour)
	loadStart := time.Now()
	ds := seedDeliveries(t, g.App.Store, eps, 10_000,
		func(i int) time.Time { return base.Add(time.Duration(i) * 86 * time.Second) },
		func(i int) string { return types[i%len(types)] },
		func(i, e int) domain.DeliveryStatus {
			switch (i*7 + e*13) % 100 {
			case 0, 1, 2:
				return domain.DeliveryFailed
			case 3:
				return domain.DeliveryHeld
			}
			return domain.DeliverySucceeded
		})
	if len(ds) != 100_000 {
		t.Fatalf("seeded %d deliveries", len(ds))
	}
	if err := g.App.Store.DB().Exec("ANALYZE deliveries").Error; err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded 100,000 deliveries (10,000 events × 10 endpoints) in %s", time.Since(loadStart).Round(time.Millisecond))

	day := base.Add(5 * 24 * time.Hour)
	for _, c := range []struct {
		name   string
		query  string
		filter store.DeliveryFilter
	}{
		{"status=failed, endpoint_id", "status=failed&endpoint_id=" + first.ID, store.DeliveryFilter{Status: domain.DeliveryFailed, EndpointID: first.ID}},
		{"endpoint_id", "endpoint_id=" + first.ID, store.DeliveryFilter{EndpointID: first.ID}},
		{"status=failed", "status=failed", store.DeliveryFilter{Status: domain.DeliveryFailed}},
		{"event_type, status=failed", "event_type=invoice.paid&status=failed", store.DeliveryFilter{EventType: "invoice.paid", Status: domain.DeliveryFailed}},
		{"one day of an endpoint", "endpoint_id=" + first.ID + "&since=" + day.Format(time.RFC3339) + "&until=" + day.Add(24*time.Hour).Format(time.RFC3339),
			store.DeliveryFilter{EndpointID: first.ID, Since: day, Until: day.Add(24 * time.Hour)}},
		{"event_id", "event_id=" + ds[5000].EventID, store.DeliveryFilter{EventID: ds[5000].EventID}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := "/v1/deliveries?limit=50&" + c.query
			g.Must(200, "GET", path, pa.Key, nil) // warm-up
			var times []time.Duration
			var n int
			for range 15 {
				start := time.Now()
				r := g.Must(200, "GET", path, pa.Key, nil)
				times = append(times, time.Since(start))
				n = len(r.Map(t)["data"].([]any))
			}
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			median, worst := times[len(times)/2], times[len(times)-1]
			c.filter.PartnerID = pa.ID
			plan, err := g.App.Store.ExplainListDeliveries(context.Background(), c.filter, "", 50)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "\n")
			t.Logf("GET %s → %d rows: median %s, best %s, worst %s\nEXPLAIN ANALYZE:\n%s", path, n,
				median.Round(10*time.Microsecond), times[0].Round(10*time.Microsecond), worst.Round(10*time.Microsecond), text)
			if median >= 50*time.Millisecond {
				t.Errorf("median %s, want under 50 ms", median)
			}
			if n == 0 {
				t.Error("the filter matched nothing; the measurement means nothing")
			}
			if strings.Contains(text, "Seq Scan on deliveries") || !strings.Contains(text, "Index") {
				t.Errorf("the plan does not use an index:\n%s", text)
			}
		})
	}
}

// TestSendTestEvent: a realistic example of any entitled type goes to that
// endpoint only, signed, with trigger manual, and can be polled.
func TestSendTestEvent(t *testing.T) {
	g := apptest.Start(t, apptest.Options{Env: logEnv(nil)})
	rc := newReceiver(t, nil)
	other := newReceiver(t, nil)
	p := g.NewPartner("Tester Co")
	ep := g.NewEndpoint(p, rc.URL, []string{"order.*"}, nil) // not subscribed to invoice.paid
	g.NewEndpoint(p, other.URL, []string{"*"}, nil)

	r := g.Must(202, "POST", "/v1/endpoints/"+ep.ID+"/test", p.Key, map[string]any{"event_type": "invoice.paid"})
	d := r.Map(t)
	if d["status"] != "pending" || d["endpoint_id"] != ep.ID || d["event_type"] != "invoice.paid" {
		t.Errorf("test delivery: %v", d)
	}
	if r.Header.Get("Location") != "/v1/deliveries/"+d["id"].(string) {
		t.Errorf("Location %q", r.Header.Get("Location"))
	}
	apptest.Eventually(t, 10*time.Second, "the test event", func() bool { return rc.count() == 1 })
	req := rc.requests()[0]
	wh, _ := standardwebhooks.NewWebhook(ep.Secret)
	if err := wh.Verify(req.Body, req.Header); err != nil {
		t.Errorf("signature: %v", err)
	}
	var env envelope
	if err := json.Unmarshal(req.Body, &env); err != nil {
		t.Fatal(err)
	}
	if env.ID != d["event_id"] || req.Header.Get("webhook-id") != env.ID || env.Type != "invoice.paid" ||
		env.Source["kind"] != "api" || env.Source["name"] != "test" || env.Data["payment_state"] == nil || env.Data["id"] == nil {
		t.Errorf("test envelope: %s", req.Body)
	}
	got := waitJob(t, g, "/v1/deliveries/"+d["id"].(string), p.Key, 5*time.Second, "the test delivery to succeed",
		func(j map[string]any) bool { return j["status"] == "succeeded" })
	if got["event"] == nil {
		t.Error("no event in the delivery")
	}
	if as := attemptsOf(t, g, p.Key, d["id"].(string)); len(as) != 1 || as[0]["trigger"] != "manual" {
		t.Errorf("attempts: %v", as)
	}
	time.Sleep(300 * time.Millisecond)
	if other.count() != 0 {
		t.Errorf("another endpoint received the test event")
	}
	// A test send to a failing receiver ends failed, not pending.
	down := newReceiver(t, func(int, *http.Request) (int, string) { return 500, "no" })
	epDown := g.NewEndpoint(p, down.URL, []string{"order.*"}, nil)
	d = g.Must(202, "POST", "/v1/endpoints/"+epDown.ID+"/test", p.Key, map[string]any{"event_type": "order.confirmed"}).Map(t)
	waitJob(t, g, "/v1/deliveries/"+d["id"].(string), p.Key, 5*time.Second, "the failed test delivery",
		func(j map[string]any) bool { return j["status"] == "failed" })
	time.Sleep(300 * time.Millisecond)
	if down.count() != 1 {
		t.Errorf("a failed test send was retried: %d requests", down.count())
	}
	// Admin-added types carry an empty object.
	n := time.Now().UTC()
	if err := g.App.Store.CreateEventType(context.Background(), domain.EventType{Name: "loyalty.points_added", Version: 2, CreatedAt: n, UpdatedAt: n}); err != nil {
		t.Fatal(err)
	}
	g.Must(202, "POST", "/v1/endpoints/"+ep.ID+"/test", p.Key, map[string]any{"event_type": "loyalty.points_added"})
	apptest.Eventually(t, 10*time.Second, "the custom test event", func() bool { return rc.count() == 2 })
	var custom map[string]any
	_ = json.Unmarshal(rc.requests()[1].Body, &custom)
	if data, _ := custom["data"].(map[string]any); data == nil || len(data) != 0 || custom["version"] != float64(2) {
		t.Errorf("custom type envelope: %s", rc.requests()[1].Body)
	}
	// Not entitled: refused.
	limited := g.NewPartner("Limited Co")
	g.Must(200, "PATCH", "/v1/admin/partners/"+limited.ID, apptest.AdminToken, map[string]any{"entitlements": []string{"order.*"}})
	lep := g.NewEndpoint(limited, rc.URL, []string{"order.*"}, nil)
	g.Must(422, "POST", "/v1/endpoints/"+lep.ID+"/test", limited.Key, map[string]any{"event_type": "invoice.paid"})
	g.Must(404, "POST", "/v1/endpoints/"+ep.ID+"/test", limited.Key, map[string]any{"event_type": "order.confirmed"})
	// Test events are never replayed.
	count := num(g.Must(200, "POST", "/v1/admin/replay", apptest.AdminToken, map[string]any{
		"since": n.Add(-time.Hour).Format(time.RFC3339), "until": time.Now().UTC().Add(time.Minute).Format(time.RFC3339), "dry_run": true,
	}).Map(t)["count"])
	if count != 0 {
		t.Errorf("a replay would resend %d test events", count)
	}
}

// TestBackfillNewEndpoint: a new endpoint gets the events of the last days
// it would have matched, once; a second back-fill finds nothing missing.
func TestBackfillNewEndpoint(t *testing.T) {
	g := apptest.Start(t, apptest.Options{SQLite: true, Env: logEnv(nil)})
	rc := newReceiver(t, nil)
	p := g.NewPartner("Late Co")
	var old []string
	for i := range 6 {
		typ := "order.confirmed"
		if i%2 == 1 {
			typ = "invoice.paid"
		}
		id := postEvent(t, g, typ, map[string]any{"id": i})
		if typ == "order.confirmed" {
			old = append(old, id)
		}
	}
	// Older than the look-back: not back-filled.
	base := time.Now().UTC().Add(-3 * 24 * time.Hour)
	seedDeliveries(t, g.App.Store, nil, 4, func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) },
		func(int) string { return "order.confirmed" }, nil)

	ep := g.NewEndpoint(p, rc.URL, []string{"order.*"}, nil)
	live := postEvent(t, g, "order.confirmed", map[string]any{"id": 99}) // fan-out delivers this one
	apptest.Eventually(t, 10*time.Second, "the live event", func() bool { return rc.count() == 1 })

	r := g.Must(202, "POST", "/v1/endpoints/"+ep.ID+"/backfill", p.Key, map[string]any{"days": 1})
	j := r.Map(t)
	if j["kind"] != "backfill" || num(j["days"]) != 1 || num(j["total"]) != 3 {
		t.Errorf("backfill job: %v", j)
	}
	j = waitJob(t, g, "/v1/recoveries/"+j["id"].(string), p.Key, 20*time.Second, "the back-fill", jobSettled)
	if num(j["done"]) != 3 || num(j["succeeded"]) != 3 {
		t.Errorf("back-fill progress: %v", j)
	}
	apptest.Eventually(t, 10*time.Second, "3 back-filled events", func() bool { return rc.count() == 4 })
	time.Sleep(200 * time.Millisecond)
	var got []string
	for _, req := range rc.requests()[1:] {
		got = append(got, req.Header.Get("webhook-id"))
	}
	sort.Strings(got)
	sort.Strings(old)
	if diff := cmp.Diff(old, got); diff != "" {
		t.Errorf("back-filled events (-want +got):\n%s", diff)
	}
	for _, d := range listAll(t, g, p.Key, "&endpoint_id="+ep.ID) {
		if d["event_id"] == live {
			continue
		}
		if as := attemptsOf(t, g, p.Key, d["id"].(string)); len(as) != 1 || as[0]["trigger"] != "replay" {
			t.Errorf("back-filled delivery attempts: %v", as)
		}
	}
	j2 := g.Must(202, "POST", "/v1/endpoints/"+ep.ID+"/backfill", p.Key, map[string]any{"days": 7}).Map(t)
	if num(j2["total"]) != 4 { // only the 4 older seeded events are missing now
		t.Errorf("second back-fill total %v, want 4", j2["total"])
	}
	waitJob(t, g, "/v1/recoveries/"+j2["id"].(string), p.Key, 20*time.Second, "the second back-fill", jobSettled)
	// A paused endpoint is not back-filled.
	g.Must(200, "PATCH", "/v1/endpoints/"+ep.ID, p.Key, map[string]any{"status": "paused"})
	if r := g.Must(409, "POST", "/v1/endpoints/"+ep.ID+"/backfill", p.Key, map[string]any{"days": 1}); !strings.Contains(string(r.Body), "paused") {
		t.Errorf("paused back-fill: %s", r)
	}
}

// TestAttemptLogRedactsSecrets: custom endpoint headers (credentials)
// reach the receiver but never the attempt log; the signature is shown.
func TestAttemptLogRedactsSecrets(t *testing.T) {
	g := apptest.Start(t, apptest.Options{SQLite: true, Env: logEnv(nil)})
	rc := newReceiver(t, nil)
	p := g.NewPartner("Careful Co")
	ep := g.NewEndpoint(p, rc.URL+"/in", []string{"order.*"}, map[string]any{"headers": map[string]string{
		"Authorization": "Bearer partner-secret-token", "X-Tenant": "eu-1",
	}})
	postEvent(t, g, "order.confirmed", map[string]any{"id": 1})
	apptest.Eventually(t, 10*time.Second, "the delivery", func() bool { return rc.count() == 1 })
	req := rc.requests()[0]
	if req.Header.Get("Authorization") != "Bearer partner-secret-token" || req.Header.Get("X-Tenant") != "eu-1" {
		t.Errorf("the receiver did not get the custom headers: %v", req.Header)
	}
	ds := listAll(t, g, p.Key, "&endpoint_id="+ep.ID)
	var as []map[string]any
	apptest.Eventually(t, 5*time.Second, "the attempt log", func() bool {
		as = attemptsOf(t, g, p.Key, ds[0]["id"].(string))
		return len(as) == 1
	})
	reqLog := as[0]["request"].(map[string]any)
	h := reqLog["headers"].(map[string]any)
	if h["Authorization"] != domain.Redacted || h["X-Tenant"] != domain.Redacted {
		t.Errorf("custom headers in the log: %v", h)
	}
	if h["Webhook-Signature"] != req.Header.Get("webhook-signature") || h["Webhook-Id"] != req.Header.Get("webhook-id") {
		t.Errorf("signature headers in the log: %v", h)
	}
	if reqLog["url"] != rc.URL+"/in" {
		t.Errorf("url in the log: %v", reqLog["url"])
	}
	raw := string(g.Must(200, "GET", "/v1/deliveries/"+ds[0]["id"].(string)+"/attempts", p.Key, nil).Body)
	if strings.Contains(raw, "partner-secret-token") || strings.Contains(raw, "eu-1") {
		t.Errorf("the attempt log shows a custom header's value: %s", raw)
	}
	var stored string
	g.App.Store.DB().Raw("SELECT request_headers FROM attempts").Scan(&stored)
	if strings.Contains(stored, "partner-secret-token") {
		t.Error("the secret is stored in the attempt log")
	}
}

// accept sends a GET with an Accept header through the contract check.
func accept(t *testing.T, g *apptest.Gateway, path, token, mime string) apptest.Response {
	t.Helper()
	req, err := http.NewRequest("GET", g.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", mime)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := g.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := apptest.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	apptest.ResponseCheck(t, req, nil, r)
	return r
}

// TestDeliveryLogExport: CSV and NDJSON stream every page of the filtered
// log; bad filters still get a problem document.
func TestDeliveryLogExport(t *testing.T) {
	g := apptest.Start(t, apptest.Options{SQLite: true, Env: logEnv(nil)})
	p := g.NewPartner("Exporter Co")
	other := g.NewPartner("Other Exporter")
	e := g.NewEndpoint(p, "http://127.0.0.1:9/x", []string{"*"}, nil)
	oe := g.NewEndpoint(other, "http://127.0.0.1:9/y", []string{"*"}, nil)
	base := time.Now().UTC().Add(-time.Hour)
	status := func(i, _ int) domain.DeliveryStatus {
		if i%4 == 0 {
			return domain.DeliveryFailed
		}
		return domain.DeliverySucceeded
	}
	seedDeliveries(t, g.App.Store, []domain.Endpoint{endpointOf(p, e), endpointOf(other, oe)}, 700,
		func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }, func(int) string { return "order.confirmed" }, status)

	for _, c := range []struct {
		name, query, filter string
		want                int
	}{
		{"whole log", "", "", 700},
		{"failed, limit ignored", "?status=failed&limit=5", "&status=failed", 175},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := listAll(t, g, p.Key, c.filter)
			if len(want) != c.want {
				t.Fatalf("the JSON log lists %d, want %d", len(want), c.want)
			}
			r := accept(t, g, "/v1/deliveries"+c.query, p.Key, "text/csv")
			if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("%d %s", r.Status, r.Header.Get("Content-Type"))
			}
			rows, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != c.want+1 || rows[0][0] != "id" {
				t.Fatalf("CSV has %d rows (header %v), want %d+1", len(rows), rows[0], c.want)
			}
			for i, row := range rows[1:] {
				if row[0] != want[i]["id"] || row[4] != want[i]["status"] {
					t.Fatalf("CSV row %d: %v, JSON %v", i, row, want[i])
				}
			}
			r = accept(t, g, "/v1/deliveries"+c.query, p.Key, "application/x-ndjson")
			if r.Status != 200 || r.Header.Get("Content-Type") != "application/x-ndjson" {
				t.Fatalf("%d %s", r.Status, r.Header.Get("Content-Type"))
			}
			sc := bufio.NewScanner(bytes.NewReader(r.Body))
			i := 0
			for sc.Scan() {
				var d map[string]any
				if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
					t.Fatalf("line %d: %v", i, err)
				}
				if d["id"] != want[i]["id"] {
					t.Fatalf("line %d is %v, want %v", i, d["id"], want[i]["id"])
				}
				i++
			}
			if i != c.want {
				t.Errorf("NDJSON has %d lines, want %d", i, c.want)
			}
		})
	}
	if r := accept(t, g, "/v1/deliveries?status=lost", p.Key, "text/csv"); r.Status != 400 || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("bad filter on export: %d %s", r.Status, r.Body)
	}
	// JSON stays the default, and for Accept: application/json.
	if r := accept(t, g, "/v1/deliveries?limit=1", p.Key, "application/json"); r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("JSON: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
}
