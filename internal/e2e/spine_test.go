package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookgate/hookgate/internal/apptest"
)

// fixtureTypes is the manifest of internal/odoo/testdata (ODOO.md).
var fixtureTypes = map[string]string{
	"01-sale-order-confirmed.json":  "order.confirmed",
	"02-sale-order-cancelled.json":  "order.cancelled",
	"03-delivery-done.json":         "shipment.dispatched",
	"04-stock-quant-changed.json":   "inventory.adjusted",
	"05-product-price-changed.json": "product.updated",
	"06-customer-created.json":      "customer.created",
	"07-invoice-posted.json":        "invoice.posted",
	"08-invoice-paid.json":          "invoice.paid",
	"09-credit-note-posted.json":    "refund.issued",
	"10-pos-order-paid.json":        "pos.order.paid",
	"11-return-received.json":       "return.received",
	"12-payment-received.json":      "payment.received",
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "odoo", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type envelope struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Version    int            `json:"version"`
	OccurredAt time.Time      `json:"occurred_at"`
	Source     map[string]any `json:"source"`
	Data       map[string]any `json:"data"`
}

// TestOdooFixturesReachEndpointSigned is the spine: every Odoo fixture,
// posted exactly as Odoo sends it, arrives once at a subscribed endpoint,
// with the right type, signed so that the Standard Webhooks reference
// library verifies it.
func TestOdooFixturesReachEndpointSigned(t *testing.T) {
	for _, backend := range []struct {
		name   string
		sqlite bool
	}{{"postgres", false}, {"sqlite", true}} {
		t.Run(backend.name, func(t *testing.T) {
			g := apptest.Start(t, apptest.Options{SQLite: backend.sqlite})
			rc := newReceiver(t, nil)
			p := g.NewPartner("Marketplace One")
			ep := g.NewEndpoint(p, rc.URL+"/hooks", []string{"*"}, nil)
			ingest := g.NewOdooSource("odoo-prod")

			names := make([]string, 0, len(fixtureTypes))
			for n := range fixtureTypes {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				r := g.Do("POST", ingest, "", fixture(t, n))
				if r.Status != 202 {
					t.Fatalf("%s: %s", n, r)
				}
				if got := r.Map(t)["type"]; got != fixtureTypes[n] {
					t.Errorf("%s: ingest answered type %v, want %s", n, got, fixtureTypes[n])
				}
			}
			apptest.Eventually(t, 15*time.Second, "12 deliveries", func() bool { return rc.count() >= 12 })
			time.Sleep(300 * time.Millisecond) // would a duplicate arrive?

			wh, err := standardwebhooks.NewWebhook(ep.Secret)
			if err != nil {
				t.Fatal(err)
			}
			gotTypes := map[string]int{}
			for _, req := range rc.requests() {
				if err := wh.Verify(req.Body, req.Header); err != nil {
					t.Errorf("standard-webhooks library rejects the signature: %v", err)
				}
				var env envelope
				if err := json.Unmarshal(req.Body, &env); err != nil {
					t.Fatalf("body is not the envelope: %v: %s", err, req.Body)
				}
				if req.Header.Get("webhook-id") != env.ID || !strings.HasPrefix(env.ID, "msg_") {
					t.Errorf("webhook-id %q, envelope id %q", req.Header.Get("webhook-id"), env.ID)
				}
				if ct := req.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("content type %q", ct)
				}
				if env.Version != 1 || env.Source["kind"] != "odoo" || env.Source["name"] != "odoo-prod" {
					t.Errorf("envelope header fields: %+v", env)
				}
				if env.Data["id"] == nil || env.Source["record_id"] == nil {
					t.Errorf("envelope lacks the record: %s", req.Body)
				}
				gotTypes[env.Type]++
			}
			want := map[string]int{}
			for _, typ := range fixtureTypes {
				want[typ]++
			}
			if diff := cmp.Diff(want, gotTypes); diff != "" {
				t.Errorf("delivered types (-want +got):\n%s", diff)
			}

			// The delivery log agrees: 12 succeeded deliveries, one attempt each.
			list := g.Must(200, "GET", "/v1/deliveries?limit=200", p.Key, nil).Map(t)
			data := list["data"].([]any)
			if len(data) != 12 {
				t.Fatalf("delivery log has %d entries, want 12", len(data))
			}
			for _, d := range data {
				d := d.(map[string]any)
				if d["status"] != "succeeded" || d["attempts"].(float64) != 1 {
					t.Errorf("delivery %v: status %v attempts %v", d["id"], d["status"], d["attempts"])
				}
			}
		})
	}
}

