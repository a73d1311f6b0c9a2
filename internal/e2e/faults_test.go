package e2e

// Fault tests (issue 3): hookgate never loses an accepted event. Events and
// deliveries are in the database before anything is enqueued; a sweeper
// re-enqueues what the database says is pending (the task id is the
// delivery id, so a double enqueue is harmless); graceful shutdown finishes
// in-flight work; a worker killed with SIGKILL mid-delivery leads to a later
// redelivery, not a loss. Each test reports its counts with t.Logf.

import (
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookgate/hookgate/internal/apptest"
)

const faultType = "payment.received"

// TestFaultRedisRestart: a private Redis without persistence is killed
// (SIGKILL) and restarted empty while 2,000 deliveries (1,000 events × 2
// endpoints) are under way. Every queued task, retry and concurrency lease
// is lost with it; the sweeper must put every pending delivery back on the
// queue. Nothing dies but Redis and the database never goes away, so every
// request a receiver got is in the attempt log and none is repeated.
func TestFaultRedisRestart(t *testing.T) {
	events := 1000
	if testing.Short() {
		events = 300
	}
	rd := startPrivateRedis(t)
	recv := []*hookReceiver{newHookReceiver(t, slow(2*time.Millisecond)), newHookReceiver(t, slow(2*time.Millisecond))}
	g := apptest.Start(t, apptest.Options{RedisURL: rd.URL, Env: map[string]string{
		"HOOKGATE_RETRY_SCHEDULE": "200ms,500ms,1s,2s",
	}})
	p := g.NewPartner("Redis Fault Co")
	byEP := map[string]*hookReceiver{}
	for _, rc := range recv {
		byEP[g.NewEndpoint(p, rc.URL, []string{faultType}, nil).ID] = rc
	}

	var progress atomic.Int64
	done := make(chan produced, 1)
	start := time.Now()
	go func() {
		done <- producer{bases: []string{g.URL}, conc: 4, typ: faultType, pace: 3 * time.Millisecond}.run(events, 60*time.Second, &progress)
	}()
	apptest.Eventually(t, 30*time.Second, "a third of the events to be accepted", func() bool { return progress.Load() >= int64(events/3) })
	hitsBefore := recv[0].total() + recv[1].total()
	killed := time.Now()
	rd.kill()
	time.Sleep(2 * time.Second) // the outage: ingest goes on, enqueues fail
	rd.restart()
	restarted := time.Now()
	res := <-done
	if res.lost > 0 {
		t.Fatalf("%d events were never accepted (refusals %v)", res.lost, res.errs)
	}
	waitAll(t, 60*time.Second, res.ids, recv...)
	recovered, sinceKill := time.Since(restarted), time.Since(killed)
	waitQuiet(t, time.Second, 10*time.Second, recv...) // would a duplicate still arrive?

	lr := newLogReader(g.URL, p.Key)
	ds := lr.deliveries(t)
	acc := account(res.ids, ds, lr.attempts(t, ds, 8), byEP)
	sweeps := strings.Count(g.Logs(), "sweeper re-queued work")
	t.Logf("Redis restart: %s", acc)
	acc.checkNoResend(t)
	t.Logf("Redis restart: outage %s after %d events accepted and %d requests delivered; ingest refusals %d %v; all delivered %s after the restart (%s after the kill, run %s); sweeper passes that re-queued work: %d",
		restarted.Sub(killed).Round(time.Millisecond), events/3, hitsBefore, res.refused, res.errs,
		recovered.Round(time.Millisecond), sinceKill.Round(time.Millisecond), (sinceKill + killed.Sub(start)).Round(time.Millisecond), sweeps)

	if acc.deliveries != 2*len(res.ids) || acc.succeeded != acc.deliveries || acc.missing != 0 {
		t.Errorf("want %d succeeded deliveries, all received: %s", 2*len(res.ids), acc)
	}
	if acc.unlogged != 0 || len(acc.notLoggedOK) != 0 || acc.attempts != acc.hits {
		t.Errorf("the attempt log does not account for every request: %s; log above receiver: %v", acc, first(acc.notLoggedOK, 5))
	}
	if acc.duplicates != 0 {
		t.Errorf("%d duplicate deliveries without any attempt failing: %v", acc.duplicates, first(acc.dupPairs, 5))
	}
	if sweeps == 0 {
		t.Errorf("the sweeper never re-queued anything, yet Redis lost its queue")
	}
}

