package sdk_test

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookgate/hookgate/internal/apptest"
	"github.com/hookgate/hookgate/sdk"
)

// waitJob polls get until the job has finished.
func waitJob(t *testing.T, what string, get func() (sdk.Job, error)) sdk.Job {
	t.Helper()
	var j sdk.Job
	apptest.Eventually(t, 20*time.Second, what+" to finish", func() bool {
		var err error
		if j, err = get(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return j.Finished()
	})
	return j
}

// count counts the deliveries matching params.
func count(t *testing.T, c *sdk.Client, params sdk.DeliveryListParams) int {
	t.Helper()
	n := 0
	for _, err := range c.Deliveries(testContext(t), params) {
		if err != nil {
			t.Fatalf("Deliveries: %v", err)
		}
		n++
	}
	return n
}

func TestRecoveryTestSendsReplayAndExport(t *testing.T) {
	e := start(t)
	ctx := testContext(t)
	_, pc := e.partner(t, ctx, "jobs")
	rc := newReceiver(t)
	ep, err := pc.CreateEndpoint(ctx, sdk.EndpointInput{URL: rc.URL + "/one", EventTypes: []string{"order.*"}})
	if err != nil {
		t.Fatal(err)
	}
	rc.setSecrets(ep.Secret)
	rc.setStatus(http.StatusInternalServerError)

	var events []string
	for i := range 3 {
		res, err := e.admin.CreateEvent(ctx, sdk.EventInput{Type: "order.confirmed", Data: map[string]any{"id": i, "name": fmt.Sprintf("S%05d", i), "state": "sale"}, IdempotencyKey: fmt.Sprint("jobs-", i)})
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, res.ID)
	}
	apptest.Eventually(t, 20*time.Second, "3 failed deliveries", func() bool {
		return count(t, pc, sdk.DeliveryListParams{EndpointID: ep.ID, Status: sdk.DeliveryFailed}) == 3
	})

	// Recover: every failed delivery of the endpoint goes again.
	rc.setStatus(http.StatusNoContent)
	if _, err := pc.RecoverEndpoint(ctx, ep.ID, sdk.RecoverInput{Since: time.Now().Add(-30 * 24 * time.Hour)}); !errors.Is(err, sdk.ErrValidation) {
		t.Errorf("RecoverEndpoint over 30 days: %v, want ErrValidation", err)
	}
	job, err := pc.RecoverEndpoint(ctx, ep.ID, sdk.RecoverInput{Since: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatalf("RecoverEndpoint: %v", err)
	}
	if job.Kind != sdk.JobRecover || job.EndpointID != ep.ID || job.Total != 3 || job.Finished() && job.Status != sdk.JobCompleted {
		t.Errorf("RecoverEndpoint answered %+v", job)
	}
	job = waitJob(t, "the recovery", func() (sdk.Job, error) { return pc.GetRecovery(ctx, job.ID) })
	if job.Status != sdk.JobCompleted || job.Done != 3 {
		t.Errorf("finished recovery %+v", job)
	}
	apptest.Eventually(t, 20*time.Second, "3 recovered deliveries", func() bool {
		return count(t, pc, sdk.DeliveryListParams{EndpointID: ep.ID, Status: sdk.DeliverySucceeded}) == 3
	})
	for d, err := range pc.Deliveries(ctx, sdk.DeliveryListParams{EndpointID: ep.ID}) {
		if err != nil {
			t.Fatal(err)
		}
		as, err := pc.ListDeliveryAttempts(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if last := as[len(as)-1]; last.Trigger != "recover" || last.Response == nil || last.Response.Status != 204 {
			t.Errorf("delivery %s: last attempt %+v, want a successful recover", d.ID, last)
		}
	}

	// A test send of a type the endpoint is not even subscribed to.
	td, err := pc.SendTestEvent(ctx, ep.ID, "shipment.dispatched")
	if err != nil {
		t.Fatalf("SendTestEvent: %v", err)
	}
	if td.EndpointID != ep.ID || td.EventType != "shipment.dispatched" {
		t.Errorf("SendTestEvent answered %+v", td)
	}
	apptest.Eventually(t, 20*time.Second, "the test event", func() bool {
		for _, ev := range rc.received() {
			if ev.Type == "shipment.dispatched" && ev.ID == td.EventID {
				return true
			}
		}
		return false
	})
	if _, err := pc.SendTestEvent(ctx, ep.ID, "no.such.type"); !errors.Is(err, sdk.ErrValidation) {
		t.Errorf("SendTestEvent of an unknown type: %v, want ErrValidation", err)
	}

	// Back-fill a new endpoint with the last day's order events.
	ep2, err := pc.CreateEndpoint(ctx, sdk.EndpointInput{URL: rc.URL + "/two", EventTypes: []string{"order.*"}})
	if err != nil {
		t.Fatal(err)
	}
	rc.setSecrets(ep.Secret, ep2.Secret)
	if _, err := pc.BackfillEndpoint(ctx, ep2.ID, 99); !errors.Is(err, sdk.ErrValidation) {
		t.Errorf("BackfillEndpoint of 99 days: %v, want ErrValidation", err)
	}
	bf, err := pc.BackfillEndpoint(ctx, ep2.ID, 1)
	if err != nil {
		t.Fatalf("BackfillEndpoint: %v", err)
	}
	if bf.Kind != sdk.JobBackfill || bf.Days == nil || *bf.Days != 1 || bf.Total != 3 {
		t.Errorf("BackfillEndpoint answered %+v", bf)
	}
	bf = waitJob(t, "the back-fill", func() (sdk.Job, error) { return pc.GetRecovery(ctx, bf.ID) })
	if bf.Status != sdk.JobCompleted {
		t.Errorf("finished back-fill %+v", bf)
	}
	apptest.Eventually(t, 20*time.Second, "3 back-filled deliveries", func() bool {
		return count(t, pc, sdk.DeliveryListParams{EndpointID: ep2.ID, Status: sdk.DeliverySucceeded}) == 3
	})
	var got []string
	for d, err := range pc.Deliveries(ctx, sdk.DeliveryListParams{EndpointID: ep2.ID}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d.EventID)
	}
	slices.Sort(got)
	if diff := cmp.Diff(events, got); diff != "" {
		t.Errorf("back-filled events (-want +got):\n%s", diff)
	}

	// Admin bulk replay: dry run, then the real thing.
	in := sdk.ReplayInput{Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Minute), EventTypes: []string{"order.*"}, EndpointID: ep.ID}
	n, err := e.admin.AdminReplayCount(ctx, in)
	if err != nil {
		t.Fatalf("AdminReplayCount: %v", err)
	}
	if n != 3 {
		t.Errorf("AdminReplayCount = %d, want 3", n)
	}
	rj, err := e.admin.AdminReplay(ctx, in)
	if err != nil {
		t.Fatalf("AdminReplay: %v", err)
	}
	if rj.Kind != sdk.JobReplay || rj.Total != 3 || rj.EndpointID != ep.ID || !slices.Equal(rj.EventTypes, []string{"order.*"}) {
		t.Errorf("AdminReplay answered %+v", rj)
	}
	rj = waitJob(t, "the replay", func() (sdk.Job, error) { return e.admin.AdminGetReplay(ctx, rj.ID) })
	if rj.Status != sdk.JobCompleted {
		t.Errorf("finished replay %+v", rj)
	}
	apptest.Eventually(t, 20*time.Second, "replayed attempts", func() bool {
		replayed := 0
		for d, err := range pc.Deliveries(ctx, sdk.DeliveryListParams{EndpointID: ep.ID, EventType: "order.confirmed"}) {
			if err != nil {
				t.Fatal(err)
			}
			as, err := pc.ListDeliveryAttempts(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range as {
				if a.Trigger == "replay" && a.Response != nil && a.Response.Status == 204 {
					replayed++
				}
			}
		}
		return replayed == 3
	})
	if _, err := pc.GetRecovery(ctx, rj.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("a replay read as a recovery: %v, want ErrNotFound", err)
	}
	cancelled, err := e.admin.AdminCancelReplay(ctx, rj.ID)
	if err != nil && !errors.Is(err, sdk.ErrConflict) {
		t.Errorf("AdminCancelReplay of a finished replay: %v, want it answered or ErrConflict", err)
	}
	if err == nil && cancelled.Status != sdk.JobCompleted && cancelled.Status != sdk.JobCancelled {
		t.Errorf("AdminCancelReplay answered %+v", cancelled)
	}
	if _, err := e.admin.AdminCancelReplay(ctx, "job_missing"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("AdminCancelReplay of an unknown id: %v, want ErrNotFound", err)
	}
	if _, err := e.admin.AdminReplay(ctx, sdk.ReplayInput{Since: time.Now(), Until: time.Now().Add(-time.Hour)}); !errors.Is(err, sdk.ErrValidation) {
		t.Errorf("AdminReplay with until before since: %v, want ErrValidation", err)
	}
	if _, err := pc.AdminReplay(ctx, in); !errors.Is(err, sdk.ErrForbidden) {
		t.Errorf("AdminReplay as a partner: %v, want ErrForbidden", err)
	}

	// Export: the whole log as CSV and as NDJSON agrees with the pages.
	var listed []string
	for d, err := range pc.Deliveries(ctx, sdk.DeliveryListParams{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, d.ID)
	}
	slices.Sort(listed)
	rd, err := pc.ExportDeliveries(ctx, sdk.DeliveryListParams{}, sdk.ExportCSV)
	if err != nil {
		t.Fatalf("ExportDeliveries CSV: %v", err)
	}
	rows, err := csv.NewReader(rd).ReadAll()
	rd.Close()
	if err != nil {
		t.Fatalf("the CSV export does not parse: %v", err)
	}
	if len(rows) == 0 || rows[0][0] != "id" || !slices.Contains(rows[0], "event_type") {
		t.Fatalf("CSV header %v", rows)
	}
	var csvIDs []string
	for _, r := range rows[1:] {
		csvIDs = append(csvIDs, r[0])
	}
	slices.Sort(csvIDs)
	if diff := cmp.Diff(listed, csvIDs); diff != "" {
		t.Errorf("CSV export vs list (-list +csv):\n%s", diff)
	}
	var ndIDs []string
	for d, err := range pc.ExportedDeliveries(ctx, sdk.DeliveryListParams{}) {
		if err != nil {
			t.Fatalf("ExportedDeliveries: %v", err)
		}
		ndIDs = append(ndIDs, d.ID)
	}
	slices.Sort(ndIDs)
	if diff := cmp.Diff(listed, ndIDs); diff != "" {
		t.Errorf("NDJSON export vs list (-list +ndjson):\n%s", diff)
	}
	rd, err = pc.ExportDeliveries(ctx, sdk.DeliveryListParams{EndpointID: ep2.ID, Status: sdk.DeliverySucceeded}, sdk.ExportNDJSON)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rd)
	rd.Close()
	if lines := strings.Count(string(b), "\n"); lines != 3 {
		t.Errorf("filtered NDJSON export has %d lines, want 3:\n%s", lines, b)
	}
	if _, err := pc.ExportDeliveries(ctx, sdk.DeliveryListParams{Status: "bogus"}, sdk.ExportCSV); !errors.Is(err, sdk.ErrValidation) {
		t.Errorf("export with a bad filter: %v, want ErrValidation", err)
	}
}
