package apptest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/hookgate/hookgate/internal/app"
	"github.com/hookgate/hookgate/internal/apptest"
	"github.com/hookgate/hookgate/internal/odoo/odootest"
)

// exempt are documented statuses the contract test cannot provoke against
// a healthy gateway: internal errors and unavailable backing services.
var exempt = map[int]bool{500: true, 503: true}

// opStatus is "METHOD /path/{template} status".
type opStatus = string

// coverage wraps apptest.ResponseCheck to record which documented
// operation answered which status.
type coverage struct {
	mu   sync.Mutex
	hits []*http.Request
	code []int
}

func (c *coverage) install(t *testing.T) {
	orig := apptest.ResponseCheck
	if orig == nil {
		t.Fatal("apptest.ResponseCheck is nil: the contract check is not installed")
	}
	apptest.ResponseCheck = func(tb testing.TB, req *http.Request, body []byte, resp apptest.Response) {
		tb.Helper()
		orig(tb, req, body, resp)
		c.mu.Lock()
		c.hits = append(c.hits, req)
		c.code = append(c.code, resp.Status)
		c.mu.Unlock()
	}
	t.Cleanup(func() { apptest.ResponseCheck = orig })
}

// missing lists the documented (operation, status) pairs no request hit.
func (c *coverage) missing(t *testing.T) []opStatus {
	t.Helper()
	doc, err := apptest.LoadSpec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	routed := *doc
	routed.Servers = nil
	router, err := gorillamux.NewRouter(&routed)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[opStatus]bool{}
	c.mu.Lock()
	for i, req := range c.hits {
		if route, _, err := router.FindRoute(req); err == nil {
			seen[fmt.Sprintf("%s %s %d", req.Method, route.Path, c.code[i])] = true
		}
	}
	c.mu.Unlock()
	var out []opStatus
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for code := range op.Responses.Map() {
				n, err := strconv.Atoi(code)
				if err != nil || exempt[n] {
					continue
				}
				if k := fmt.Sprintf("%s %s %d", method, path, n); !seen[k] {
					out = append(out, k)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// send is Gateway.Do with a free choice of Content-Type and extra headers;
// it goes through the same contract check.
func send(t *testing.T, g *apptest.Gateway, method, path, token, contentType string, body []byte, hdr map[string]string) apptest.Response {
	t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, g.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := g.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := apptest.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if apptest.ResponseCheck != nil {
		apptest.ResponseCheck(t, req, body, r)
	}
	return r
}

func want(t *testing.T, what string, r apptest.Response, status int) apptest.Response {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d, want %d: %s", what, r.Status, status, r.Body)
	}
	return r
}

// wantParam checks r is the 400 invalid-parameter problem that names
// the query parameter field.
func wantParam(t *testing.T, what string, r apptest.Response, field string) {
	t.Helper()
	if want(t, what, r, 400).Status != 400 {
		return
	}
	var p struct {
		Type   string `json:"type"`
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
	}
	r.JSON(t, &p)
	if !strings.HasSuffix(p.Type, "/invalid-parameter") || len(p.Errors) != 1 || p.Errors[0].Field != field {
		t.Errorf("%s: problem %s, want invalid-parameter naming %s", what, r.Body, field)
	}
}

// login logs a user in and returns the token pair.
func login(t *testing.T, g *apptest.Gateway, email, password string) map[string]any {
	t.Helper()
	return g.Must(200, "POST", "/v1/auth/login", "", map[string]any{"email": email, "password": password}).Map(t)
}

// receiver is a partner's webhook endpoint: /ok answers 200, /fail 500.
func receiver(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if strings.HasSuffix(r.URL.Path, "/fail") {
			http.Error(w, "nope", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// closedURL is an http URL on 127.0.0.1 where nothing listens.
func closedURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/hook"
}

func str(t *testing.T, m map[string]any, k string) string {
	t.Helper()
	s, ok := m[k].(string)
	if !ok {
		t.Fatalf("%s is %v (%T), want a string", k, m[k], m[k])
	}
	return s
}

// TestContract drives every documented operation against a real gateway
// (PostgreSQL and Redis) with valid and invalid requests; the contract
// check validates each answer against openapi.yaml, and the test fails if
// a documented (operation, status) pair was never produced.
func TestContract(t *testing.T) {
	var cov coverage
	cov.install(t)
	g := apptest.Start(t, apptest.Options{})
	rcv := receiver(t)
	admin := apptest.AdminToken

	// --- health ---
	g.Must(200, "GET", "/healthz", "", nil)
	g.Must(200, "GET", "/readyz", "", nil)
	if r := g.Must(200, "GET", "/metrics", "", nil); !bytes.Contains(r.Body, []byte("hookgate_")) {
		t.Errorf("/metrics has no hookgate metrics")
	}

	// --- partners (admin) ---
	p := g.Must(201, "POST", "/v1/admin/partners", admin, map[string]any{
		"name": "Contract Co", "email": "ops@contract.example",
	}).Map(t)
	if p["status"] != "pending" {
		t.Errorf("new partner status %v, want pending", p["status"])
	}
	pid := str(t, p, "id")
	want(t, "create partner without email", g.Do("POST", "/v1/admin/partners", admin, map[string]any{"name": "x"}), 422)
	want(t, "create partner with bad quota", g.Do("POST", "/v1/admin/partners", admin, map[string]any{
		"name": "x", "email": "x@example.com", "quota": map[string]any{"max_endpoints": -1}}), 422)
	g.Must(200, "GET", "/v1/admin/partners", admin, nil)
	g.Must(200, "GET", "/v1/admin/partners?status=pending&limit=1", admin, nil)
	wantParam(t, "list partners status=bogus", g.Do("GET", "/v1/admin/partners?status=bogus", admin, nil), "status")
	g.Must(200, "GET", "/v1/admin/partners/"+pid, admin, nil)
	g.Must(200, "PATCH", "/v1/admin/partners/"+pid, admin, map[string]any{
		"status": "active", "entitlements": []string{"order.*", "shipment.*", "inventory.*"},
		"quota": map[string]any{"monthly_deliveries": 1000, "max_endpoints": 3, "max_rate_per_second": 100},
	})
	want(t, "patch partner status=bogus", g.Do("PATCH", "/v1/admin/partners/"+pid, admin, map[string]any{"status": "bogus"}), 422)
	key := g.Must(201, "POST", "/v1/admin/partners/"+pid+"/api-keys", admin, map[string]any{
		"name": "ci", "scopes": []string{"endpoints:read", "endpoints:write", "deliveries:read", "deliveries:replay"},
		"expires_at": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339),
	}).Map(t)
	pkey := str(t, key, "key")
	want(t, "api key with admin scope", g.Do("POST", "/v1/admin/partners/"+pid+"/api-keys", admin,
		map[string]any{"name": "x", "scopes": []string{"admin"}}), 422)
	// A key with a partial scope set: reads work, writes are forbidden.
	ro := str(t, g.Must(201, "POST", "/v1/admin/partners/"+pid+"/api-keys", admin, map[string]any{
		"name": "read-only", "scopes": []string{"endpoints:read", "deliveries:read"},
	}).Map(t), "key")
	// A key the admin lists and, at the end, revokes.
	spare := g.Must(201, "POST", "/v1/admin/partners/"+pid+"/api-keys", admin, map[string]any{"name": "spare"}).Map(t)
	spareID, spareKey := str(t, spare, "id"), str(t, spare, "key")
	if keys := g.Must(200, "GET", "/v1/admin/partners/"+pid+"/api-keys", admin, nil).Map(t)["data"].([]any); len(keys) != 3 {
		t.Errorf("partner has %d keys, want 3", len(keys))
	}

	// --- the partner itself ---
	me := g.Must(200, "GET", "/v1/me", pkey, nil).Map(t)
	if me["id"] != pid {
		t.Errorf("/v1/me id %v, want %s", me["id"], pid)
	}
	types := g.Must(200, "GET", "/v1/event-types", pkey, nil).Map(t)
	if n := len(types["data"].([]any)); n == 0 || n >= 12 {
		t.Errorf("partner sees %d event types, want its entitled subset", n)
	}
	if n := len(g.Must(200, "GET", "/v1/event-types", admin, nil).Map(t)["data"].([]any)); n < 12 {
		t.Errorf("admin sees %d event types, want the whole catalogue", n)
	}
	if u := g.Must(200, "GET", "/v1/usage", pkey, nil).Map(t); u["quota"] == nil {
		t.Errorf("usage without a quota: %v", u)
	}

	// --- accounts: signup, sessions, members, keys ---
	const ownerEmail, ownerPW = "owner@owner-co.example", "owner password 0123"
	su := g.Must(201, "POST", "/v1/auth/signup", "", map[string]any{"company": "Owner Co", "email": ownerEmail, "password": ownerPW}).Map(t)
	ownPID, ownUID := str(t, su["partner"].(map[string]any), "id"), str(t, su["user"].(map[string]any), "id")
	want(t, "signup with a taken email", g.Do("POST", "/v1/auth/signup", "", map[string]any{
		"company": "Copy Co", "email": ownerEmail, "password": "another password 0123"}), 409)
	g.Must(200, "PATCH", "/v1/admin/partners/"+ownPID, admin, map[string]any{"status": "active"})
	want(t, "login with a wrong password", g.Do("POST", "/v1/auth/login", "", map[string]any{"email": ownerEmail, "password": "not the password"}), 401)
	own := str(t, login(t, g, ownerEmail, ownerPW), "access_token") // the owner's session
	// A second session: refreshed, then logged out; its spent refresh token no longer works.
	s2 := login(t, g, ownerEmail, ownerPW)
	s3 := g.Must(200, "POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": str(t, s2, "refresh_token")}).Map(t)
	g.Must(200, "GET", "/v1/me", str(t, s3, "access_token"), nil)
	g.Must(204, "POST", "/v1/auth/logout", str(t, s3, "access_token"), nil)
	want(t, "a logged-out session", g.Do("GET", "/v1/me", str(t, s3, "access_token"), nil), 401)
	want(t, "refresh with a spent token", g.Do("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": str(t, s2, "refresh_token")}), 401)
	// Members: the owner adds one, who changes their password.
	const memberEmail, memberPW = "member@owner-co.example", "member password 0123"
	memberID := str(t, g.Must(201, "POST", "/v1/members", own, map[string]any{
		"email": memberEmail, "password": memberPW, "role": "partner_member"}).Map(t), "id")
	want(t, "member with a taken email", g.Do("POST", "/v1/members", own, map[string]any{"email": memberEmail, "password": memberPW}), 409)
	if n := len(g.Must(200, "GET", "/v1/members", own, nil).Map(t)["data"].([]any)); n != 2 {
		t.Errorf("the owner sees %d members, want 2", n)
	}
	want(t, "the owner removing themself", g.Do("DELETE", "/v1/members/"+ownUID, own, nil), 409)
	mtok := str(t, login(t, g, memberEmail, memberPW), "access_token")
	g.Must(204, "POST", "/v1/auth/password", mtok, map[string]any{"current_password": memberPW, "new_password": "member password 4567"})
	want(t, "a session after its password changed", g.Do("GET", "/v1/me", mtok, nil), 401)
	// API keys the owner manages.
	ownKeyID := str(t, g.Must(201, "POST", "/v1/api-keys", own, map[string]any{"name": "contract", "scopes": []string{"endpoints:read"}}).Map(t), "id")
	if keys := g.Must(200, "GET", "/v1/api-keys", own, nil).Map(t)["data"].([]any); len(keys) != 1 {
		t.Errorf("the owner sees %d keys, want 1", len(keys))
	}

	// --- sources (admin) ---
	odoo := g.Must(201, "POST", "/v1/admin/sources", admin, map[string]any{"name": "odoo-contract", "kind": "odoo"}).Map(t)
	srcID, ingestURL := str(t, odoo, "id"), str(t, odoo, "ingest_url")
	api := g.Must(201, "POST", "/v1/admin/sources", admin, map[string]any{"name": "shop-api", "kind": "api"}).Map(t)
	apiToken := str(t, api, "token")
	want(t, "source kind=bogus", g.Do("POST", "/v1/admin/sources", admin, map[string]any{"name": "x", "kind": "bogus"}), 422)
	g.Must(200, "GET", "/v1/admin/sources", admin, nil)
	g.Must(200, "GET", "/v1/admin/sources/"+srcID, admin, nil)
	rot := g.Must(200, "POST", "/v1/admin/sources/"+str(t, api, "id")+"/rotate-token", admin, map[string]any{"grace_period_seconds": 60}).Map(t)
	if str(t, rot, "token") == apiToken {
		t.Errorf("rotate-token returned the old token")
	}
	g.Must(200, "POST", "/v1/admin/sources/"+str(t, api, "id")+"/rotate-token", admin, nil) // no body: default grace
	want(t, "rotate with too long a grace", g.Do("POST", "/v1/admin/sources/"+srcID+"/rotate-token", admin,
		map[string]any{"grace_period_seconds": 9999999}), 422)
	apiToken = str(t, rot, "token") // the previous one still works during the grace period

	// --- the event catalogue (admin) ---
	g.Must(201, "POST", "/v1/admin/event-types", admin, map[string]any{
		"name": "contract.checked", "description": "A contract test ran.", "schema": map[string]any{"type": "object"}})
	want(t, "event type added twice", g.Do("POST", "/v1/admin/event-types", admin, map[string]any{"name": "contract.checked"}), 409)
	et := g.Must(200, "PATCH", "/v1/admin/event-types/contract.checked", admin, map[string]any{
		"schema": map[string]any{"type": "object", "required": []string{"id"}}}).Map(t)
	if et["version"] != float64(2) {
		t.Errorf("event type after a schema change: version %v, want 2", et["version"])
	}
	g.Must(200, "GET", "/v1/admin/event-types", admin, nil)

	// --- endpoints ---
	good := g.Must(201, "POST", "/v1/endpoints", pkey, map[string]any{
		"url": rcv.URL + "/ok", "description": "contract", "event_types": []string{"order.*"},
		"rate_limit_per_second": 50, "retry_schedule": []any{"1s", 2}, "timeout_seconds": 5,
		"headers": map[string]string{"X-Contract": "yes"},
	}).Map(t)
	goodID := str(t, good, "id")
	if !strings.HasPrefix(str(t, good, "secret"), "whsec_") {
		t.Errorf("endpoint secret %v, want whsec_…", good["secret"])
	}
	failing := g.NewEndpoint(apptest.Partner{ID: pid, Key: pkey}, rcv.URL+"/fail", []string{"order.confirmed"}, nil)
	refused := g.NewEndpoint(apptest.Partner{ID: pid, Key: pkey}, closedURL(t), []string{"order.confirmed"}, nil)
	want(t, "fourth endpoint over the quota of 3", g.Do("POST", "/v1/endpoints", pkey, map[string]any{
		"url": rcv.URL + "/ok", "event_types": []string{"order.*"}}), 409)
	want(t, "endpoint beyond entitlements", g.Do("POST", "/v1/endpoints", pkey, map[string]any{
		"url": rcv.URL + "/ok", "event_types": []string{"invoice.paid"}}), 422)
	want(t, "endpoint with status on create", g.Do("POST", "/v1/endpoints", pkey, map[string]any{
		"url": rcv.URL + "/ok", "event_types": []string{"order.*"}, "status": "paused"}), 422)
	want(t, "endpoint with a private URL", g.Do("PATCH", "/v1/endpoints/"+goodID, pkey, map[string]any{"url": "http://10.1.2.3/hook"}), 422)
	want(t, "endpoint with a reserved header", g.Do("PATCH", "/v1/endpoints/"+goodID, pkey, map[string]any{
		"headers": map[string]string{"Webhook-Id": "x"}}), 422)
	want(t, "endpoint with a bad retry schedule", g.Do("PATCH", "/v1/endpoints/"+goodID, pkey, map[string]any{
		"retry_schedule": []any{"soon"}}), 422)
	page := g.Must(200, "GET", "/v1/endpoints?limit=2", ro, nil).Map(t)
	if page["next_cursor"] == nil {
		t.Errorf("endpoints page of 2 out of 3 has no next_cursor")
	} else {
		g.Must(200, "GET", "/v1/endpoints?limit=2&cursor="+url.QueryEscape(page["next_cursor"].(string)), ro, nil)
	}
	g.Must(200, "GET", "/v1/endpoints/"+goodID, ro, nil)
	want(t, "read-only key creating an endpoint", g.Do("POST", "/v1/endpoints", ro, map[string]any{
		"url": rcv.URL + "/ok", "event_types": []string{"order.*"}}), 403)
	if sec := g.Must(200, "GET", "/v1/endpoints/"+goodID+"/secret", pkey, nil).Map(t); sec["secret"] != good["secret"] {
		t.Errorf("endpoint secret %v, want the one shown on creation", sec["secret"])
	}
	if sec := g.Must(200, "POST", "/v1/endpoints/"+goodID+"/secret/rotate", pkey, map[string]any{"grace_period_seconds": 60}).Map(t); sec["secret"] == good["secret"] || sec["previous_secret_expires_at"] == nil {
		t.Errorf("rotated secret: %v", sec)
	}

	// A second partner whose only endpoint is paused: its deliveries are held.
	other := g.NewPartner("Held Partner")
	paused := g.NewEndpoint(other, rcv.URL+"/ok", []string{"*"}, nil)
	pp := g.Must(200, "PATCH", "/v1/endpoints/"+paused.ID, other.Key, map[string]any{"status": "paused"}).Map(t)
	if pp["status"] != "paused" || pp["status_reason"] == "" {
		t.Errorf("paused endpoint: status %v, reason %v", pp["status"], pp["status_reason"])
	}
	want(t, "another partner's endpoint", g.Do("GET", "/v1/endpoints/"+goodID, other.Key, nil), 404)

	// --- ingest from Odoo ---
	body := apptest.Fixture(t, "01-sale-order-confirmed.json")
	first := g.Must(202, "POST", ingestURL, "", body).Map(t)
	if first["status"] != "accepted" {
		t.Fatalf("ingest: %v", first)
	}
	eventID := str(t, first, "id")
	if dup := g.Must(202, "POST", ingestURL, "", body).Map(t); dup["status"] != "duplicate" || dup["id"] != eventID {
		t.Errorf("second ingest: %v, want a duplicate of %s", dup, eventID)
	}
	if ig := g.Must(202, "POST", ingestURL, "", `{"_id":5,"_model":"sale.order","id":5,"state":"draft"}`).Map(t); ig["status"] != "ignored" {
		t.Errorf("unmapped body: %v, want ignored", ig)
	}
	g.Must(202, "POST", ingestURL+"?type=order.cancelled", "", body)
	g.Must(202, "POST", ingestURL, "", apptest.Fixture(t, "03-delivery-done.json")) // shipment: nobody but the held partner
	wantParam(t, "ingest ?type malformed", g.Do("POST", ingestURL+"?type=Not%20A%20Type", "", body), "type")
	wantParam(t, "ingest ?type unknown", g.Do("POST", ingestURL+"?type=no.such.type", "", body), "type")
	want(t, "ingest empty body", send(t, g, "POST", strings.TrimPrefix(ingestURL, g.URL), "", "application/json", nil, nil), 400)
	want(t, "ingest not JSON", g.Do("POST", ingestURL, "", "{not json"), 400)
	want(t, "ingest without _model", g.Do("POST", ingestURL, "", `{"_id":1}`), 400)
	want(t, "ingest unknown token", g.Do("POST", "/ingest/odoo/hgi_nope", "", body), 404)
	want(t, "ingest with an api source's token", g.Do("POST", "/ingest/odoo/"+apiToken, "", body), 404)

	// --- canonical events ---
	ev := map[string]any{"type": "order.confirmed", "data": map[string]any{"id": 9001, "name": "S09001", "state": "sale"},
		"idempotency_key": "contract-9001", "occurred_at": "2025-03-14T09:41:07Z"}
	e1 := g.Must(202, "POST", "/v1/events", apiToken, ev).Map(t)
	if e2 := g.Must(202, "POST", "/v1/events", apiToken, ev).Map(t); e2["status"] != "duplicate" || e2["id"] != e1["id"] {
		t.Errorf("repeated idempotency key: %v, want a duplicate of %v", e2, e1["id"])
	}
	reuse := map[string]any{"type": "order.confirmed", "data": map[string]any{"id": 9002, "name": "S09002", "state": "sale"}, "idempotency_key": "contract-9001"}
	want(t, "idempotency key reused for another event", g.Do("POST", "/v1/events", apiToken, reuse), 409)
	send(t, g, "POST", "/v1/events", admin, "application/json",
		[]byte(`{"type":"inventory.adjusted","data":{"id":1,"product_id":41,"quantity":3}}`), map[string]string{"Idempotency-Key": "contract-inv-1"})
	want(t, "idempotency key header and body differ", send(t, g, "POST", "/v1/events", admin, "application/json",
		[]byte(`{"type":"order.confirmed","data":{},"idempotency_key":"a"}`), map[string]string{"Idempotency-Key": "b"}), 422)
	want(t, "event without type", g.Do("POST", "/v1/events", apiToken, map[string]any{"data": map[string]any{}}), 422)
	want(t, "event of an unknown type", g.Do("POST", "/v1/events", apiToken, map[string]any{"type": "no.such", "data": map[string]any{}}), 422)
	want(t, "event with array data", g.Do("POST", "/v1/events", apiToken, map[string]any{"type": "order.confirmed", "data": []int{1}}), 422)

	// --- deliveries ---
	var succeeded, failed, held map[string]any
	apptest.Eventually(t, 30*time.Second, "a succeeded, a failed and a held delivery", func() bool {
		succeeded = firstDelivery(t, g, pkey, "status=succeeded&endpoint_id="+goodID)
		failed = firstDelivery(t, g, pkey, "status=failed&endpoint_id="+refused.ID)
		held = firstDelivery(t, g, other.Key, "status=held")
		return succeeded != nil && failed != nil && held != nil
	})
	if held["held_reason"] != "endpoint_paused" {
		t.Errorf("held delivery: held_reason %v, want endpoint_paused", held["held_reason"])
	}
	apptest.Eventually(t, 30*time.Second, "the /fail endpoint's delivery to fail", func() bool {
		return firstDelivery(t, g, pkey, "status=failed&endpoint_id="+failing.ID) != nil
	})
	dlv := str(t, succeeded, "id")
	detail := g.Must(200, "GET", "/v1/deliveries/"+dlv, ro, nil).Map(t)
	if env, _ := detail["event"].(map[string]any); env == nil || env["type"] == nil {
		t.Errorf("delivery detail has no event envelope: %v", detail)
	}
	atts := g.Must(200, "GET", "/v1/deliveries/"+dlv+"/attempts", ro, nil).Map(t)["data"].([]any)
	if len(atts) == 0 || atts[0].(map[string]any)["response"] == nil {
		t.Errorf("succeeded delivery: attempts %v, want one with a response", atts)
	}
	fatts := g.Must(200, "GET", "/v1/deliveries/"+str(t, failed, "id")+"/attempts", ro, nil).Map(t)["data"].([]any)
	if len(fatts) == 0 || fatts[0].(map[string]any)["response"] != nil {
		t.Errorf("refused delivery: attempts %v, want ones without a response", fatts)
	}
	fd := firstDelivery(t, g, pkey, "status=failed&endpoint_id="+failing.ID)
	g.Must(200, "GET", "/v1/deliveries/"+str(t, fd, "id")+"/attempts", pkey, nil)
	g.Must(202, "POST", "/v1/deliveries/"+dlv+"/retry", pkey, nil)
	apptest.Eventually(t, 15*time.Second, "the manual retry's attempt", func() bool {
		for _, a := range g.Must(200, "GET", "/v1/deliveries/"+dlv+"/attempts", pkey, nil).Map(t)["data"].([]any) {
			if a.(map[string]any)["trigger"] == "manual" {
				return true
			}
		}
		return false
	})
	g.Must(200, "GET", "/v1/deliveries/"+str(t, held, "id"), other.Key, nil)
	want(t, "another partner's delivery", g.Do("GET", "/v1/deliveries/"+dlv, other.Key, nil), 404)
	want(t, "read-only key retrying", g.Do("POST", "/v1/deliveries/"+dlv+"/retry", ro, nil), 403)
	list := g.Must(200, "GET", "/v1/deliveries?limit=1", pkey, nil).Map(t)
	if c, _ := list["next_cursor"].(string); c == "" {
		t.Errorf("delivery page of 1 has no next_cursor")
	} else {
		g.Must(200, "GET", "/v1/deliveries?limit=1&cursor="+c, pkey, nil)
	}
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)
	g.Must(200, "GET", "/v1/deliveries?event_type=order.confirmed&event_id="+eventID+"&since="+since+"&until="+url.QueryEscape(until), pkey, nil)
	wantParam(t, "deliveries status=bogus", g.Do("GET", "/v1/deliveries?status=bogus", pkey, nil), "status")
	wantParam(t, "deliveries with a foreign cursor", g.Do("GET", "/v1/deliveries?cursor=nope", pkey, nil), "cursor")
	wantParam(t, "deliveries until before since", g.Do("GET", "/v1/deliveries?since="+until+"&until="+since, pkey, nil), "until")
	wantParam(t, "deliveries since malformed", g.Do("GET", "/v1/deliveries?since=yesterday", pkey, nil), "since")

	// --- recovery, back-fill and test events ---
	hourAgo := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	recovery := g.Must(202, "POST", "/v1/endpoints/"+goodID+"/recover", pkey, map[string]any{"since": hourAgo})
	recID := str(t, recovery.Map(t), "id")
	if loc := recovery.Header.Get("Location"); loc != "/v1/recoveries/"+recID {
		t.Errorf("recovery Location %q, want /v1/recoveries/%s", loc, recID)
	}
	apptest.Eventually(t, 30*time.Second, "the recovery to complete", func() bool {
		return g.Must(200, "GET", "/v1/recoveries/"+recID, pkey, nil).Map(t)["status"] == "completed"
	})
	// A second recovery of an endpoint while one runs is a conflict. Jobs
	// finish quickly, so start them back to back until two overlap.
	overlap := false
	for i := 0; i < 20 && !overlap; i++ {
		switch r := g.Do("POST", "/v1/endpoints/"+failing.ID+"/recover", pkey, map[string]any{"since": hourAgo}); r.Status {
		case 202:
		case 409:
			overlap = true
		default:
			t.Fatalf("recover: %s", r)
		}
	}
	if !overlap {
		t.Errorf("20 back-to-back recoveries of one endpoint never overlapped into a 409")
	}
	if bf := g.Must(202, "POST", "/v1/endpoints/"+goodID+"/backfill", pkey, map[string]any{"days": 1}).Map(t); bf["kind"] != "backfill" || bf["days"] != float64(1) {
		t.Errorf("back-fill job: %v", bf)
	}
	want(t, "back-fill of a paused endpoint", g.Do("POST", "/v1/endpoints/"+paused.ID+"/backfill", other.Key, map[string]any{"days": 1}), 409)
	testDlv := g.Must(202, "POST", "/v1/endpoints/"+goodID+"/test", pkey, map[string]any{"event_type": "order.confirmed"}).Map(t)
	g.Must(200, "GET", "/v1/deliveries/"+str(t, testDlv, "id"), pkey, nil)
	// A suspended partner's deliveries cannot be retried.
	g.Must(200, "PATCH", "/v1/admin/partners/"+other.ID, admin, map[string]any{"status": "suspended"})
	want(t, "retry while suspended", g.Do("POST", "/v1/deliveries/"+str(t, held, "id")+"/retry", other.Key, nil), 409)
	g.Must(200, "PATCH", "/v1/admin/partners/"+other.ID, admin, map[string]any{"status": "active"})

	// --- endpoint update and delete ---
	up := g.Must(200, "PATCH", "/v1/endpoints/"+failing.ID, pkey, map[string]any{
		"description": "now fine", "url": rcv.URL + "/ok", "retry_schedule": []string{}, "status": "active",
	}).Map(t)
	if up["description"] != "now fine" {
		t.Errorf("patched endpoint: %v", up)
	}
	g.Must(204, "DELETE", "/v1/endpoints/"+refused.ID, pkey, nil)
	want(t, "delete twice", g.Do("DELETE", "/v1/endpoints/"+refused.ID, pkey, nil), 404)
	g.Must(200, "PATCH", "/v1/endpoints/"+failing.ID, pkey, map[string]any{"status": "paused"})
	if e := g.Must(200, "POST", "/v1/endpoints/"+failing.ID+"/enable", pkey, nil).Map(t); e["status"] != "active" {
		t.Errorf("enabled endpoint: status %v", e["status"])
	}
	// Enabling re-checks the endpoint: the held partner's "*" endpoint is
	// beyond its narrowed entitlements.
	g.Must(200, "PATCH", "/v1/admin/partners/"+other.ID, admin, map[string]any{"entitlements": []string{"order.*"}})
	want(t, "enabling an endpoint beyond the entitlements", g.Do("POST", "/v1/endpoints/"+paused.ID+"/enable", other.Key, nil), 422)

	// --- bulk replay (admin) ---
	window := func(extra map[string]any) map[string]any {
		m := map[string]any{"since": hourAgo, "until": time.Now().Add(time.Minute).UTC().Format(time.RFC3339),
			"partner_id": pid, "event_types": []string{"order.cancelled"}}
		maps.Copy(m, extra)
		return m
	}
	if dry := g.Must(200, "POST", "/v1/admin/replay", admin, window(map[string]any{"dry_run": true})).Map(t); dry["dry_run"] != true || dry["count"].(float64) < 1 {
		t.Errorf("dry-run replay: %v, want a count of at least 1", dry)
	}
	// A replay cancelled while it runs; like recoveries they finish quickly,
	// so start them until a cancel comes in time.
	var replayID string
	for i := 0; i < 20 && replayID == ""; i++ {
		id := str(t, g.Must(202, "POST", "/v1/admin/replay", admin, window(nil)).Map(t), "id")
		switch r := g.Do("POST", "/v1/admin/replays/"+id+"/cancel", admin, nil); r.Status {
		case 200:
			replayID = id
			if st := r.Map(t)["status"]; st != "cancelled" {
				t.Errorf("cancelled replay: status %v", st)
			}
		case 409: // it had finished
		default:
			t.Fatalf("cancel replay: %s", r)
		}
	}
	if replayID == "" {
		t.Fatalf("20 replays all finished before their cancel")
	}
	want(t, "cancelling a cancelled replay", g.Do("POST", "/v1/admin/replays/"+replayID+"/cancel", admin, nil), 409)
	g.Must(200, "GET", "/v1/admin/replays/"+replayID, admin, nil)

	// --- the Odoo connector (admin) ---
	fake := odootest.Start(t, odootest.Options{Version: 19})
	fo := fake.Options()
	conn := "/v1/admin/sources/" + str(t, g.Must(201, "POST", "/v1/admin/sources", admin, map[string]any{"name": "odoo-connected", "kind": "odoo"}).Map(t), "id")
	want(t, "check without credentials", g.Do("POST", conn+"/check", admin, nil), 422)
	g.Must(200, "PATCH", conn, admin, map[string]any{"odoo": map[string]any{
		"url": strings.TrimSuffix(closedURL(t), "/hook"), "database": fo.Database, "login": fo.Login, "api_key": fo.APIKey}})
	want(t, "check against an Odoo that does not answer", g.Do("POST", conn+"/check", admin, nil), 502)
	g.Must(200, "PATCH", conn, admin, map[string]any{"name": "odoo-live", "odoo": map[string]any{
		"url": fake.URL, "database": fo.Database, "login": fo.Login}}) // the saved key is kept
	if c := g.Must(200, "POST", conn+"/check", admin, nil).Map(t); c["ok"] != true || c["uid"] != float64(fo.UID) {
		t.Errorf("connection check: %v", c)
	}
	g.Must(202, "POST", conn+"/backfill", admin, map[string]any{"since": time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)})

	// --- operations (admin) ---
	g.Must(200, "GET", "/v1/admin/stats", admin, nil)
	if a := g.Must(200, "GET", "/v1/admin/audit?action=member.added", admin, nil).Map(t)["data"].([]any); len(a) != 1 {
		t.Errorf("audit: %d member.added entries, want 1", len(a))
	}

	// --- every operation: no token, the wrong principal, unknown ids, bad bodies ---
	// ids names a real resource for each path parameter, keyed by the path
	// template up to that parameter; unknown names well-formed ids of
	// nothing.
	ids := map[string]string{
		"/v1/endpoints/{id}": goodID, "/v1/deliveries/{id}": dlv, "/v1/recoveries/{id}": recID,
		"/v1/members/{id}": memberID, "/v1/api-keys/{id}": ownKeyID,
		"/v1/admin/partners/{id}": pid, "/v1/admin/partners/{id}/api-keys/{key_id}": spareID,
		"/v1/admin/sources/{id}": srcID, "/v1/admin/replays/{id}": replayID,
		"/v1/admin/event-types/{name}": "contract.checked",
	}
	unknown := map[string]string{
		"/v1/endpoints/{id}": "ep_01JPB2KH9Q8R7S6T5V4W3X2Y1Z", "/v1/deliveries/{id}": "dlv_01JPB2KM5A6B7C8D9E0F1G2H3J",
		"/v1/recoveries/{id}": "job_01JPB3A0QW8E2R4T6Y8V0J2K4P",
		"/v1/members/{id}":    "usr_01JPB2K6Y1V8E4M7N3Q5R9T0WZ", "/v1/api-keys/{id}": "key_01JPB2K6Y1V8E4M7N3Q5R9T0WZ",
		"/v1/admin/partners/{id}": "ptn_01JPB2K6Y1V8E4M7N3Q5R9T0WZ", "/v1/admin/partners/{id}/api-keys/{key_id}": "key_01JPB2K6Y1V8E4M7N3Q5R9T0WZ",
		"/v1/admin/sources/{id}": "src_01JPB2KD0E1F2G3H4J5K6M7N8P", "/v1/admin/replays/{id}": "job_01JPB3A0QW8E2R4T6Y8V0J2K4P",
		"/v1/admin/event-types/{name}": "no.such.type",
	}
	// fill puts ids into tmpl's path parameters: the real ones, with the
	// last one unknown (lastUnknown), or all unknown (allUnknown).
	const (
		real = iota
		lastUnknown
		allUnknown
	)
	fill := func(tmpl string, mode int) (string, bool) {
		segs := strings.Split(tmpl, "/")
		last := -1
		for i, seg := range segs {
			if strings.HasPrefix(seg, "{") {
				last = i
			}
		}
		out := slices.Clone(segs)
		for i, seg := range segs {
			if !strings.HasPrefix(seg, "{") {
				continue
			}
			key := strings.Join(segs[:i+1], "/")
			from := ids
			if mode == allUnknown || (mode == lastUnknown && i == last) {
				from = unknown
			}
			id, ok := from[key]
			if !ok || id == "" {
				t.Errorf("no id for the path parameter of %s: add a real one to ids and an unknown one to unknown", key)
				return "", false
			}
			out[i] = id
		}
		return strings.Join(out, "/"), true
	}
	// Bodies valid enough to get past decoding and required-field checks,
	// so a wrong principal reaches the permission check and an unknown id
	// the lookup.
	validBody := map[string]string{
		"POST /v1/events":                          `{"type":"order.confirmed","data":{"id":1}}`,
		"POST /v1/auth/password":                   `{"current_password":"owner password 0123","new_password":"owner password 4567"}`,
		"POST /v1/members":                         `{"email":"probe@owner-co.example","password":"probe password 0123","role":"partner_member"}`,
		"POST /v1/api-keys":                        `{"name":"x"}`,
		"POST /v1/endpoints":                       `{"url":"` + rcv.URL + `/ok","event_types":["order.*"]}`,
		"PATCH /v1/endpoints/{id}":                 `{"description":"x"}`,
		"POST /v1/endpoints/{id}/secret/rotate":    `{"grace_period_seconds":60}`,
		"POST /v1/endpoints/{id}/recover":          `{"since":"` + hourAgo + `"}`,
		"POST /v1/endpoints/{id}/backfill":         `{"days":1}`,
		"POST /v1/endpoints/{id}/test":             `{"event_type":"order.confirmed"}`,
		"POST /v1/admin/replay":                    `{"since":"` + hourAgo + `","until":"` + time.Now().UTC().Format(time.RFC3339) + `"}`,
		"POST /v1/admin/event-types":               `{"name":"contract.probe"}`,
		"PATCH /v1/admin/event-types/{name}":       `{"description":"x"}`,
		"POST /v1/admin/partners":                  `{"name":"x","email":"x@example.com"}`,
		"PATCH /v1/admin/partners/{id}":            `{"name":"x"}`,
		"POST /v1/admin/partners/{id}/api-keys":    `{"name":"x"}`,
		"POST /v1/admin/sources":                   `{"name":"x"}`,
		"PATCH /v1/admin/sources/{id}":             `{"name":"x"}`,
		"POST /v1/admin/sources/{id}/backfill":     `{"since":"` + hourAgo + `"}`,
		"POST /v1/admin/sources/{id}/rotate-token": `{}`,
	}
	// public: the operation needs no credentials (security: []).
	public := func(op *openapi3.Operation) bool { return op.Security != nil && len(*op.Security) == 0 }
	// The right principal for each operation, and one of the wrong kind:
	// an admin on a partner's route, a partner on an admin route. (Another
	// partner's credentials answer 404 on ids that are not theirs: that is
	// tenant isolation, tested elsewhere.)
	right := func(tmpl string) (string, string) {
		switch {
		case tmpl == "/v1/events":
			return apiToken, pkey
		case tmpl == "/v1/event-types":
			return pkey, apiToken
		case strings.HasPrefix(tmpl, "/v1/admin/"):
			return admin, pkey
		case strings.HasPrefix(tmpl, "/v1/auth/"), strings.HasPrefix(tmpl, "/v1/members"), strings.HasPrefix(tmpl, "/v1/api-keys"):
			return own, admin // a user's session: an owner's
		}
		return pkey, admin
	}
	doc, err := apptest.LoadSpec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	big := append(append([]byte(`{"name":"`), bytes.Repeat([]byte("x"), 2<<20)...), `"}`...)
	for tmpl, item := range doc.Paths.Map() {
		if !strings.HasPrefix(tmpl, "/v1/") {
			continue
		}
		for method, op := range item.Operations() {
			name := method + " " + tmpl
			path, found := fill(tmpl, real)
			if !found {
				continue
			}
			ok, wrong := right(tmpl)
			if public(op) {
				ok, wrong = "", ""
			}
			vb := []byte(validBody[name])
			if validBody[name] == "" {
				vb = nil
				if rb := op.RequestBody; rb != nil && rb.Value != nil && rb.Value.Required && !public(op) {
					t.Errorf("%s takes a body: add a valid one to validBody", name)
				}
			}
			ct := ""
			if vb != nil {
				ct = "application/json"
			}
			if public(op) {
				// No token needed: a request without one reaches the handler,
				// which finds no body.
				if rb := op.RequestBody; rb != nil && rb.Value != nil && rb.Value.Required {
					want(t, name+" without a token or a body", send(t, g, method, path, "", "", nil, nil), 400)
				}
			} else {
				want(t, name+" without a token", send(t, g, method, path, "", ct, vb, nil), 401)
				want(t, name+" with a bad token", send(t, g, method, path, "hg_notakey", ct, vb, nil), 401)
			}
			if op.Responses.Status(403) != nil && wrong != "" {
				probe(t, name+" with the wrong principal", send(t, g, method, path, wrong, ct, vb, nil), 403)
				if strings.HasPrefix(tmpl, "/v1/admin/") {
					want(t, name+" with a source token", send(t, g, method, path, apiToken, ct, vb, nil), 403)
				}
			}
			if op.Responses.Status(404) != nil {
				if up, found := fill(tmpl, lastUnknown); found && up != path {
					want(t, name+" with an unknown id", send(t, g, method, up, ok, ct, vb, nil), 404)
				} else if found {
					t.Errorf("%s documents 404 but has no path parameter to probe it with", name)
				}
			}
			if op.Parameters.GetByInAndName("query", "limit") != nil {
				want(t, name+" limit=0", send(t, g, method, path+"?limit=0", ok, "", nil, nil), 400)
			}
			if op.RequestBody == nil {
				continue
			}
			want(t, name+" with broken JSON", send(t, g, method, path, ok, "application/json", []byte(`{"name":`), nil), 400)
			want(t, name+" as text/plain", send(t, g, method, path, ok, "text/plain", []byte(`{}`), nil), 415)
			want(t, name+" with an unknown field", send(t, g, method, path, ok, "application/json", []byte(`{"bogus":1}`), nil), 422)
			want(t, name+" with a 2 MiB body", send(t, g, method, path, ok, "application/json", big, nil), 413)
		}
	}
	want(t, "ingest with a 2 MiB body", send(t, g, "POST", strings.TrimPrefix(ingestURL, g.URL), "", "application/json", big, nil), 413)

	// --- deletions the probes above needed the resources for ---
	g.Must(204, "DELETE", "/v1/members/"+memberID, own, nil)
	want(t, "a removed member logging in", g.Do("POST", "/v1/auth/login", "", map[string]any{"email": memberEmail, "password": "member password 4567"}), 401)
	g.Must(204, "DELETE", "/v1/api-keys/"+ownKeyID, own, nil)
	g.Must(204, "DELETE", "/v1/admin/partners/"+pid+"/api-keys/"+spareID, admin, nil)
	want(t, "a revoked key", g.Do("GET", "/v1/me", spareKey, nil), 401)

	// --- every /v1 operation over the per-address rate limit ---
	// A second gateway allows one request a second per client address;
	// the limit applies before authentication, to public routes too.
	lim := apptest.Start(t, apptest.Options{SQLite: true, Mode: app.ModeAPI, Env: map[string]string{
		"HOOKGATE_API_RATE_PER_ADDRESS": "1:1",
	}})
	for tmpl, item := range doc.Paths.Map() {
		if !strings.HasPrefix(tmpl, "/v1/") {
			continue
		}
		for method := range item.Operations() {
			path, found := fill(tmpl, allUnknown)
			if !found {
				continue
			}
			// The bucket refills one request a second: a request may get
			// through (and be answered 400 or 401); the next one may not.
			var r apptest.Response
			for range 5 {
				if r = send(t, lim, method, path, "", "", nil, nil); r.Status == 429 {
					break
				}
			}
			if want(t, method+" "+tmpl+" over the rate limit", r, 429).Status == 429 && r.Header.Get("Retry-After") == "" {
				t.Errorf("%s %s: 429 without Retry-After", method, tmpl)
			}
		}
	}

	if miss := cov.missing(t); len(miss) > 0 {
		t.Errorf("documented responses never produced (besides %v):\n  %s", slices.Sorted(maps.Keys(exempt)), strings.Join(miss, "\n  "))
	}
}

