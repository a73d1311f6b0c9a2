package store_test

import (
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/testenv"
)

// TestDeliveryLogStore runs the delivery log's storage suite (time
// filters, jobs, replay selection, retention) on SQLite and PostgreSQL.
func TestDeliveryLogStore(t *testing.T) {
	for _, b := range testenv.Backends {
		t.Run(b.Name, func(t *testing.T) {
			for _, c := range []struct {
				name string
				f    func(t *testing.T, st *store.Store)
			}{
				{"time filter", testLogTimeFilter},
				{"jobs", testJobs},
				{"replay selection", testReplaySelection},
				{"retention", testRetention},
			} {
				t.Run(c.name, func(t *testing.T) { c.f(t, open(t, b)) })
			}
		})
	}
}

// eventAt stores an event received at `at` (its id carries that time).
func eventAt(t *testing.T, st *store.Store, typ string, at time.Time, mod func(*domain.Event)) domain.Event {
	t.Helper()
	e := domain.Event{ID: ids.NewAt(ids.Event, at), Type: typ, SourceID: "src_x", Model: "sale.order", RecordID: 1,
		OccurredAt: at, ReceivedAt: at, Payload: []byte(`{"id":"x"}`)}
	if mod != nil {
		mod(&e)
	}
	if _, err := st.InsertEvents(ctx, []domain.Event{e}, time.Hour, at); err != nil {
		t.Fatal(err)
	}
	return e
}

// deliveryAt records the delivery of ev to ep created at `at`.
func deliveryAt(t *testing.T, st *store.Store, ev domain.Event, ep domain.Endpoint, status domain.DeliveryStatus, at time.Time) domain.Delivery {
	t.Helper()
	d := domain.Delivery{ID: ids.NewAt(ids.Delivery, at), EventID: ev.ID, EndpointID: ep.ID, PartnerID: ep.PartnerID,
		EventType: ev.Type, Status: status, CreatedAt: at, UpdatedAt: at}
	if _, err := st.FanOut(ctx, []string{ev.ID}, []domain.Delivery{d}); err != nil {
		t.Fatal(err)
	}
	return d
}

