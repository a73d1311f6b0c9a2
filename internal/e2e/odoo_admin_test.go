package e2e

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/apptest"
	"github.com/hookgate/hookgate/internal/odoo/odootest"
)

// problemField returns the first field a 422 problem names.
func problemField(t *testing.T, r apptest.Response) string {
	t.Helper()
	m := r.Map(t)
	errs, _ := m["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	return errs[0].(map[string]any)["field"].(string)
}

// TestOdooSourceAdmin covers the connector's admin API: credentials saved
// encrypted and never shown, validation, the connection check's 422 and
// 502, rules editing, the interval and backfill.
func TestOdooSourceAdmin(t *testing.T) {
	g := apptest.Start(t, apptest.Options{SQLite: true})
	fake := odootest.Start(t, odootest.Options{Version: 19})
	o := fake.Options()
	src := g.Must(201, "POST", "/v1/admin/sources", apptest.AdminToken, map[string]any{"name": "odoo-prod"}).Map(t)
	id := src["id"].(string)
	path := "/v1/admin/sources/" + id

	// A fresh source: no credentials, the default rules.
	v := g.Must(200, "GET", path, apptest.AdminToken, nil).Map(t)
	if _, present := v["odoo"]; !present || v["odoo"] != nil || v["rules_default"] != true || len(v["rules"].([]any)) != 13 {
		t.Fatalf("fresh source: %v", v)
	}
	g.Must(422, "POST", path+"/check", apptest.AdminToken, nil)
	g.Must(422, "POST", path+"/backfill", apptest.AdminToken, map[string]any{"since": "2025-03-01T00:00:00Z"})

	// Bad input is refused and changes nothing.
	for _, tt := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no key the first time", map[string]any{"odoo": map[string]any{"url": fake.URL, "database": "retail", "login": "bot"}}, "odoo.api_key"},
		{"not a URL", map[string]any{"odoo": map[string]any{"url": "erp.example.com", "database": "retail", "login": "bot", "api_key": "k"}}, "odoo.url"},
		{"no database", map[string]any{"odoo": map[string]any{"url": fake.URL, "login": "bot", "api_key": "k"}}, "odoo.database"},
		{"bad version", map[string]any{"odoo": map[string]any{"url": fake.URL, "database": "retail", "login": "bot", "api_key": "k", "version": "x"}}, "odoo.version"},
		{"unknown member", map[string]any{"odoo": map[string]any{"url": fake.URL, "password": "k"}}, "odoo"},
		{"bad operator", map[string]any{"rules": []any{map[string]any{"model": "sale.order", "event_type": "order.confirmed",
			"when": []any{map[string]any{"field": "state", "op": "like", "value": "sale"}}}}}, "rules"},
		{"type outside the catalogue", map[string]any{"rules": []any{map[string]any{"model": "sale.order", "event_type": "order.shipped", "when": []any{}}}}, "rules"},
		{"bad trigger", map[string]any{"rules": []any{map[string]any{"model": "sale.order", "event_type": "order.confirmed", "on": "delete"}}}, "rules"},
		{"interval too short", map[string]any{"reconcile_interval_seconds": 2}, "reconcile_interval_seconds"},
		{"empty name", map[string]any{"name": ""}, "name"},
	} {
		r := g.Do("PATCH", path, apptest.AdminToken, tt.body)
		if r.Status != 422 || problemField(t, r) != tt.field {
			t.Errorf("%s: %s, want 422 on %s", tt.name, r, tt.field)
		}
	}
	if v := g.Must(200, "GET", path, apptest.AdminToken, nil).Map(t); v["odoo"] != nil || v["rules_default"] != true {
		t.Fatalf("a refused PATCH changed the source: %v", v)
	}

	// A wrong key: saved, but the check says Odoo refuses it (422).
	creds := map[string]any{"url": fake.URL, "database": o.Database, "login": o.Login, "api_key": "wrong-key"}
	g.Must(200, "PATCH", path, apptest.AdminToken, map[string]any{"odoo": creds})
	if r := g.Do("POST", path+"/check", apptest.AdminToken, nil); r.Status != 422 || problemField(t, r) != "odoo.api_key" {
		t.Errorf("check with a wrong key: %s", r)
	}
	// A server that is not there: 502. Leaving api_key out keeps the saved one.
	g.Must(200, "PATCH", path, apptest.AdminToken, map[string]any{"odoo": map[string]any{
		"url": "http://127.0.0.1:1", "database": o.Database, "login": o.Login}})
	if r := g.Do("POST", path+"/check", apptest.AdminToken, nil); r.Status != 502 || !strings.Contains(r.Map(t)["detail"].(string), "did not answer") {
		t.Errorf("check against a closed port: %s", r)
	}
	// The right key: the check reports version and user.
	creds["api_key"] = o.APIKey
	saved := g.Must(200, "PATCH", path, apptest.AdminToken, map[string]any{"odoo": creds, "reconcile_interval_seconds": 60})
	if bytes.Contains(saved.Body, []byte(o.APIKey)) {
		t.Fatalf("PATCH returned the key: %s", saved.Body)
	}
	check := g.Must(200, "POST", path+"/check", apptest.AdminToken, nil).Map(t)
	if check["version"] != "19.0" || check["user"] != "Hookgate Bot" || check["uid"] != float64(o.UID) {
		t.Errorf("check: %v", check)
	}
	v = g.Must(200, "GET", path, apptest.AdminToken, nil).Map(t)
	od := v["odoo"].(map[string]any)
	rec := v["reconcile"].(map[string]any)
	if od["has_api_key"] != true || od["url"] != fake.URL || od["user_id"] != float64(o.UID) || rec["interval_seconds"] != float64(60) || rec["watermark"] == nil {
		t.Errorf("source after saving credentials: %v", v)
	}

	// Rules: replace, then restore the defaults.
	rules := []any{map[string]any{"model": "sale.order", "event_type": "order.confirmed",
		"when": []any{map[string]any{"field": "state", "op": "in", "value": []any{"sale", "done"}}}}}
	v = g.Must(200, "PATCH", path, apptest.AdminToken, map[string]any{"rules": rules}).Map(t)
	if v["rules_default"] != false || len(v["rules"].([]any)) != 1 || v["rules"].([]any)[0].(map[string]any)["on"] != "enter" {
		t.Errorf("custom rules: %v", v["rules"])
	}
	v = g.Must(200, "PATCH", path, apptest.AdminToken, map[string]any{"rules": nil}).Map(t)
	if v["rules_default"] != true || len(v["rules"].([]any)) != 13 {
		t.Errorf("rules restored: %v", v["rules"])
	}

	// Backfill.
	for _, bad := range []map[string]any{{}, {"since": time.Now().Add(time.Hour).Format(time.RFC3339)}, {"since": "2020-01-01T00:00:00Z"}} {
		g.Must(422, "POST", path+"/backfill", apptest.AdminToken, bad)
	}
	since := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Second)
	v = g.Must(202, "POST", path+"/backfill", apptest.AdminToken, map[string]any{"since": since.Format(time.RFC3339)}).Map(t)
	rec = v["reconcile"].(map[string]any)
	if rec["watermark"] != since.Format(time.RFC3339) || rec["last_run_at"] != nil {
		t.Errorf("after backfill: %v", rec)
	}

	// The list shows the same, without the key; other ids are 404; partners may not.
	list := g.Must(200, "GET", "/v1/admin/sources", apptest.AdminToken, nil)
	if bytes.Contains(list.Body, []byte(o.APIKey)) || !bytes.Contains(list.Body, []byte(`"has_api_key":true`)) {
		t.Errorf("list: %s", list.Body)
	}
	for _, p := range []string{"/check", "/backfill"} {
		g.Must(404, "POST", "/v1/admin/sources/src_01JPB2KD0E1F2G3H4J5K6M7N8P"+p, apptest.AdminToken, map[string]any{"since": since.Format(time.RFC3339)})
	}
	g.Must(404, "PATCH", "/v1/admin/sources/src_01JPB2KD0E1F2G3H4J5K6M7N8P", apptest.AdminToken, map[string]any{"name": "x"})
	partner := g.NewPartner("Nosy Partner")
	g.Must(403, "PATCH", path, partner.Key, map[string]any{"name": "mine"})
	g.Must(403, "POST", path+"/check", partner.Key, nil)

	// An api source takes no Odoo settings.
	api := g.Must(201, "POST", "/v1/admin/sources", apptest.AdminToken, map[string]any{"name": "shop-api", "kind": "api"}).Map(t)
	if r := g.Do("PATCH", "/v1/admin/sources/"+api["id"].(string), apptest.AdminToken, map[string]any{"odoo": creds}); r.Status != 422 {
		t.Errorf("odoo settings on an api source: %s", r)
	}

	// Every change is audited, without the key.
	audit := g.Must(200, "GET", "/v1/admin/audit?action=source.*", apptest.AdminToken, nil)
	if bytes.Contains(audit.Body, []byte(o.APIKey)) || !bytes.Contains(audit.Body, []byte("source.updated")) ||
		!bytes.Contains(audit.Body, []byte("source.checked")) || !bytes.Contains(audit.Body, []byte("source.backfill")) {
		t.Errorf("audit: %s", audit.Body)
	}
}