// TestFaultPostgresRestart: a private PostgreSQL cluster is stopped (pg_ctl
// stop -m fast, which cuts every session) for two seconds and started
// again while events are ingested and delivered. Ingest refuses events
// while the database is away (the producer retries them with the same
// idempotency key, as a source should); a delivery whose attempt could not
// be recorded is retried, so it may reach its receiver twice, and each such
// duplicate must be exactly an attempt missing from the log.
func TestFaultPostgresRestart(t *testing.T) {
	events := 600
	if testing.Short() {
		events = 200
	}
	pg := startPrivatePostgres(t)
	recv := []*hookReceiver{newHookReceiver(t, slow(2*time.Millisecond)), newHookReceiver(t, slow(2*time.Millisecond))}
	g := apptest.Start(t, apptest.Options{DatabaseURL: pg.URL, Env: map[string]string{
		"HOOKGATE_RETRY_SCHEDULE": "200ms,500ms,1s,2s",
	}})
	p := g.NewPartner("Postgres Fault Co")
	byEP := map[string]*hookReceiver{}
	for _, rc := range recv {
		byEP[g.NewEndpoint(p, rc.URL, []string{faultType}, nil).ID] = rc
	}

	var progress atomic.Int64
	done := make(chan produced, 1)
	start := time.Now()
	go func() {
		done <- producer{bases: []string{g.URL}, conc: 4, typ: faultType, pace: 5 * time.Millisecond}.run(events, 60*time.Second, &progress)
	}()
	apptest.Eventually(t, 30*time.Second, "a third of the events to be accepted", func() bool { return progress.Load() >= int64(events/3) })
	stopped := time.Now()
	pg.stopFast()
	time.Sleep(2 * time.Second)
	pg.start()
	restarted := time.Now()
	res := <-done
	if res.lost > 0 {
		t.Fatalf("%d events were never accepted (refusals %v)", res.lost, res.errs)
	}
	waitAll(t, 60*time.Second, res.ids, recv...)
	recovered := time.Since(restarted)
	waitQuiet(t, time.Second, 10*time.Second, recv...)

	lr := newLogReader(g.URL, p.Key)
	ds := lr.deliveries(t)
	acc := account(res.ids, ds, lr.attempts(t, ds, 8), byEP)
	t.Logf("PostgreSQL restart: %s", acc)
	acc.checkNoResend(t)
	t.Logf("PostgreSQL restart: down %s (stop -m fast + 2s + start); ingest posts %d, refused %d %v (first %s, last %s after the stop); all delivered %s after the restart (run %s)",
		restarted.Sub(stopped).Round(time.Millisecond), res.posts, res.refused, res.errs,
		sinceOr(res.firstErr, stopped), sinceOr(res.lastErr, stopped), recovered.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	if acc.deliveries != 2*len(res.ids) || acc.succeeded != acc.deliveries || acc.missing != 0 {
		t.Errorf("want %d succeeded deliveries, all received: %s", 2*len(res.ids), acc)
	}
	if len(acc.notLoggedOK) != 0 {
		t.Errorf("the log records attempts no receiver got: %v", first(acc.notLoggedOK, 5))
	}
	if acc.duplicates != acc.unlogged {
		t.Errorf("every duplicate must be an attempt the outage kept out of the log: %s; duplicates %v", acc, first(acc.dupPairs, 5))
	}
	for code := range res.errs {
		if code != "503" && code != "transport" {
			t.Errorf("ingest answered %s while the database was away; want 503 (with Retry-After) so sources retry: %v", code, res.errs)
		}
	}
}

// killCluster starts an api and one worker with small concurrency and a
// receiver that takes 300 ms per request, and ingests n events.
func killCluster(t *testing.T, n int) (*cluster, *apiProc, *child, *hookReceiver, apptest.Partner, map[string]*hookReceiver, produced) {
	t.Helper()
	rc := newHookReceiver(t, slow(300*time.Millisecond))
	// Worker concurrency 8 under an endpoint cap of 20: the slots a killed
	// worker leaks (they expire with their lease) do not block its
	// successor.
	c := newCluster(t, map[string]string{
		"HOOKGATE_WORKER_CONCURRENCY":   "8",
		"HOOKGATE_ENDPOINT_CONCURRENCY": "20",
		"HOOKGATE_DELIVERY_TIMEOUT":     "5s",
	})
	api := c.startAPI()
	w1 := c.startWorker(nil)
	p := newPartnerVia(t, api.API, "Kill Co")
	ep := newEndpointVia(t, api.API, p, rc.URL, []string{faultType}, nil)
	res := producer{bases: []string{api.URL}, conc: 8, typ: faultType}.run(n, 30*time.Second, nil)
	if res.lost > 0 || len(res.ids) != n {
		t.Fatalf("ingest: %d of %d accepted, refusals %v", len(res.ids), n, res.errs)
	}
	apptest.Eventually(t, 20*time.Second, "deliveries in flight", func() bool {
		return rc.total() >= 16 && rc.inflight.Load() >= 4
	})
	return c, api, w1, rc, p, map[string]*hookReceiver{ep.ID: rc}, res
}

// TestFaultWorkerSIGKILL: the only worker is killed with SIGKILL while
// requests are in flight, then a new worker starts. Every event must still
// arrive. A request in flight at the kill was seen by the receiver but is
// recorded by nobody (the process that made it died before it could write
// the attempt), so the log may hold fewer attempts than the receiver got
// requests, never more. Such a delivery is still pending in the database
// and is redelivered later (by asynq once the dead worker's task lease
// expires, or by the sweeper once the delivery is overdue, whichever holds
// it): those deliveries, and only those, arrive twice. Everything the new
// worker sends is in the log.
func TestFaultWorkerSIGKILL(t *testing.T) {
	n := 120
	if testing.Short() {
		n = 60
	}
	c, api, w1, rc, p, byEP, res := killCluster(t, n)
	active := -1
	if tasks, err := c.inspc.ListActiveTasks("deliveries"); err == nil {
		active = len(tasks)
	}
	hitsAtKill := rc.total()
	inflightAtKill := rc.inflight.Load()
	killed := time.Now()
	w1.signal(syscall.SIGKILL)
	if !w1.wait(5 * time.Second) {
		t.Fatal("worker survived SIGKILL")
	}
	w2Start := time.Now()
	w2 := c.startWorker(nil)
	waitAll(t, 80*time.Second, res.ids, rc)
	recovered := time.Since(killed)
	waitQuiet(t, time.Second, 10*time.Second, rc)

	lr := newLogReader(api.URL, p.Key)
	ds := lr.deliveries(t)
	atts := lr.attempts(t, ds, 8)
	acc := account(res.ids, ds, atts, byEP)

	// Split what the receiver saw and what the log holds by worker: the
	// first worker's attempts started before the kill, the second's after;
	// every request that reached the receiver before the second worker
	// existed came from the first.
	hits := rc.snapshot()
	var w2Hits []time.Duration // after the kill, sorted
	for _, hs := range hits {
		for _, h := range hs {
			if !h.Start.Before(w2Start) {
				w2Hits = append(w2Hits, h.Start.Sub(killed))
			}
		}
	}
	sort.Slice(w2Hits, func(i, j int) bool { return w2Hits[i] < w2Hits[j] })
	unfinished, w1Unlogged := 0, 0
	for _, d := range ds {
		var hW1, hW2, aW1, aW2 int
		for _, h := range hits[d.EventID] {
			if h.Start.Before(w2Start) {
				hW1++
				if !h.Finished {
					unfinished++
				}
			} else {
				hW2++
			}
		}
		for _, a := range atts[d.ID] {
			if a.StartedAt.Before(killed) {
				aW1++
			} else {
				aW2++
			}
		}
		if hW2 != aW2 {
			t.Errorf("delivery %s: the second worker made %d requests but logged %d attempts", d.ID, hW2, aW2)
		}
		if u := hW1 - aW1; u < 0 || u > 1 {
			t.Errorf("delivery %s: the killed worker made %d requests and logged %d attempts", d.ID, hW1, aW1)
		} else {
			w1Unlogged += u
		}
	}
	t.Log(w2.logSummary())
	t.Logf("SIGKILL: %s", acc)
	acc.checkNoResend(t)
	t.Logf("SIGKILL: killed with %d requests received, %d in flight at the receiver, %d tasks active in asynq; %d requests cut off by the kill, %d attempts of the dead worker unrecorded; every event delivered %s after the kill",
		hitsAtKill, inflightAtKill, active, unfinished, w1Unlogged, recovered.Round(time.Millisecond))
	if len(w2Hits) > 0 {
		t.Logf("SIGKILL: the new worker's %d requests went out from %s to %s after the kill (median %s)", len(w2Hits),
			w2Hits[0].Round(time.Millisecond), w2Hits[len(w2Hits)-1].Round(time.Millisecond), w2Hits[len(w2Hits)/2].Round(time.Millisecond))
	}

	if acc.deliveries != n || acc.succeeded != n || acc.missing != 0 {
		t.Errorf("want %d succeeded deliveries, all received: %s", n, acc)
	}
	if len(acc.notLoggedOK) != 0 {
		t.Errorf("the log records attempts no receiver got: %v", first(acc.notLoggedOK, 5))
	}
	if unfinished == 0 {
		t.Errorf("no request was in flight at the kill: the test proved nothing")
	}
	if w1Unlogged < unfinished {
		t.Errorf("unrecorded attempts of the killed worker: %d; want at least the %d cut off by the kill", w1Unlogged, unfinished)
	}
	if acc.duplicates != w1Unlogged || acc.unlogged != w1Unlogged {
		t.Errorf("duplicates %d and hits missing from the log %d; want both %d (the in-flight ones): %v",
			acc.duplicates, acc.unlogged, w1Unlogged, first(acc.dupPairs, 5))
	}
}

// TestFaultWorkerSIGTERM: graceful shutdown finishes in-flight work. The
// only worker gets SIGTERM while requests are in flight: it stops taking
// tasks, lets the attempts it started finish and records them, and exits;
// a new worker delivers the rest. No request is cut off, every request is
// in the log, nothing arrives twice.
func TestFaultWorkerSIGTERM(t *testing.T) {
	n := 80
	if testing.Short() {
		n = 40
	}
	c, api, w1, rc, p, byEP, res := killCluster(t, n)
	inflight := rc.inflight.Load()
	termed := time.Now()
	w1.signal(syscall.SIGTERM)
	if !w1.wait(15 * time.Second) {
		t.Fatal("worker did not exit within 15s of SIGTERM")
	}
	exitedIn := time.Since(termed)
	if w1.err != nil {
		t.Errorf("worker exited with %v after SIGTERM", w1.err)
	}
	delivered := rc.total()
	w2 := c.startWorker(nil)
	waitAll(t, 30*time.Second, res.ids, rc)
	recovered := time.Since(termed)
	waitQuiet(t, time.Second, 10*time.Second, rc)

	lr := newLogReader(api.URL, p.Key)
	ds := lr.deliveries(t)
	acc := account(res.ids, ds, lr.attempts(t, ds, 8), byEP)
	unfinished := 0
	for _, hs := range rc.snapshot() {
		for _, h := range hs {
			if !h.Finished {
				unfinished++
			}
		}
	}
	t.Log(w1.logSummary())
	t.Log(w2.logSummary())
	t.Logf("SIGTERM: %s", acc)
	acc.checkNoResend(t)
	t.Logf("SIGTERM: %d requests in flight at the signal; the worker exited %s later with %d requests made; every event delivered %s after the signal",
		inflight, exitedIn.Round(time.Millisecond), delivered, recovered.Round(time.Millisecond))
	if acc.deliveries != n || acc.succeeded != n || acc.missing != 0 {
		t.Errorf("want %d succeeded deliveries, all received: %s", n, acc)
	}
	if unfinished != 0 {
		t.Errorf("%d requests were cut off by a graceful shutdown", unfinished)
	}
	if acc.duplicates != 0 || acc.unlogged != 0 || acc.attempts != acc.hits || len(acc.notLoggedOK) != 0 {
		t.Errorf("after a graceful shutdown every request is logged once and nothing repeats: %s", acc)
	}
}

// TestFaultSlowReceiverBacklog: a receiver that answers slowly builds a
// backlog longer than the sweeper's grace (200 deliveries × 250 ms under a
// concurrency cap of 4: about 12 s of waiting). Waiting deliveries are
// pending and overdue in the database; the sweeper must not turn that into
// a second copy of any delivery. Nothing fails, so nothing may arrive twice
// and the log holds exactly one successful attempt per delivery.
func TestFaultSlowReceiverBacklog(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 120
	}
	rc := newHookReceiver(t, slow(250*time.Millisecond))
	g := apptest.Start(t, apptest.Options{Env: map[string]string{"HOOKGATE_ENDPOINT_CONCURRENCY": "4"}})
	p := g.NewPartner("Backlog Co")
	ep := g.NewEndpoint(p, rc.URL, []string{faultType}, nil)
	res := producer{bases: []string{g.URL}, conc: 8, typ: faultType}.run(n, 30*time.Second, nil)
	if res.lost > 0 || len(res.ids) != n {
		t.Fatalf("ingest: %d of %d accepted, refusals %v", len(res.ids), n, res.errs)
	}
	took := waitAll(t, 60*time.Second, res.ids, rc)
	waitQuiet(t, time.Second, 10*time.Second, rc) // would a duplicate still arrive?
	lr := newLogReader(g.URL, p.Key)
	ds := lr.deliveries(t)
	acc := account(res.ids, ds, lr.attempts(t, ds, 8), map[string]*hookReceiver{ep.ID: rc})
	swept := 0
	for _, line := range strings.Split(g.Logs(), "\n") {
		if !strings.Contains(line, "sweeper re-queued work") {
			continue
		}
		if _, v, ok := strings.Cut(line, " count="); ok {
			var k int
			fmt.Sscan(v, &k)
			swept += k
		}
	}
	t.Logf("slow receiver backlog: %s", acc)
	t.Logf("slow receiver backlog: all delivered %s after ingest; the sweeper re-queued %d deliveries meanwhile", took.Round(time.Millisecond), swept)
	acc.checkNoResend(t)
	if acc.deliveries != n || acc.succeeded != n || acc.missing != 0 {
		t.Errorf("want %d succeeded deliveries, all received: %s", n, acc)
	}
	if acc.duplicates != 0 || acc.attempts != acc.hits || acc.unlogged != 0 {
		t.Errorf("no fault, yet %d deliveries arrived twice (%d hits, %d attempts logged): %v", acc.duplicates, acc.hits, acc.attempts, first(acc.dupPairs, 5))
	}
}