func testLogTimeFilter(t *testing.T, st *store.Store) {
	p := newPartner(t, st, domain.PartnerActive)
	ep := newEndpoint(t, st, p, domain.EndpointActive)
	base := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	var ds []domain.Delivery
	for i := range 6 {
		// 250µs apart: several share a millisecond, so the id bound alone
		// would not be exact.
		at := base.Add(time.Duration(i) * 250 * time.Microsecond)
		ev := eventAt(t, st, "order.confirmed", at, nil)
		ds = append(ds, deliveryAt(t, st, ev, ep, domain.DeliveryFailed, at))
	}
	idsOf := func(idx ...int) []string {
		out := []string{}
		for i := len(idx) - 1; i >= 0; i-- { // newest first
			out = append(out, ds[idx[i]].ID)
		}
		return out
	}
	for _, c := range []struct {
		name         string
		since, until time.Time
		want         []string
	}{
		{"all", time.Time{}, time.Time{}, idsOf(0, 1, 2, 3, 4, 5)},
		{"since exact", ds[2].CreatedAt, time.Time{}, idsOf(2, 3, 4, 5)},
		{"since one µs after", ds[2].CreatedAt.Add(time.Microsecond), time.Time{}, idsOf(3, 4, 5)},
		{"until exact (exclusive)", time.Time{}, ds[3].CreatedAt, idsOf(0, 1, 2)},
		{"until one µs after", time.Time{}, ds[3].CreatedAt.Add(time.Microsecond), idsOf(0, 1, 2, 3)},
		{"window", ds[1].CreatedAt, ds[5].CreatedAt, idsOf(1, 2, 3, 4)},
		{"before everything", base.Add(-time.Hour), base, idsOf()},
	} {
		t.Run(c.name, func(t *testing.T) {
			page, err := st.ListDeliveries(ctx, store.DeliveryFilter{PartnerID: p.ID, Since: c.since, Until: c.until}, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, d := range page.Items {
				got = append(got, d.ID)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	plan, err := st.ExplainListDeliveries(ctx, store.DeliveryFilter{PartnerID: p.ID, EndpointID: ep.ID, Status: domain.DeliveryFailed}, "", 50)
	if err != nil || len(plan) == 0 {
		t.Fatalf("explain: %v %v", plan, err)
	}
}

func testJobs(t *testing.T, st *store.Store) {
	p := newPartner(t, st, domain.PartnerActive)
	other := newPartner(t, st, domain.PartnerActive)
	ep := newEndpoint(t, st, p, domain.EndpointActive)
	n := now()
	job := domain.Job{
		ID: ids.NewAt(ids.Job, n), Kind: domain.JobRecover, PartnerID: p.ID, Status: domain.JobQueued, Total: 3,
		Params:    domain.JobParams{Since: n.Add(-time.Hour), Until: n, EndpointID: ep.ID},
		NextRunAt: n, CreatedAt: n, UpdatedAt: n,
	}
	if err := st.CreateJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	got, err := st.Job(ctx, p.ID, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(job, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	for _, c := range []struct {
		name    string
		partner string
		kinds   []domain.JobKind
	}{
		{"another partner", other.ID, nil},
		{"another kind", p.ID, []domain.JobKind{domain.JobReplay}},
	} {
		if _, err := st.Job(ctx, c.partner, job.ID, c.kinds...); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("%s: %v, want not found", c.name, err)
		}
	}
	// One active recovery per endpoint.
	dup := job
	dup.ID = ids.New(ids.Job)
	if err := st.CreateJob(ctx, dup); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("second active recovery: %v, want conflict", err)
	}
	if a, ok, err := st.ActiveJob(ctx, domain.JobRecover, ep.ID); err != nil || !ok || a.ID != job.ID {
		t.Errorf("active job: %v %v %v", a.ID, ok, err)
	}

	// Three failed deliveries; the job hands two over.
	var ds []domain.Delivery
	for range 3 {
		ev := eventAt(t, st, "order.confirmed", n, nil)
		ds = append(ds, deliveryAt(t, st, ev, ep, domain.DeliveryFailed, n))
	}
	handedAt := n.Add(time.Second)
	if err := st.AdvanceJob(ctx, job.ID, []string{ds[0].ID, ds[1].ID}, handedAt, ds[1].ID, n.Add(time.Minute), handedAt); err != nil {
		t.Fatal(err)
	}
	// A repeated hand-over is not counted twice.
	if err := st.AdvanceJob(ctx, job.ID, []string{ds[1].ID}, handedAt, "", n.Add(time.Minute), handedAt); err != nil {
		t.Fatal(err)
	}
	handed, err := st.HandedDeliveries(ctx, job.ID, []string{ds[0].ID, ds[1].ID, ds[2].ID})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]bool{ds[0].ID: true, ds[1].ID: true}, handed); diff != "" {
		t.Errorf("handed (-want +got):\n%s", diff)
	}
	// Attempts: ds[0] recovered; ds[1] failed its recover attempt; an
	// older recover attempt of ds[1] and a manual one do not count.
	attempt := func(d domain.Delivery, trig domain.Trigger, at time.Time, class string) store.Outcome {
		st := domain.DeliverySucceeded
		if class != "" {
			st = domain.DeliveryFailed
		}
		return store.Outcome{Attempt: domain.Attempt{ID: ids.New(ids.Attempt), DeliveryID: d.ID, EndpointID: ep.ID, PartnerID: p.ID,
			Number: 2, Trigger: trig, StartedAt: at, RequestHeaders: map[string]string{}, ErrorClass: class}, Status: st, Attempts: 2}
	}
	if err := st.RecordOutcomes(ctx, []store.Outcome{
		attempt(ds[0], domain.TriggerRecover, handedAt.Add(time.Second), ""),
		attempt(ds[1], domain.TriggerRecover, n.Add(-time.Minute), ""),
		attempt(ds[1], domain.TriggerManual, handedAt.Add(time.Second), ""),
		attempt(ds[1], domain.TriggerRecover, handedAt.Add(2*time.Second), "http_status"),
	}); err != nil {
		t.Fatal(err)
	}
	got, err = st.Job(ctx, p.ID, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := struct {
		Status                         domain.JobStatus
		Total, Done, Succeeded, Failed int64
		Cursor                         string
	}{domain.JobRunning, 3, 2, 1, 1, ds[1].ID}
	gotP := want
	gotP.Status, gotP.Total, gotP.Done, gotP.Succeeded, gotP.Failed, gotP.Cursor = got.Status, got.Total, got.Done, got.Succeeded, got.Failed, got.Cursor
	if diff := cmp.Diff(want, gotP); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	if got.StartedAt == nil {
		t.Error("started_at not set")
	}
	if stale, err := st.StaleJobs(ctx, n.Add(2*time.Minute), 10); err != nil || len(stale) != 1 {
		t.Errorf("stale jobs: %v %v", stale, err)
	}
	if stale, _ := st.StaleJobs(ctx, n.Add(30*time.Second), 10); len(stale) != 0 {
		t.Errorf("a job not yet due is stale: %v", stale)
	}
	if err := st.FinishJob(ctx, job.ID, domain.JobCompleted, "", n); err != nil {
		t.Fatal(err)
	}
	got, _ = st.Job(ctx, p.ID, job.ID)
	if got.Status != domain.JobCompleted || got.Total != 2 || got.FinishedAt == nil {
		t.Errorf("completed job: %+v", got)
	}
	if err := st.CancelJob(ctx, job.ID, n); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("cancel a completed job: %v, want conflict", err)
	}
	// Finished: a new recovery of the endpoint may start.
	if err := st.CreateJob(ctx, dup); err != nil {
		t.Errorf("recovery after the first completed: %v", err)
	}
	if err := st.CancelJob(ctx, dup.ID, n); err != nil {
		t.Errorf("cancel: %v", err)
	}
	// Failed-deliveries selection, oldest first, after a cursor.
	fd, err := st.FailedDeliveries(ctx, p.ID, ep.ID, n.Add(-time.Hour), n.Add(time.Hour), ds[0].ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	// ds[0] succeeded; ds[1]'s last outcome failed; ds[2] is still failed.
	gotIDs := []string{}
	for _, d := range fd {
		gotIDs = append(gotIDs, d.ID)
	}
	if diff := cmp.Diff([]string{ds[1].ID, ds[2].ID}, gotIDs); diff != "" {
		t.Errorf("failed deliveries after the cursor (-want +got):\n%s", diff)
	}
	if c, err := st.CountFailedDeliveries(ctx, other.ID, ep.ID, n.Add(-time.Hour), n.Add(time.Hour)); err != nil || c != 0 {
		t.Errorf("another partner's count: %d %v", c, err)
	}
}

func testReplaySelection(t *testing.T, st *store.Store) {
	base := now().Add(-time.Hour)
	active := newPartner(t, st, domain.PartnerActive) // entitled to order.*
	suspended := newPartner(t, st, domain.PartnerSuspended)
	a1 := newEndpoint(t, st, active, domain.EndpointActive) // order.*
	a2 := newEndpoint(t, st, active, domain.EndpointActive)
	a2.EventTypes = []string{"order.confirmed", "invoice.paid"} // invoice.* is beyond entitlements
	if err := st.UpdateEndpoint(ctx, a2); err != nil {
		t.Fatal(err)
	}
	newEndpoint(t, st, active, domain.EndpointPaused)
	newEndpoint(t, st, suspended, domain.EndpointActive)

	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }
	var evs []domain.Event
	for i, typ := range []string{"order.confirmed", "order.cancelled", "invoice.paid", "order.confirmed"} {
		evs = append(evs, eventAt(t, st, typ, at(i), nil))
	}
	eventAt(t, st, "order.confirmed", at(4), func(e *domain.Event) { e.PartnerID = active.ID }) // operational/test
	purged := eventAt(t, st, "order.confirmed", at(5), func(e *domain.Event) { e.Payload = nil })
	eventAt(t, st, "order.confirmed", at(100), nil) // outside the window
	_ = purged

	// a1 already has the first event.
	existing := deliveryAt(t, st, evs[0], a1, domain.DeliverySucceeded, at(0))

	all := store.ReplaySelection{Since: base, Until: at(50)}
	for _, c := range []struct {
		name string
		sel  store.ReplaySelection
		want int64
	}{
		// a1 (order.*): events 0, 1, 3; a2 (order.confirmed): 0, 3.
		{"everything", all, 5},
		{"one type", store.ReplaySelection{Since: base, Until: at(50), EventTypes: []string{"order.cancelled"}}, 1},
		{"one endpoint", store.ReplaySelection{Since: base, Until: at(50), EndpointID: a2.ID}, 2},
		{"suspended partner", store.ReplaySelection{Since: base, Until: at(50), PartnerID: suspended.ID}, 0},
		{"missing only", store.ReplaySelection{Since: base, Until: at(50), PartnerID: active.ID, EndpointID: a1.ID, MissingOnly: true}, 2},
		{"empty window", store.ReplaySelection{Since: at(6), Until: at(50)}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, err := st.CountReplay(ctx, c.sel)
			if err != nil {
				t.Fatal(err)
			}
			if n != c.want {
				t.Errorf("count %d, want %d", n, c.want)
			}
			// Chunks of at most 1 pair per event boundary walk the same pairs.
			var pairs []string
			after := ""
			for {
				ps, last, more, err := st.ReplayChunk(ctx, c.sel, after, 1)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range ps {
					pairs = append(pairs, p.EventID+">"+p.Endpoint.ID)
				}
				if !more {
					break
				}
				after = last
			}
			if int64(len(pairs)) != c.want {
				t.Errorf("chunks walked %d pairs, count says %d: %v", len(pairs), c.want, pairs)
			}
			seen := map[string]bool{}
			for _, p := range pairs {
				if seen[p] {
					t.Errorf("pair %s twice", p)
				}
				seen[p] = true
			}
		})
	}

	// EnsureDeliveries keeps the existing delivery and creates the rest.
	pairs, _, _, err := st.ReplayChunk(ctx, all, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var ds []domain.Delivery
	for _, p := range pairs {
		ds = append(ds, domain.Delivery{ID: ids.New(ids.Delivery), EventID: p.EventID, EndpointID: p.Endpoint.ID,
			PartnerID: p.Endpoint.PartnerID, EventType: p.EventType, Status: domain.DeliveryPending, CreatedAt: now(), UpdatedAt: now()})
	}
	got, err := st.EnsureDeliveries(ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ds) {
		t.Fatalf("ensured %d of %d", len(got), len(ds))
	}
	for i, d := range got {
		if d.EventID != ds[i].EventID || d.EndpointID != ds[i].EndpointID {
			t.Errorf("order: %d is %s>%s, want %s>%s", i, d.EventID, d.EndpointID, ds[i].EventID, ds[i].EndpointID)
		}
		if d.EventID == existing.EventID && d.EndpointID == existing.EndpointID && d.ID != existing.ID {
			t.Errorf("existing delivery replaced: %s, want %s", d.ID, existing.ID)
		}
	}
	again, err := st.EnsureDeliveries(ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("second ensure differs (-first +second):\n%s", diff)
	}
}

func testRetention(t *testing.T, st *store.Store) {
	p := newPartner(t, st, domain.PartnerActive)
	ep := newEndpoint(t, st, p, domain.EndpointActive)
	n := now()
	cutoff := n.Add(-30 * 24 * time.Hour)
	old, recent := cutoff.Add(-time.Hour), cutoff.Add(time.Hour)

	oldDone := eventAt(t, st, "order.confirmed", old, nil)
	oldHeld := eventAt(t, st, "order.confirmed", old, nil)
	newEv := eventAt(t, st, "order.confirmed", recent, nil)
	d1 := deliveryAt(t, st, oldDone, ep, domain.DeliverySucceeded, old)
	deliveryAt(t, st, oldHeld, ep, domain.DeliveryHeld, old)
	deliveryAt(t, st, newEv, ep, domain.DeliverySucceeded, recent)
	var outs []store.Outcome
	for i := range 25 {
		at := old
		if i%5 == 0 {
			at = recent
		}
		outs = append(outs, store.Outcome{Attempt: domain.Attempt{ID: ids.NewAt(ids.Attempt, at), DeliveryID: d1.ID, EndpointID: ep.ID,
			PartnerID: p.ID, Number: i + 1, Trigger: domain.TriggerScheduled, StartedAt: at, RequestHeaders: map[string]string{}},
			Status: domain.DeliverySucceeded, Attempts: i + 1})
	}
	if err := st.RecordOutcomes(ctx, outs); err != nil {
		t.Fatal(err)
	}

	// Batches of 7: the 20 old attempts go in batches of 7, 7 and 6.
	var total int64
	batches := 0
	for {
		k, err := st.PurgeAttempts(ctx, cutoff, 7)
		if err != nil {
			t.Fatal(err)
		}
		if k > 7 {
			t.Fatalf("a batch removed %d rows", k)
		}
		total += k
		batches++
		if k < 7 {
			break
		}
	}
	if total != 20 || batches != 3 {
		t.Errorf("purged %d attempts in %d batches, want 20 in 3", total, batches)
	}
	as, _ := st.Attempts(ctx, p.ID, d1.ID)
	if len(as) != 5 {
		t.Errorf("%d attempts left, want the 5 recent ones", len(as))
	}

	k, err := st.PurgeEventPayloads(ctx, cutoff, 100)
	if err != nil {
		t.Fatal(err)
	}
	if k != 1 {
		t.Errorf("purged %d payloads, want 1 (the held delivery's event keeps its payload)", k)
	}
	for _, c := range []struct {
		ev      domain.Event
		payload bool
	}{{oldDone, false}, {oldHeld, true}, {newEv, true}} {
		e, err := st.Event(ctx, c.ev.ID)
		if err != nil {
			t.Fatalf("the event row must stay: %v", err)
		}
		if (len(e.Payload) > 0) != c.payload {
			t.Errorf("event %s payload kept=%v, want %v", c.ev.ID, len(e.Payload) > 0, c.payload)
		}
	}
	if _, err := st.Delivery(ctx, p.ID, d1.ID); err != nil {
		t.Errorf("the delivery must stay in the log: %v", err)
	}

	// Idempotency keys: expired ones go.
	e1 := newEvent("src_r", "gone")
	if _, err := st.InsertEvents(ctx, []domain.Event{e1}, time.Hour, n.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if k, err := st.PurgeIdempotencyKeys(ctx, n, 100); err != nil || k != 1 {
		t.Errorf("idempotency keys purged: %d %v", k, err)
	}

	// Jobs: finished and old go with their items; running ones stay.
	mk := func(status domain.JobStatus, at time.Time) string {
		j := domain.Job{ID: ids.NewAt(ids.Job, at), Kind: domain.JobReplay, Status: status, NextRunAt: at, CreatedAt: at, UpdatedAt: at}
		if err := st.CreateJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		if err := st.AdvanceJob(ctx, j.ID, []string{d1.ID}, at, "", at, at); err != nil {
			t.Fatal(err)
		}
		return j.ID
	}
	oldDoneJob, oldRunning, recentDone := mk(domain.JobCompleted, old), mk(domain.JobRunning, old), mk(domain.JobCompleted, recent)
	if k, err := st.PurgeJobs(ctx, cutoff, 100); err != nil || k != 1 {
		t.Errorf("jobs purged: %d %v", k, err)
	}
	for id, kept := range map[string]bool{oldDoneJob: false, oldRunning: true, recentDone: true} {
		_, err := st.JobState(ctx, id)
		if (err == nil) != kept {
			t.Errorf("job %s kept=%v (%v)", id, err == nil, err)
		}
	}
	if h, _ := st.HandedDeliveries(ctx, oldDoneJob, []string{d1.ID}); len(h) != 0 {
		t.Error("a purged job's items remain")
	}

	// Runs are recorded; the newest is reported.
	if _, ok, err := st.LastRetentionRun(ctx); err != nil || ok {
		t.Fatalf("before any run: %v %v", ok, err)
	}
	for i, purged := range []int64{3, 9} {
		r := domain.RetentionRun{ID: fmt.Sprintf("ret_%d", i), StartedAt: n.Add(time.Duration(i) * time.Minute),
			FinishedAt: n.Add(time.Duration(i)*time.Minute + time.Second), Cutoff: cutoff, Purged: map[string]int64{"attempts": purged}}
		if err := st.RecordRetentionRun(ctx, r, cutoff); err != nil {
			t.Fatal(err)
		}
	}
	last, ok, err := st.LastRetentionRun(ctx)
	if err != nil || !ok {
		t.Fatalf("last run: %v %v", ok, err)
	}
	if last.ID != "ret_1" || last.Purged["attempts"] != 9 || !last.Cutoff.Equal(cutoff) {
		t.Errorf("last run: %+v", last)
	}
	keys := make([]string, 0, len(last.Purged))
	for k := range last.Purged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if diff := cmp.Diff([]string{"attempts"}, keys); diff != "" {
		t.Errorf("purged tables (-want +got):\n%s", diff)
	}
}