// knownServerBugs are matrix probes the server is known to fail, with the
// status it answers instead. They are logged, not failed, until the server
// is fixed; then the probe fails until its entry is removed.
var knownServerBugs = map[string]int{}

// probe is want for a matrix probe that may be a known server bug.
func probe(t *testing.T, what string, r apptest.Response, status int) {
	t.Helper()
	if bug, ok := knownServerBugs[what]; ok {
		switch r.Status {
		case bug:
			t.Logf("KNOWN SERVER BUG: %s: status %d, want %d", what, r.Status, status)
			return
		case status:
			t.Errorf("%s: status %d now, as it should: remove it from knownServerBugs", what, status)
			return
		}
	}
	want(t, what, r, status)
}

// firstDelivery returns the first delivery the query lists, or nil.
func firstDelivery(t *testing.T, g *apptest.Gateway, key, query string) map[string]any {
	t.Helper()
	data := g.Must(200, "GET", "/v1/deliveries?"+query, key, nil).Map(t)["data"].([]any)
	if len(data) == 0 {
		return nil
	}
	return data[0].(map[string]any)
}

// recorder is a testing.TB that records failures instead of reporting them.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestContractCheckRejects makes sure the check fails what it should:
// undocumented routes, undocumented statuses, wrong content types, bodies
// that do not match the schema, and accepted request bodies the spec does
// not allow.
func TestContractCheckRejects(t *testing.T) {
	jsonHdr := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}}
	probHdr := http.Header{"Content-Type": {"application/problem+json"}, "X-Request-Id": {"r1"}}
	okPartner := `{"id":"ptn_01JPB2K6Y1V8E4M7N3Q5R9T0WZ","name":"A","email":"a@example.com","status":"active",
		"entitlements":["*"],"quota":{"monthly_deliveries":0,"max_endpoints":0,"max_rate_per_second":0},
		"created_at":"2025-03-14T09:41:07Z","updated_at":"2025-03-14T09:41:07Z"}`
	okEndpoint := `{"id":"ep_01JPB2KH9Q8R7S6T5V4W3X2Y1Z","url":"https://a.example/h","description":"","event_types":["*"],
		"status":"active","status_reason":"","rate_limit_per_second":0,"retry_schedule":null,"timeout_seconds":0,
		"headers":{},"ed25519_signing":false,"failing_since":null,"next_probe_at":null,
		"created_at":"2025-03-14T09:41:07Z","updated_at":"2025-03-14T09:41:07Z"}`
	withSecret := strings.Replace(okEndpoint, `"url"`, `"secret":"whsec_AAAA","url"`, 1)
	cases := []struct {
		name, method, path, reqBody string
		resp                        apptest.Response
		want                        string // substring of the failure; "" = passes
	}{
		{"valid", "GET", "/v1/me", "", apptest.Response{Status: 200, Header: jsonHdr, Body: []byte(okPartner)}, ""},
		{"undocumented route", "GET", "/v1/nope", "", apptest.Response{Status: 404, Header: probHdr, Body: []byte(`{}`)}, "undocumented route"},
		{"undocumented method", "PUT", "/v1/me", "", apptest.Response{Status: 404, Header: probHdr, Body: []byte(`{}`)}, "undocumented route"},
		{"undocumented status", "GET", "/v1/me", "", apptest.Response{Status: 418, Header: probHdr,
			Body: []byte(`{"type":"about:blank","title":"t","status":418}`)}, "status is not supported"},
		{"wrong content type", "GET", "/v1/me", "", apptest.Response{Status: 200, Header: http.Header{
			"Content-Type": {"text/html"}, "X-Request-Id": {"r1"}}, Body: []byte(okPartner)}, "Content-Type"},
		{"undocumented field", "GET", "/v1/me", "", apptest.Response{Status: 200, Header: jsonHdr,
			Body: []byte(strings.Replace(okPartner, `"name"`, `"secret":"x","name"`, 1))}, "doesn't match"},
		{"null where not nullable", "GET", "/v1/me", "", apptest.Response{Status: 200, Header: jsonHdr,
			Body: []byte(strings.Replace(okPartner, `"name":"A"`, `"name":null`, 1))}, "doesn't match"},
		{"missing header", "GET", "/v1/me", "", apptest.Response{Status: 200, Header: http.Header{
			"Content-Type": {"application/json"}}, Body: []byte(okPartner)}, "X-Request-Id"},
		{"problem as plain JSON", "GET", "/v1/me", "", apptest.Response{Status: 403, Header: jsonHdr,
			Body: []byte(`{"type":"about:blank","title":"t","status":403}`)}, "Content-Type"},
		{"endpoint", "GET", "/v1/endpoints/ep_x", "", apptest.Response{Status: 200, Header: jsonHdr, Body: []byte(okEndpoint)}, ""},
		{"endpoint secret outside creation", "GET", "/v1/endpoints/ep_x", "", apptest.Response{Status: 200, Header: jsonHdr,
			Body: []byte(withSecret)}, "doesn't match"},
		{"endpoint secret on creation", "POST", "/v1/endpoints", `{"url":"https://a.example/h","event_types":["*"]}`,
			apptest.Response{Status: 201, Header: jsonHdr, Body: []byte(withSecret)}, ""},
		{"endpoint creation without secret", "POST", "/v1/endpoints", `{"url":"https://a.example/h","event_types":["*"]}`,
			apptest.Response{Status: 201, Header: jsonHdr, Body: []byte(okEndpoint)}, "doesn't match"},
		{"body on 204", "DELETE", "/v1/endpoints/ep_x", "", apptest.Response{Status: 204, Header: jsonHdr, Body: []byte(`{}`)}, "documents none"},
		{"accepted request body outside the spec", "POST", "/v1/admin/partners", `{"name":"A","email":"a@example.com","bogus":1}`,
			apptest.Response{Status: 201, Header: jsonHdr, Body: []byte(okPartner)}, "request body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var rd io.Reader = http.NoBody
			if c.reqBody != "" {
				rd = strings.NewReader(c.reqBody)
			}
			req := httptest.NewRequest(c.method, "http://127.0.0.1:1"+c.path, rd)
			if c.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			rec := &recorder{TB: t}
			apptest.ResponseCheck(rec, req, []byte(c.reqBody), c.resp)
			got := strings.Join(rec.errs, "\n")
			switch {
			case c.want == "" && got != "":
				t.Errorf("want no failure, got:\n%s", got)
			case c.want != "" && !strings.Contains(got, c.want):
				t.Errorf("want a failure mentioning %q, got:\n%s", c.want, got)
			}
		})
	}
}