// resetConn answers by resetting the connection (RST, no status line).
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// TestReceiverFaults: receivers that hang past the endpoint's timeout,
// reset the connection, answer slowly, or answer 500, 429 (with
// Retry-After) or 410. Each endpoint gets the same event; the table checks
// the delivery's final state, the error class and status of each attempt,
// that 410 disables the endpoint, and that Retry-After delays the next
// attempt within [scheduled delay, twice it]. Jitter is off so the
// scheduled delays are exact.
func TestReceiverFaults(t *testing.T) {
	type step struct {
		kind       string // ok, hang, reset, slow, status
		status     int
		retryAfter string
	}
	type outcome struct {
		Status  string   // final delivery status
		Classes []string // error class per attempt ("" = success)
		Codes   []int    // response status per attempt (0 = none)
	}
	tests := []struct {
		name     string
		schedule []string // endpoint retry schedule
		script   []step   // answer per request; the last repeats
		want     outcome
		// gap bounds the time between the first two requests.
		gapMin, gapMax time.Duration
		minDuration    time.Duration // of the first attempt
		disabled       bool
	}{
		{name: "hang past the timeout, then answer", schedule: []string{"1s"},
			script: []step{{kind: "hang"}, {kind: "ok"}},
			want:   outcome{"succeeded", []string{"timeout", ""}, []int{0, 204}}, minDuration: 900 * time.Millisecond},
		{name: "hang every time", schedule: []string{"1s"},
			script: []step{{kind: "hang"}},
			want:   outcome{"failed", []string{"timeout", "timeout"}, []int{0, 0}}},
		{name: "reset the connection, then answer", schedule: []string{"1s"},
			script: []step{{kind: "reset"}, {kind: "ok"}},
			want:   outcome{"succeeded", []string{"connection_reset", ""}, []int{0, 204}}},
		{name: "answer slowly within the timeout",
			script: []step{{kind: "slow"}},
			want:   outcome{"succeeded", []string{""}, []int{204}}, minDuration: 600 * time.Millisecond},
		{name: "500 every time", schedule: []string{"1s"},
			script: []step{{kind: "status", status: 500}},
			want:   outcome{"failed", []string{"http_status", "http_status"}, []int{500, 500}}},
		{name: "429 with Retry-After inside the bound is honoured", schedule: []string{"2s"},
			script: []step{{kind: "status", status: 429, retryAfter: "3"}, {kind: "ok"}},
			want:   outcome{"succeeded", []string{"http_status", ""}, []int{429, 204}},
			gapMin: 3 * time.Second, gapMax: 4 * time.Second},
		{name: "429 with a huge Retry-After waits twice the scheduled delay", schedule: []string{"1s"},
			script: []step{{kind: "status", status: 429, retryAfter: "3600"}, {kind: "ok"}},
			want:   outcome{"succeeded", []string{"http_status", ""}, []int{429, 204}},
			gapMin: 2 * time.Second, gapMax: 2 * time.Second},
		{name: "429 with a short Retry-After keeps the scheduled delay", schedule: []string{"2s"},
			script: []step{{kind: "status", status: 429, retryAfter: "0"}, {kind: "ok"}},
			want:   outcome{"succeeded", []string{"http_status", ""}, []int{429, 204}},
			gapMin: 2 * time.Second, gapMax: 2 * time.Second},
		{name: "410 disables the endpoint", schedule: []string{"1s"},
			script:   []step{{kind: "status", status: 410}},
			want:     outcome{"failed", []string{"http_status"}, []int{410}},
			disabled: true},
	}

	g := apptest.Start(t, apptest.Options{Env: map[string]string{"HOOKGATE_RETRY_JITTER": "0"}})
	p := g.NewPartner("Faulty Receivers Co")
	type row struct {
		rc *hookReceiver
		ep apptest.Endpoint
	}
	rows := make([]row, len(tests))
	for i, tc := range tests {
		script := tc.script
		rc := newHookReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
			s := script[min(n, len(script))-1]
			switch s.kind {
			case "hang":
				select { // far beyond the endpoint's 1 s timeout
				case <-time.After(10 * time.Second):
				case <-r.Context().Done():
					return
				}
				w.WriteHeader(204)
			case "reset":
				resetConn(w)
			case "slow":
				time.Sleep(600 * time.Millisecond)
				w.WriteHeader(204)
			case "status":
				if s.retryAfter != "" {
					w.Header().Set("Retry-After", s.retryAfter)
				}
				w.WriteHeader(s.status)
				fmt.Fprintf(w, "answer %d", s.status)
			default:
				w.WriteHeader(204)
			}
		})
		extra := map[string]any{"timeout_seconds": 1}
		if tc.schedule != nil {
			extra["retry_schedule"] = tc.schedule
		}
		rows[i] = row{rc: rc, ep: g.NewEndpoint(p, rc.URL, []string{faultType}, extra)}
	}
	ev := g.Must(202, "POST", "/v1/events", apptest.AdminToken, map[string]any{
		"type": faultType, "data": map[string]any{"id": 1, "amount": 12.5},
	}).Map(t)
	evID := ev["id"].(string)

	// Wait until every delivery is final.
	var ds []any
	apptest.Eventually(t, 30*time.Second, "every delivery to be final", func() bool {
		ds = g.Must(200, "GET", "/v1/deliveries?event_id="+evID+"&limit=50", p.Key, nil).Map(t)["data"].([]any)
		if len(ds) != len(tests) {
			return false
		}
		for _, d := range ds {
			if s := d.(map[string]any)["status"]; s != "succeeded" && s != "failed" {
				return false
			}
		}
		return true
	})
	byEP := map[string]map[string]any{}
	for _, d := range ds {
		d := d.(map[string]any)
		byEP[d["endpoint_id"].(string)] = d
	}
	time.Sleep(300 * time.Millisecond) // no straggling attempt

	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rows[i]
			d := byEP[r.ep.ID]
			if d == nil {
				t.Fatalf("no delivery to the endpoint")
			}
			atts := g.Must(200, "GET", "/v1/deliveries/"+d["id"].(string)+"/attempts", p.Key, nil).Map(t)["data"].([]any)
			var classes []string
			var codes []int
			for _, a := range atts {
				a := a.(map[string]any)
				classes = append(classes, a["error_class"].(string))
				code := 0
				if resp, ok := a["response"].(map[string]any); ok {
					code = int(resp["status"].(float64))
				}
				codes = append(codes, code)
			}
			got := outcome{Status: d["status"].(string), Classes: classes, Codes: codes}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("delivery outcome (-want +got):\n%s", diff)
			}
			if int(d["attempts"].(float64)) != len(atts) {
				t.Errorf("delivery counts %v attempts, the log lists %d", d["attempts"], len(atts))
			}
			hits := r.rc.snapshot()[evID]
			if len(hits) != len(atts) || r.rc.total() != len(atts) {
				t.Errorf("receiver got %d requests (%d for the event), the log lists %d attempts", r.rc.total(), len(hits), len(atts))
			}
			if tc.minDuration > 0 && len(atts) > 0 {
				if ms := atts[0].(map[string]any)["duration_ms"].(float64); ms < float64(tc.minDuration.Milliseconds()) || ms > 5000 {
					t.Errorf("first attempt took %.0f ms; want at least %s", ms, tc.minDuration)
				}
			}
			if tc.gapMax > 0 && len(atts) >= 2 {
				t0 := atts[0].(map[string]any)["started_at"].(string)
				t1 := atts[1].(map[string]any)["started_at"].(string)
				a0, _ := time.Parse(time.RFC3339Nano, t0)
				a1, _ := time.Parse(time.RFC3339Nano, t1)
				gap := a1.Sub(a0)
				// The retry is due gap after the first attempt started
				// (both times come from the worker's clock) and must never
				// run earlier. asynq keeps retry times in whole seconds, so
				// it may run up to a second later, plus a queue poll.
				if gap < tc.gapMin || gap > tc.gapMax+1200*time.Millisecond {
					t.Errorf("second attempt %s after the first; want from %s to %s", gap, tc.gapMin, tc.gapMax)
				}
				t.Logf("retry %s after the first attempt (receiver saw %s)", gap.Round(time.Millisecond), hits[1].Start.Sub(hits[0].Start).Round(time.Millisecond))
			}
			e := g.Must(200, "GET", "/v1/endpoints/"+r.ep.ID, p.Key, nil).Map(t)
			if tc.disabled {
				if e["status"] != "disabled" || e["status_reason"] == "" {
					t.Errorf("after 410 the endpoint is %v (%q); want disabled with a reason", e["status"], e["status_reason"])
				}
			} else if e["status"] != "active" {
				t.Errorf("endpoint is %v (%q); want active", e["status"], e["status_reason"])
			}
		})
	}

	// A disabled endpoint gets nothing more; the others get the next event.
	g.Must(202, "POST", "/v1/events", apptest.AdminToken, map[string]any{
		"type": faultType, "data": map[string]any{"id": 2, "amount": 1.5},
	})
	var slowRow row
	for i, tc := range tests {
		if tc.name == "answer slowly within the timeout" {
			slowRow = rows[i]
		}
	}
	apptest.Eventually(t, 10*time.Second, "the next event at a live endpoint", func() bool { return slowRow.rc.total() == 2 })
	time.Sleep(300 * time.Millisecond)
	if gone := rows[len(rows)-1]; gone.rc.total() != 1 {
		t.Errorf("the endpoint disabled by 410 got %d requests, want 1", gone.rc.total())
	}
}

func first(s []string, n int) []string {
	return s[:min(n, len(s))]
}

func sinceOr(t, ref time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Sub(ref).Round(time.Millisecond).String()
}