// TestNormalisedData checks the canonical data of one fixture: false on a
// many2one becomes null, booleans stay, datetimes become RFC 3339 UTC.
func TestNormalisedData(t *testing.T) {
	g := apptest.Start(t, apptest.Options{SQLite: true})
	rc := newReceiver(t, nil)
	p := g.NewPartner("Normal Co")
	g.NewEndpoint(p, rc.URL, []string{"order.confirmed", "customer.created"}, nil)
	ingest := g.NewOdooSource("odoo")
	g.Must(202, "POST", ingest, "", fixture(t, "01-sale-order-confirmed.json"))
	g.Must(202, "POST", ingest, "", fixture(t, "06-customer-created.json"))
	apptest.Eventually(t, 10*time.Second, "2 deliveries", func() bool { return rc.count() == 2 })
	byType := map[string]envelope{}
	for _, r := range rc.requests() {
		var env envelope
		if err := json.Unmarshal(r.Body, &env); err != nil {
			t.Fatal(err)
		}
		byType[env.Type] = env
	}
	order := byType["order.confirmed"].Data
	checks := []struct {
		field string
		want  any
	}{
		{"commitment_date", nil},
		{"origin", nil},
		{"locked", false},
		{"partner_id", float64(58)},
		{"date_order", "2025-03-14T09:41:07Z"},
		{"write_date", "2025-03-14T09:41:06.912345Z"},
		{"name", "S01287"},
	}
	for _, c := range checks {
		if got, ok := order[c.field]; !ok || !cmp.Equal(got, c.want) {
			t.Errorf("order.%s = %#v (present %v), want %#v", c.field, got, ok, c.want)
		}
	}
	if _, ok := order["_model"]; ok {
		t.Error("Odoo's _model leaked into data")
	}
	cust := byType["customer.created"].Data
	if cust["name"] != "Zoë Müller" || cust["is_company"] != false || cust["parent_id"] != nil {
		t.Errorf("customer data: %v", cust)
	}
	if got := byType["order.confirmed"].OccurredAt.Format(time.RFC3339Nano); got != "2025-03-14T09:41:06.912345Z" {
		t.Errorf("occurred_at %s", got)
	}
}

// TestRetryThenSuccess: a receiver answering 503 twice then 200 gets the
// event on the third try, and the log shows three attempts.
func TestRetryThenSuccess(t *testing.T) {
	g := apptest.Start(t, apptest.Options{Env: map[string]string{"HOOKGATE_RETRY_SCHEDULE": "100ms,100ms,100ms,100ms"}})
	rc := newReceiver(t, func(n int, _ *http.Request) (int, string) {
		if n <= 2 {
			return 503, fmt.Sprintf("busy %d", n)
		}
		return 200, "thanks"
	})
	p := g.NewPartner("Flaky Receiver")
	g.NewEndpoint(p, rc.URL, []string{"order.*"}, nil)
	ingest := g.NewOdooSource("odoo")
	g.Must(202, "POST", ingest, "", fixture(t, "01-sale-order-confirmed.json"))

	var d map[string]any
	apptest.Eventually(t, 10*time.Second, "the delivery to succeed", func() bool {
		data := g.Must(200, "GET", "/v1/deliveries", p.Key, nil).Map(t)["data"].([]any)
		if len(data) != 1 {
			return false
		}
		d = data[0].(map[string]any)
		return d["status"] == "succeeded"
	})
	if rc.count() != 3 {
		t.Errorf("receiver got %d requests, want 3", rc.count())
	}
	ids := map[string]bool{}
	for _, r := range rc.requests() {
		ids[r.Header.Get("webhook-id")] = true
	}
	if len(ids) != 1 {
		t.Errorf("webhook-id changed between retries: %v", ids)
	}
	atts := g.Must(200, "GET", "/v1/deliveries/"+d["id"].(string)+"/attempts", p.Key, nil).Map(t)["data"].([]any)
	if len(atts) != 3 {
		t.Fatalf("%d attempts logged, want 3", len(atts))
	}
	wantStatus := []float64{503, 503, 200}
	wantBody := []string{"busy 1", "busy 2", "thanks"}
	for i, a := range atts {
		a := a.(map[string]any)
		resp := a["response"].(map[string]any)
		if resp["status"] != wantStatus[i] || resp["body"] != wantBody[i] || a["number"] != float64(i+1) || a["trigger"] != "scheduled" {
			t.Errorf("attempt %d: %v", i+1, a)
		}
		req := a["request"].(map[string]any)
		hdr := req["headers"].(map[string]any)
		if !strings.HasPrefix(hdr["Webhook-Signature"].(string), "v1,") || req["body"] == "" {
			t.Errorf("attempt %d request not recorded as sent: %v", i+1, req)
		}
	}
}

