package e2e

import (
	"fmt"
	"sort"
	"testing"
	"time"
)

// TestScaleOut: two `hookgate api` and two `hookgate worker` processes
// against the same PostgreSQL database and Redis deliver 5,000 events to 5
// endpoints (every endpoint subscribes to the type: 25,000 deliveries).
// Every delivery arrives, none twice (no fault is injected, so no retry is
// ever forced), the log holds one successful attempt per delivery, and
// both workers share the work.
func TestScaleOut(t *testing.T) {
	events, endpoints := 5000, 5
	if testing.Short() {
		events = 1000
	}
	recv := make([]*hookReceiver, endpoints)
	for i := range recv {
		recv[i] = newHookReceiver(t, nil)
	}
	c := newCluster(t, map[string]string{"HOOKGATE_WORKER_CONCURRENCY": "100"})
	api1, api2 := c.startAPI(), c.startAPI()
	w1, w2 := c.startWorker(nil), c.startWorker(nil)

	// Configuration through one API process, ingest through both: the other
	// processes learn of the endpoints from the shared database and Redis.
	p := newPartnerVia(t, api1.API, "Scale Co")
	byEP := map[string]*hookReceiver{}
	for _, rc := range recv {
		byEP[newEndpointVia(t, api1.API, p, rc.URL, []string{faultType}, nil).ID] = rc
	}
	cpu0 := []int64{cpuTicks(w1.pid()), cpuTicks(w2.pid())}

	start := time.Now()
	res := producer{bases: []string{api1.URL, api2.URL}, conc: 16, typ: faultType}.run(events, 60*time.Second, nil)
	if res.lost > 0 || len(res.ids) != events {
		t.Fatalf("ingest: %d of %d events accepted; refusals %v", len(res.ids), events, res.errs)
	}
	ingestRate := float64(events) / res.took.Seconds()
	took := waitAll(t, 75*time.Second-time.Since(start), res.ids, recv...)
	all := time.Since(start)
	waitQuiet(t, time.Second, 10*time.Second, recv...) // would a duplicate still arrive?
	cpu := []int64{cpuTicks(w1.pid()) - cpu0[0], cpuTicks(w2.pid()) - cpu0[1]}

	lr := newLogReader(api2.URL, p.Key)
	ds := lr.deliveries(t)
	acc := account(res.ids, ds, nil, byEP)
	if len(acc.dupDeliveries) > 0 {
		// Count the attempt rows, not the counters, where something
		// arrived twice.
		acc = account(res.ids, ds, lr.attempts(t, acc.dupDeliveries, 8), byEP)
	}
	// Spot-check the attempt rows behind the counters.
	sample := make([]logDelivery, 0, 50)
	for i := 0; i < len(ds) && len(sample) < 50; i += max(1, len(ds)/50) {
		sample = append(sample, ds[i])
	}
	for id, atts := range lr.attempts(t, sample, 8) {
		if len(atts) != 1 || atts[0].ErrorClass != "" || atts[0].Response == nil || atts[0].Response.Status != 204 {
			var desc []string
			for _, a := range atts {
				st := 0
				if a.Response != nil {
					st = a.Response.Status
				}
				desc = append(desc, fmt.Sprintf("#%d %s status %d %q at %s", a.Number, a.Trigger, st, a.ErrorClass, a.StartedAt.Format(time.StampMicro)))
			}
			t.Errorf("delivery %s: attempt log %v; want one 204", id, desc)
		}
	}
	t.Logf("scale-out (2 api + 2 worker processes): %s", acc)
	acc.checkNoResend(t)
	t.Logf("scale-out: ingest %d events in %s (%.0f/s, refusals %d); %d deliveries in %s (%.0f/s; the last arrived %s after ingest ended); worker CPU ticks %v",
		events, res.took.Round(time.Millisecond), ingestRate, res.refused, acc.hits, all.Round(time.Millisecond),
		float64(acc.hits)/all.Seconds(), took.Round(time.Millisecond), cpu)

	for _, ch := range []*child{w1, w2, api1.child, api2.child} {
		t.Log(ch.logSummary())
	}

	if acc.deliveries != events*endpoints || acc.succeeded != acc.deliveries || acc.missing != 0 {
		t.Errorf("want %d succeeded deliveries, all received: %s", events*endpoints, acc)
	}
	if acc.duplicates != 0 {
		sort.Strings(acc.dupPairs)
		t.Errorf("%d deliveries arrived twice although no fault forced a retry: %v", acc.duplicates, first(acc.dupPairs, 5))
	}
	if acc.attempts != acc.hits || acc.unlogged != 0 || len(acc.notLoggedOK) != 0 {
		t.Errorf("attempt log and receivers disagree: %s", acc)
	}
	for i, n := range cpu {
		if n*10 < cpu[0]+cpu[1] {
			t.Errorf("worker %d used %d of %d CPU ticks: the work was not shared", i+1, n, cpu[0]+cpu[1])
		}
	}
}
