package e2e

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/apptest"
)

// metric returns the value of the sample name{labels} in a Prometheus text
// exposition, and whether it is there.
func metric(body, name string, labels map[string]string) (float64, bool) {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + `="` + labels[k] + `"`
	}
	prefix := name
	if len(parts) > 0 {
		prefix += "{" + strings.Join(parts, ",") + "}"
	}
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, prefix+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}

// TestMetricsMatchWhatHappened runs a small, known workload and checks that
// /metrics counts exactly that: events by source and type, duplicates,
// ignored bodies, deliveries by partner, attempts by outcome, response
// classes, held deliveries and queue depths.
func TestMetricsMatchWhatHappened(t *testing.T) {
	g := apptest.Start(t, apptest.Options{Env: map[string]string{"HOOKGATE_RETRY_SCHEDULE": "100ms"}})
	ok := newReceiver(t, nil)
	bad := newReceiver(t, func(int, *http.Request) (int, string) { return 500, "no" })
	pa := g.NewPartner("Metrics A")
	pb := g.NewPartner("Metrics B")
	g.NewEndpoint(pa, ok.URL, []string{"order.*"}, nil)
	g.NewEndpoint(pb, bad.URL, []string{"order.confirmed"}, nil)
	paused := g.NewEndpoint(pb, ok.URL, []string{"order.cancelled"}, nil)
	g.Must(200, "PATCH", "/v1/endpoints/"+paused.ID, pb.Key, map[string]any{"status": "paused"})
	ingest := g.NewOdooSource("odoo-metrics")

	g.Must(202, "POST", ingest, "", fixture(t, "01-sale-order-confirmed.json")) // A ok, B fails twice
	g.Must(202, "POST", ingest, "", fixture(t, "01-sale-order-confirmed.json")) // duplicate
	g.Must(202, "POST", ingest, "", fixture(t, "02-sale-order-cancelled.json")) // A ok, B held
	g.Must(202, "POST", ingest, "", `{"_action": "x(#1)", "_id": 9, "_model": "sale.order", "id": 9, "state": "draft"}`)

	apptest.Eventually(t, 15*time.Second, "deliveries to settle", func() bool {
		return ok.count() == 2 && bad.count() == 2 &&
			len(g.Must(200, "GET", "/v1/deliveries?status=failed", pb.Key, nil).Map(t)["data"].([]any)) == 1
	})
	var body string
	apptest.Eventually(t, 15*time.Second, "gauges to refresh", func() bool {
		body = string(g.Must(200, "GET", "/metrics", "", nil).Body)
		v, found := metric(body, "hookgate_deliveries_held", map[string]string{"reason": "endpoint_paused"})
		return found && v == 1
	})
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"hookgate_events_ingested_total", map[string]string{"source": "odoo-metrics", "type": "order.confirmed"}, 1},
		{"hookgate_events_ingested_total", map[string]string{"source": "odoo-metrics", "type": "order.cancelled"}, 1},
		{"hookgate_events_deduplicated_total", map[string]string{"source": "odoo-metrics"}, 1},
		{"hookgate_events_ignored_total", map[string]string{"source": "odoo-metrics", "reason": "unmapped"}, 1},
		{"hookgate_deliveries_created_total", map[string]string{"partner": pa.ID, "status": "pending"}, 2},
		{"hookgate_deliveries_created_total", map[string]string{"partner": pb.ID, "status": "pending"}, 1},
		{"hookgate_deliveries_created_total", map[string]string{"partner": pb.ID, "status": "held"}, 1},
		{"hookgate_delivery_attempts_total", map[string]string{"partner": pa.ID, "outcome": "succeeded"}, 2},
		{"hookgate_delivery_attempts_total", map[string]string{"partner": pb.ID, "outcome": "retrying"}, 1},
		{"hookgate_delivery_attempts_total", map[string]string{"partner": pb.ID, "outcome": "failed"}, 1},
		{"hookgate_attempt_responses_total", map[string]string{"class": "2xx"}, 2},
		{"hookgate_attempt_responses_total", map[string]string{"class": "5xx"}, 2},
		{"hookgate_attempt_duration_seconds_count", nil, 4},
		{"hookgate_deliveries_held", map[string]string{"reason": "endpoint_paused"}, 1},
		{"hookgate_queue_depth", map[string]string{"queue": "deliveries", "state": "pending"}, 0},
		{"hookgate_ingest_lag_seconds", nil, 0},
	}
	for _, c := range checks {
		got, found := metric(body, c.name, c.labels)
		if !found || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, found, c.want)
		}
	}
	if _, found := metric(body, "hookgate_end_to_end_seconds_count", nil); !found {
		t.Error("end-to-end latency histogram missing")
	}
	if _, found := metric(body, "hookgate_queue_oldest_pending_seconds", map[string]string{"queue": "deliveries"}); !found {
		t.Error("oldest pending age missing")
	}
	// Readiness reports both backing services.
	ready := g.Must(200, "GET", "/readyz", "", nil).Map(t)
	if ready["status"] != "ok" {
		t.Errorf("readyz: %v", ready)
	}
	stats := g.Must(200, "GET", "/v1/admin/stats", apptest.AdminToken, nil).Map(t)
	if stats["held_by_reason"].(map[string]any)["endpoint_paused"] != float64(1) {
		t.Errorf("admin stats held: %v", stats["held_by_reason"])
	}
}