// TestExhaustedRetriesFail: after the last scheduled attempt the delivery
// is failed and keeps every attempt.
func TestExhaustedRetriesFail(t *testing.T) {
	g := apptest.Start(t, apptest.Options{Env: map[string]string{"HOOKGATE_RETRY_SCHEDULE": "50ms,50ms"}})
	rc := newReceiver(t, func(int, *http.Request) (int, string) { return 500, "down" })
	p := g.NewPartner("Down Co")
	g.NewEndpoint(p, rc.URL, []string{"*"}, nil)
	g.Must(202, "POST", g.NewOdooSource("odoo"), "", fixture(t, "03-delivery-done.json"))
	apptest.Eventually(t, 10*time.Second, "the delivery to fail", func() bool {
		data := g.Must(200, "GET", "/v1/deliveries?status=failed", p.Key, nil).Map(t)["data"].([]any)
		return len(data) == 1 && data[0].(map[string]any)["attempts"] == float64(3)
	})
	time.Sleep(300 * time.Millisecond)
	if rc.count() != 3 {
		t.Errorf("receiver got %d requests, want 3 (1 + 2 retries)", rc.count())
	}
}

// TestDuplicateBodyYieldsOneEvent: Odoo may send the same body twice.
func TestDuplicateBodyYieldsOneEvent(t *testing.T) {
	g := apptest.Start(t, apptest.Options{})
	rc := newReceiver(t, nil)
	p := g.NewPartner("Dedup Co")
	g.NewEndpoint(p, rc.URL, []string{"*"}, nil)
	ingest := g.NewOdooSource("odoo")
	body := fixture(t, "10-pos-order-paid.json")
	first := g.Must(202, "POST", ingest, "", body).Map(t)
	second := g.Must(202, "POST", ingest, "", body).Map(t)
	if first["id"] != second["id"] || second["duplicate"] != true || first["duplicate"] != false {
		t.Errorf("first %v, second %v", first, second)
	}
	apptest.Eventually(t, 10*time.Second, "delivery", func() bool { return rc.count() == 1 })
	time.Sleep(500 * time.Millisecond)
	if rc.count() != 1 {
		t.Errorf("receiver got %d deliveries of a duplicated body, want 1", rc.count())
	}
	// A second source sending the same body is a different event.
	other := g.NewOdooSource("odoo-eu")
	third := g.Must(202, "POST", other, "", body).Map(t)
	if third["id"] == first["id"] || third["duplicate"] != false {
		t.Errorf("same body from another source: %v", third)
	}
}

// TestUnmappedBodyIsIgnored: a body that maps to no type is answered 202
// with a reason and delivers nothing; ?type= overrides the mapping.
func TestUnmappedBodyIsIgnored(t *testing.T) {
	g := apptest.Start(t, apptest.Options{SQLite: true})
	rc := newReceiver(t, nil)
	p := g.NewPartner("Ignore Co")
	g.NewEndpoint(p, rc.URL, []string{"*"}, nil)
	ingest := g.NewOdooSource("odoo")
	draft := `{"_action": "x(#1)", "_id": 5, "_model": "sale.order", "id": 5, "name": "S00005", "state": "draft"}`
	r := g.Must(202, "POST", ingest, "", draft).Map(t)
	if r["status"] != "ignored" || r["reason"] == "" || r["id"] != nil {
		t.Errorf("unmapped body: %v", r)
	}
	r = g.Must(202, "POST", ingest+"?type=order.confirmed", "", draft).Map(t)
	if r["status"] != "accepted" || r["type"] != "order.confirmed" {
		t.Errorf("?type= override: %v", r)
	}
	apptest.Eventually(t, 10*time.Second, "the overridden event", func() bool { return rc.count() == 1 })
	m := g.Must(200, "GET", "/metrics", "", nil)
	if !strings.Contains(string(m.Body), `hookgate_events_ignored_total{reason="unmapped",source="odoo"} 1`) {
		t.Errorf("ignored body not counted in /metrics")
	}
}

