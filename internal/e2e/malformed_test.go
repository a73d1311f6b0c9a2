package e2e

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/internal/apptest"
)

// snapshot hashes every row of every table, so a test can prove that a
// rejected request changed nothing. (api_keys.last_used_at is excluded: a
// rejected request from a valid key may still record that the key was used.)
func snapshot(t *testing.T, g *apptest.Gateway) string {
	t.Helper()
	db := g.App.Store.DB()
	h := sha256.New()
	for _, table := range []string{"partners", "users", "api_keys", "sources", "event_types", "endpoints",
		"events", "idempotency_keys", "deliveries", "attempts", "audit_log"} {
		rows, err := db.Raw("SELECT * FROM " + table + " ORDER BY 1").Rows()
		if err != nil {
			t.Fatalf("snapshot %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, c := range cols {
				if table == "api_keys" && c == "last_used_at" {
					continue
				}
				fmt.Fprintf(h, "%s.%s=%v;", table, c, vals[i])
			}
		}
		rows.Close()
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// TestMalformedInputChangesNothing sends bad JSON, wrong types, missing
// fields, unknown ids, oversize bodies and bad credentials to every public
// route: each gets a 4xx application/problem+json and the database is
// byte-for-byte unchanged.
func TestMalformedInputChangesNothing(t *testing.T) {
	g := apptest.Start(t, apptest.Options{})
	rc := newReceiver(t, nil)
	p := g.NewPartner("Victim Co")
	other := g.NewPartner("Other Co")
	ep := g.NewEndpoint(p, rc.URL, []string{"order.*"}, nil)
	otherEP := g.NewEndpoint(other, rc.URL, []string{"order.*"}, nil)
	ingest := g.NewOdooSource("odoo")
	g.Must(202, "POST", ingest, "", fixture(t, "01-sale-order-confirmed.json"))
	apptest.Eventually(t, 10e9, "first delivery", func() bool { return rc.count() == 2 })
	apptest.Eventually(t, 10e9, "delivery log written", func() bool {
		d := g.Must(200, "GET", "/v1/deliveries?status=succeeded", p.Key, nil).Map(t)["data"].([]any)
		return len(d) == 1
	})
	otherDlv := g.Must(200, "GET", "/v1/deliveries", other.Key, nil).Map(t)["data"].([]any)[0].(map[string]any)["id"].(string)
	src := g.Must(200, "GET", "/v1/admin/sources", apptest.AdminToken, nil).Map(t)["data"].([]any)[0].(map[string]any)["id"].(string)

	big := `{"_model":"sale.order","_id":1,"pad":"` + strings.Repeat("x", 1<<20) + `"}`
	admin := apptest.AdminToken
	cases := []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		// ingest
		{"ingest not json", "POST", ingest, "", "{not json", 400},
		{"ingest array", "POST", ingest, "", `[1,2]`, 400},
		{"ingest no _model", "POST", ingest, "", `{"_id": 1, "id": 1}`, 400},
		{"ingest _id string", "POST", ingest, "", `{"_model":"sale.order","_id":"1"}`, 400},
		{"ingest empty", "POST", ingest, "", []byte{}, 400},
		{"ingest trailing garbage", "POST", ingest, "", string(fixture(t, "01-sale-order-confirmed.json")) + "}", 400},
		{"ingest oversize", "POST", ingest, "", big, 413},
		{"ingest wrong token", "POST", g.URL + "/ingest/odoo/hgi_wrong", "", string(fixture(t, "02-sale-order-cancelled.json")), 404},
		{"ingest bad type override", "POST", ingest + "?type=Not%20A%20Type", "", string(fixture(t, "02-sale-order-cancelled.json")), 400},
		{"ingest unknown type override", "POST", ingest + "?type=nothing.here", "", string(fixture(t, "02-sale-order-cancelled.json")), 400},
		// canonical events
		{"events no auth", "POST", "/v1/events", "", `{"type":"order.confirmed","data":{}}`, 401},
		{"events bad token", "POST", "/v1/events", "hg_nope", `{"type":"order.confirmed","data":{}}`, 401},
		{"events not json", "POST", "/v1/events", admin, `{"type":`, 400},
		{"events wrong type", "POST", "/v1/events", admin, `{"type":5,"data":{}}`, 422},
		{"events missing data", "POST", "/v1/events", admin, `{"type":"order.confirmed"}`, 422},
		{"events data not object", "POST", "/v1/events", admin, `{"type":"order.confirmed","data":[1]}`, 422},
		{"events unknown type", "POST", "/v1/events", admin, `{"type":"no.such","data":{}}`, 422},
		{"events unknown field", "POST", "/v1/events", admin, `{"type":"order.confirmed","data":{},"extra":1}`, 422},
		{"events data against the type's schema", "POST", "/v1/events", admin, `{"type":"order.confirmed","data":{"id":"seven","name":"S1","state":"sale"}}`, 422},
		{"events oversize", "POST", "/v1/events", admin, `{"type":"order.confirmed","data":{"x":"` + strings.Repeat("x", 1<<20) + `"}}`, 413},
		// admin partners
		{"partner not json", "POST", "/v1/admin/partners", admin, `nope`, 400},
		{"partner missing name", "POST", "/v1/admin/partners", admin, `{"email":"a@b.co"}`, 422},
		{"partner bad email", "POST", "/v1/admin/partners", admin, `{"name":"x","email":"not-an-email"}`, 422},
		{"partner wrong type", "POST", "/v1/admin/partners", admin, `{"name":["x"],"email":"a@b.co"}`, 422},
		{"partner bad status", "POST", "/v1/admin/partners", admin, `{"name":"x","email":"a@b.co","status":"royal"}`, 422},
		{"partner by partner key", "POST", "/v1/admin/partners", p.Key, `{"name":"x","email":"a@b.co"}`, 403},
		{"patch unknown partner", "PATCH", "/v1/admin/partners/ptn_01HZZZZZZZZZZZZZZZZZZZZZZZ", admin, `{"status":"active"}`, 404},
		{"patch partner bad status", "PATCH", "/v1/admin/partners/" + p.ID, admin, `{"status":"gone"}`, 422},
		{"patch partner bad entitlement", "PATCH", "/v1/admin/partners/" + p.ID, admin, `{"entitlements":["ORDER!"]}`, 422},
		{"patch partner negative quota", "PATCH", "/v1/admin/partners/" + p.ID, admin, `{"quota":{"monthly_deliveries":-1,"max_endpoints":0,"max_rate_per_second":0}}`, 422},
		{"get unknown partner", "GET", "/v1/admin/partners/nope", admin, nil, 404},
		{"list partners bad status", "GET", "/v1/admin/partners?status=odd", admin, nil, 400},
		{"list partners bad limit", "GET", "/v1/admin/partners?limit=0", admin, nil, 400},
		{"key for unknown partner", "POST", "/v1/admin/partners/ptn_nope/api-keys", admin, `{"name":"k"}`, 404},
		{"key missing name", "POST", "/v1/admin/partners/" + p.ID + "/api-keys", admin, `{}`, 422},
		{"key bad scope", "POST", "/v1/admin/partners/" + p.ID + "/api-keys", admin, `{"name":"k","scopes":["root"]}`, 422},
		{"key past expiry", "POST", "/v1/admin/partners/" + p.ID + "/api-keys", admin, `{"name":"k","expires_at":"2001-01-01T00:00:00Z"}`, 422},
		{"key bad expiry", "POST", "/v1/admin/partners/" + p.ID + "/api-keys", admin, `{"name":"k","expires_at":"tomorrow"}`, 422},
		// admin sources
		{"source bad kind", "POST", "/v1/admin/sources", admin, `{"name":"s","kind":"sap"}`, 422},
		{"source missing name", "POST", "/v1/admin/sources", admin, `{"kind":"odoo"}`, 422},
		{"source by partner", "POST", "/v1/admin/sources", p.Key, `{"name":"s","kind":"odoo"}`, 403},
		{"rotate unknown source", "POST", "/v1/admin/sources/src_nope/rotate-token", admin, `{}`, 404},
		{"rotate bad grace", "POST", "/v1/admin/sources/" + src + "/rotate-token", admin, `{"grace_period_seconds":99999999}`, 422},
		{"get unknown source", "GET", "/v1/admin/sources/src_nope", admin, nil, 404},
		// endpoints
		{"endpoint no auth", "POST", "/v1/endpoints", "", `{"url":"https://example.com","event_types":["*"]}`, 401},
		{"endpoint not json", "POST", "/v1/endpoints", p.Key, `{"url":`, 400},
		{"endpoint missing url", "POST", "/v1/endpoints", p.Key, `{"event_types":["*"]}`, 422},
		{"endpoint missing types", "POST", "/v1/endpoints", p.Key, `{"url":"https://example.com"}`, 422},
		{"endpoint empty types", "POST", "/v1/endpoints", p.Key, `{"url":"https://example.com","event_types":[]}`, 422},
		{"endpoint bad pattern", "POST", "/v1/endpoints", p.Key, `{"url":"https://example.com","event_types":["Order Confirmed"]}`, 422},
		{"endpoint ftp url", "POST", "/v1/endpoints", p.Key, `{"url":"ftp://example.com/x","event_types":["*"]}`, 422},
		{"endpoint private ip", "POST", "/v1/endpoints", p.Key, `{"url":"http://10.0.0.1/x","event_types":["*"]}`, 422},
		{"endpoint loopback not allowed", "POST", "/v1/endpoints", p.Key, `{"url":"http://127.0.0.2/x","event_types":["*"]}`, 422},
		{"endpoint wrong type", "POST", "/v1/endpoints", p.Key, `{"url":"https://example.com","event_types":"*"}`, 422},
		{"endpoint bad schedule", "POST", "/v1/endpoints", p.Key, `{"url":"https://example.com","event_types":["*"],"retry_schedule":["soon"]}`, 422},
		{"endpoint reserved header", "POST", "/v1/endpoints", p.Key, `{"url":"https://example.com","event_types":["*"],"headers":{"webhook-signature":"x"}}`, 422},
		{"endpoint by admin", "POST", "/v1/endpoints", admin, `{"url":"https://example.com","event_types":["*"]}`, 403},
		{"get other partner's endpoint", "GET", "/v1/endpoints/" + otherEP.ID, p.Key, nil, 404},
		{"patch other partner's endpoint", "PATCH", "/v1/endpoints/" + otherEP.ID, p.Key, `{"description":"mine now"}`, 404},
		{"delete other partner's endpoint", "DELETE", "/v1/endpoints/" + otherEP.ID, p.Key, nil, 404},
		{"patch endpoint bad status", "PATCH", "/v1/endpoints/" + ep.ID, p.Key, `{"status":"disabled"}`, 422},
		{"patch endpoint bad url", "PATCH", "/v1/endpoints/" + ep.ID, p.Key, `{"url":"not a url"}`, 422},
		{"patch endpoint not json", "PATCH", "/v1/endpoints/" + ep.ID, p.Key, `[`, 400},
		{"patch endpoint timeout", "PATCH", "/v1/endpoints/" + ep.ID, p.Key, `{"timeout_seconds":999}`, 422},
		{"get unknown endpoint", "GET", "/v1/endpoints/ep_nope", p.Key, nil, 404},
		{"list endpoints bad limit", "GET", "/v1/endpoints?limit=abc", p.Key, nil, 400},
		// deliveries
		{"list deliveries bad status", "GET", "/v1/deliveries?status=lost", p.Key, nil, 400},
		{"list deliveries bad cursor", "GET", "/v1/deliveries?cursor=xyz", p.Key, nil, 400},
		{"list deliveries bad since", "GET", "/v1/deliveries?since=yesterday", p.Key, nil, 400},
		{"get other partner's delivery", "GET", "/v1/deliveries/" + otherDlv, p.Key, nil, 404},
		{"attempts of other partner's delivery", "GET", "/v1/deliveries/" + otherDlv + "/attempts", p.Key, nil, 404},
		{"retry other partner's delivery", "POST", "/v1/deliveries/" + otherDlv + "/retry", p.Key, nil, 404},
		{"deliveries by admin", "GET", "/v1/deliveries", admin, nil, 403},
		{"unknown route", "GET", "/v1/nothing", p.Key, nil, 404},
	}
	before := snapshot(t, g)
	g.NoContractCheck = true // some of these requests are outside what the spec describes
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := g.Do(c.method, c.path, c.token, c.body)
			if r.Status != c.want {
				t.Errorf("status %d, want %d: %s", r.Status, c.want, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q, want application/problem+json", ct)
			}
			var prob struct {
				Type   string `json:"type"`
				Title  string `json:"title"`
				Status int    `json:"status"`
				Detail string `json:"detail"`
			}
			if err := json.Unmarshal(r.Body, &prob); err != nil || prob.Status != r.Status || prob.Title == "" || prob.Type == "" {
				t.Errorf("not an RFC 9457 problem document: %s", r.Body)
			}
		})
	}
	if after := snapshot(t, g); after != before {
		t.Errorf("rejected requests changed the database")
	}
}