// TestOdooIngestRules checks that ingest maps with the source's own rules,
// that ?type= still overrides them, and that writes of hookgate's own Odoo
// user are ignored (loop prevention).
func TestOdooIngestRules(t *testing.T) {
	g := apptest.Start(t, apptest.Options{SQLite: true})
	fake := odootest.Start(t, odootest.Options{Version: 18})
	o := fake.Options()
	src := g.Must(201, "POST", "/v1/admin/sources", apptest.AdminToken, map[string]any{"name": "odoo"}).Map(t)
	path, ingest := "/v1/admin/sources/"+src["id"].(string), src["ingest_url"].(string)
	body := fixture(t, "01-sale-order-confirmed.json")

	// Default rules.
	if r := g.Must(202, "POST", ingest, "", body).Map(t); r["type"] != "order.confirmed" {
		t.Fatalf("default mapping: %v", r)
	}
	// The source's rules: confirmed orders of this shop are "pos.order.paid" (say).
	g.Must(200, "PATCH", path, apptest.AdminToken, map[string]any{"rules": []any{map[string]any{
		"model": "sale.order", "event_type": "pos.order.paid", "when": []any{map[string]any{"field": "state", "op": "eq", "value": "sale"}}}}})
	// (The ingest path's source cache is dropped by the update.)
	if r := g.Must(202, "POST", ingest, "", body).Map(t); r["type"] != "pos.order.paid" || r["status"] != "accepted" {
		t.Errorf("source rules: %v", r)
	}
	if r := g.Must(202, "POST", ingest, "", fixture(t, "02-sale-order-cancelled.json")).Map(t); r["status"] != "ignored" {
		t.Errorf("a body the rules do not map: %v", r)
	}
	if r := g.Must(202, "POST", ingest+"?type=order.confirmed", "", fixture(t, "02-sale-order-cancelled.json")).Map(t); r["type"] != "order.confirmed" {
		t.Errorf("?type= override: %v", r)
	}

	// Loop prevention: once hookgate knows its Odoo user, that user's writes are ignored.
	g.Must(200, "PATCH", path, apptest.AdminToken, map[string]any{"odoo": map[string]any{
		"url": fake.URL, "database": o.Database, "login": o.Login, "api_key": o.APIKey}})
	g.Must(200, "POST", path+"/check", apptest.AdminToken, nil)
	own := bytes.Replace(body, []byte(`"write_date"`), []byte(`"write_uid": 7, "write_date"`), 1)
	other := bytes.Replace(body, []byte(`"write_date"`), []byte(`"write_uid": 2, "write_date"`), 1)
	if r := g.Must(202, "POST", ingest, "", own).Map(t); r["status"] != "ignored" || !strings.Contains(r["reason"].(string), "own Odoo user") {
		t.Errorf("own write: %v", r)
	}
	if r := g.Must(202, "POST", ingest, "", other).Map(t); r["status"] == "ignored" {
		t.Errorf("another user's write was ignored: %v", r)
	}
	metrics := string(g.Must(200, "GET", "/metrics", "", nil).Body)
	if !strings.Contains(metrics, `hookgate_events_ignored_total{reason="own_write",source="odoo"} 1`) {
		t.Error("own write not counted")
	}
}