// TestPatternsAndPartnerState: fan-out goes only to active endpoints of
// active partners whose patterns match.
func TestPatternsAndPartnerState(t *testing.T) {
	g := apptest.Start(t, apptest.Options{})
	orders := newReceiver(t, nil)
	invoices := newReceiver(t, nil)
	pendingRecv := newReceiver(t, nil)
	p := g.NewPartner("Pattern Co")
	g.NewEndpoint(p, orders.URL, []string{"order.*"}, nil)
	g.NewEndpoint(p, invoices.URL, []string{"invoice.paid"}, nil)
	// A partner that is still pending gets nothing.
	pend := g.Must(201, "POST", "/v1/admin/partners", apptest.AdminToken, map[string]any{"name": "Pending", "email": "p@example.com"}).Map(t)
	g.Must(200, "PATCH", "/v1/admin/partners/"+pend["id"].(string), apptest.AdminToken, map[string]any{"status": "active"})
	k := g.Must(201, "POST", "/v1/admin/partners/"+pend["id"].(string)+"/api-keys", apptest.AdminToken, map[string]any{"name": "k"}).Map(t)
	g.NewEndpoint(apptest.Partner{ID: pend["id"].(string), Key: k["key"].(string)}, pendingRecv.URL, []string{"*"}, nil)
	g.Must(200, "PATCH", "/v1/admin/partners/"+pend["id"].(string), apptest.AdminToken, map[string]any{"status": "pending"})

	ingest := g.NewOdooSource("odoo")
	for _, f := range []string{"01-sale-order-confirmed.json", "02-sale-order-cancelled.json", "07-invoice-posted.json", "08-invoice-paid.json"} {
		g.Must(202, "POST", ingest, "", fixture(t, f))
	}
	apptest.Eventually(t, 10*time.Second, "deliveries", func() bool { return orders.count() == 2 && invoices.count() == 1 })
	time.Sleep(300 * time.Millisecond)
	if orders.count() != 2 || invoices.count() != 1 || pendingRecv.count() != 0 {
		t.Errorf("orders %d (want 2), invoices %d (want 1), pending partner %d (want 0)", orders.count(), invoices.count(), pendingRecv.count())
	}
}

// TestCanonicalEventIngest: POST /v1/events with the admin token, with an
// idempotency key.
func TestCanonicalEventIngest(t *testing.T) {
	g := apptest.Start(t, apptest.Options{})
	rc := newReceiver(t, nil)
	p := g.NewPartner("Canon Co")
	ep := g.NewEndpoint(p, rc.URL, []string{"payment.received"}, nil)
	body := map[string]any{"type": "payment.received", "data": map[string]any{"id": 7, "amount": 10.5}, "idempotency_key": "pay-7"}
	a := g.Must(202, "POST", "/v1/events", apptest.AdminToken, body).Map(t)
	b := g.Must(202, "POST", "/v1/events", apptest.AdminToken, body).Map(t)
	if a["id"] != b["id"] || b["duplicate"] != true {
		t.Errorf("idempotency: %v then %v", a, b)
	}
	apptest.Eventually(t, 10*time.Second, "delivery", func() bool { return rc.count() == 1 })
	wh, _ := standardwebhooks.NewWebhook(ep.Secret)
	req := rc.requests()[0]
	if err := wh.Verify(req.Body, req.Header); err != nil {
		t.Fatal(err)
	}
	var env envelope
	_ = json.Unmarshal(req.Body, &env)
	if env.Type != "payment.received" || env.Data["amount"] != 10.5 || env.Source["kind"] != "api" {
		t.Errorf("envelope %s", req.Body)
	}
	// A partner key may not post events.
	g.Must(403, "POST", "/v1/events", p.Key, body)
}

// TestIdempotencyKeyReuseConflicts: reusing an idempotency key for a
// different event is a 409, not a silent duplicate.
func TestIdempotencyKeyReuseConflicts(t *testing.T) {
	g := apptest.Start(t, apptest.Options{SQLite: true})
	a := g.Must(202, "POST", "/v1/events", apptest.AdminToken, map[string]any{"type": "payment.received", "data": map[string]any{"id": 1, "amount": 1.5}, "idempotency_key": "k-1"}).Map(t)
	r := g.Must(409, "POST", "/v1/events", apptest.AdminToken, map[string]any{"type": "payment.received", "data": map[string]any{"id": 2, "amount": 2.5}, "idempotency_key": "k-1"})
	if !strings.Contains(string(r.Body), a["id"].(string)) {
		t.Errorf("conflict does not name the first event: %s", r.Body)
	}
	b := g.Must(202, "POST", "/v1/events", apptest.AdminToken, map[string]any{"type": "payment.received", "data": map[string]any{"id": 1, "amount": 1.5}, "idempotency_key": "k-1"}).Map(t)
	if b["id"] != a["id"] || b["duplicate"] != true {
		t.Errorf("same request again: %v", b)
	}
}
