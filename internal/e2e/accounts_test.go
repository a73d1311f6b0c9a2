package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookgate/hookgate/internal/apptest"
	"github.com/hookgate/hookgate/internal/domain"
)

const admin = apptest.AdminToken

// acct is a self-signed-up, approved partner: its owner's access token
// and an API key with every partner scope and keys:manage.
type acct struct {
	PartnerID string
	OwnerID   string
	Email     string
	Password  string
	Token     string // the owner's access token
	Refresh   string
	Key       string
	KeyID     string
}

func signup(t *testing.T, g *apptest.Gateway, company, email, password string) (partnerID, userID string) {
	t.Helper()
	r := g.Must(201, "POST", "/v1/auth/signup", "", map[string]any{"company": company, "email": email, "password": password}).Map(t)
	return r["partner"].(map[string]any)["id"].(string), r["user"].(map[string]any)["id"].(string)
}

func login(t *testing.T, g *apptest.Gateway, email, password string) (access, refresh string) {
	t.Helper()
	r := g.Must(200, "POST", "/v1/auth/login", "", map[string]any{"email": email, "password": password}).Map(t)
	if r["token_type"] != "Bearer" {
		t.Errorf("token_type %v", r["token_type"])
	}
	return r["access_token"].(string), r["refresh_token"].(string)
}

// newAccount signs a partner up, approves it, logs its owner in and mints
// a key with every partner scope and keys:manage.
func newAccount(t *testing.T, g *apptest.Gateway, name string) acct {
	t.Helper()
	a := acct{Email: strings.ToLower(strings.ReplaceAll(name, " ", "")) + "@acct.example", Password: "pw-" + name + "-0123456789"}
	a.PartnerID, a.OwnerID = signup(t, g, name, a.Email, a.Password)
	g.Must(200, "PATCH", "/v1/admin/partners/"+a.PartnerID, admin, map[string]any{"status": "active"})
	a.Token, a.Refresh = login(t, g, a.Email, a.Password)
	k := g.Must(201, "POST", "/v1/api-keys", a.Token, map[string]any{"name": "all", "scopes": []string{
		"endpoints:read", "endpoints:write", "deliveries:read", "deliveries:replay", "keys:manage"}}).Map(t)
	a.Key, a.KeyID = k["key"].(string), k["id"].(string)
	return a
}

func problemType(t *testing.T, r apptest.Response) string {
	t.Helper()
	m := r.Map(t)
	s, _ := m["type"].(string)
	return strings.TrimPrefix(s, "https://hookgate.dev/problems/")
}

// postEvents posts n canonical order.confirmed events as the admin.
func postEvents(t *testing.T, g *apptest.Gateway, prefix string, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		r := g.Must(202, "POST", "/v1/events", admin, map[string]any{
			"type": "order.confirmed", "idempotency_key": fmt.Sprintf("%s-%d", prefix, i),
			"data": map[string]any{"id": 7000 + i, "name": fmt.Sprintf("S%05d", 7000+i), "state": "sale"},
		}).Map(t)
		ids = append(ids, r["id"].(string))
	}
	return ids
}

func deliveries(t *testing.T, g *apptest.Gateway, token, query string) []map[string]any {
	t.Helper()
	r := g.Must(200, "GET", "/v1/deliveries?limit=200"+query, token, nil).Map(t)
	var out []map[string]any
	for _, d := range r["data"].([]any) {
		out = append(out, d.(map[string]any))
	}
	return out
}

func auditActions(t *testing.T, g *apptest.Gateway, query string) []string {
	t.Helper()
	r := g.Must(200, "GET", "/v1/admin/audit?limit=200"+query, admin, nil).Map(t)
	var out []string
	for _, e := range r["data"].([]any) {
		out = append(out, e.(map[string]any)["action"].(string))
	}
	return out
}

// TestSignupToDelivery is the self-service path as one story: a partner
// signs up (pending), can only see itself, is approved by an admin, logs
// in, mints an API key, subscribes an endpoint and receives a signed
// delivery.
func TestSignupToDelivery(t *testing.T) {
	g := apptest.Start(t, apptest.Options{})
	rc := newReceiver(t, nil)

	r := g.Must(201, "POST", "/v1/auth/signup", "", map[string]any{
		"company": "Acme Marketplace", "email": "Owner@Acme.example", "password": "correct horse battery",
	}).Map(t)
	partner := r["partner"].(map[string]any)
	user := r["user"].(map[string]any)
	pid := partner["id"].(string)
	if partner["status"] != "pending" || partner["name"] != "Acme Marketplace" || user["email"] != "owner@acme.example" {
		t.Fatalf("signup answered %v", r)
	}
	// The same e-mail again: 409, nothing created.
	dup := g.Do("POST", "/v1/auth/signup", "", map[string]any{"company": "Other", "email": "owner@acme.example", "password": "another password"})
	if dup.Status != 409 {
		t.Errorf("duplicate signup: %s", dup)
	}
	for _, bad := range []map[string]any{
		{"company": "X", "email": "x@acme.example", "password": "short"},
		{"company": "", "email": "x@acme.example", "password": "long enough password"},
		{"company": "X", "email": "not an email", "password": "long enough password"},
	} {
		if r := g.Do("POST", "/v1/auth/signup", "", bad); r.Status != 422 {
			t.Errorf("signup %v: %s, want 422", bad, r)
		}
	}
	pending := g.Must(200, "GET", "/v1/admin/partners?status=pending", admin, nil).Map(t)["data"].([]any)
	if len(pending) != 1 || pending[0].(map[string]any)["id"] != pid {
		t.Fatalf("pending partners: %v", pending)
	}

	// Pending: the owner logs in and sees its own account, nothing else.
	token, _ := login(t, g, "owner@acme.example", "correct horse battery")
	me := g.Must(200, "GET", "/v1/me", token, nil).Map(t)
	if me["id"] != pid || me["status"] != "pending" {
		t.Errorf("/v1/me while pending: %v", me)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/endpoints"}, {"GET", "/v1/deliveries"}, {"GET", "/v1/api-keys"}, {"GET", "/v1/usage"},
		{"GET", "/v1/event-types"}, {"GET", "/v1/members"},
	} {
		r := g.Do(c.method, c.path, token, nil)
		if r.Status != 403 || problemType(t, r) != "pending-approval" {
			t.Errorf("%s %s while pending: %s, want 403 pending-approval", c.method, c.path, r)
		}
	}
	if r := g.Do("POST", "/v1/api-keys", token, map[string]any{"name": "early"}); r.Status != 403 {
		t.Errorf("minting a key while pending: %s", r)
	}

	// Approved: the same session now works everywhere.
	g.Must(200, "PATCH", "/v1/admin/partners/"+pid, admin, map[string]any{"status": "active"})
	token, _ = login(t, g, "owner@acme.example", "correct horse battery")
	k := g.Must(201, "POST", "/v1/api-keys", token, map[string]any{"name": "production"}).Map(t)
	key := k["key"].(string)
	if !strings.HasPrefix(key, "hg_") || k["prefix"] != key[:10] {
		t.Errorf("key %q prefix %v", key, k["prefix"])
	}
	if diff := cmp.Diff([]any{"endpoints:read", "endpoints:write", "deliveries:read", "deliveries:replay"}, k["scopes"]); diff != "" {
		t.Errorf("default scopes (-want +got):\n%s", diff)
	}
	listed := g.Must(200, "GET", "/v1/api-keys", token, nil)
	if strings.Contains(string(listed.Body), key) {
		t.Error("the key list shows the secret")
	}
	ep := g.NewEndpoint(apptest.Partner{ID: pid, Key: key}, rc.URL+"/hooks", []string{"order.*"}, nil)
	ingest := g.NewOdooSource("odoo-prod")
	g.Must(202, "POST", ingest, "", fixture(t, "01-sale-order-confirmed.json"))
	apptest.Eventually(t, 15*time.Second, "the delivery", func() bool { return rc.count() == 1 })
	wh, err := standardwebhooks.NewWebhook(ep.Secret)
	if err != nil {
		t.Fatal(err)
	}
	req := rc.requests()[0]
	if err := wh.Verify(req.Body, req.Header); err != nil {
		t.Errorf("the delivery does not verify: %v", err)
	}
	apptest.Eventually(t, 10*time.Second, "the delivery log", func() bool {
		ds := deliveries(t, g, key, "")
		return len(ds) == 1 && ds[0]["status"] == "succeeded"
	})
	usage := g.Must(200, "GET", "/v1/usage", key, nil).Map(t)
	if usage["deliveries"] != 1.0 || usage["endpoints"] != 1.0 || usage["period"] != time.Now().UTC().Format("2006-01") {
		t.Errorf("usage %v", usage)
	}

	got := auditActions(t, g, "&partner_id="+pid)
	for _, want := range []string{"partner.signed_up", "partner.approved", "login.succeeded", "api_key.created"} {
		if !slices.Contains(got, want) {
			t.Errorf("audit for the partner lacks %s: %v", want, got)
		}
	}
}

// TestIsolationMatrix sends partner B's credentials, with every scope,
// at every partner route that takes an id, with partner A's ids: each
// answers 404 (never 403, never data) and changes nothing of A's.
func TestIsolationMatrix(t *testing.T) {
	g := apptest.Start(t, apptest.Options{})
	rc := newReceiver(t, func(n int, r *http.Request) (int, string) {
		if strings.HasSuffix(r.URL.Path, "/fail") {
			return 500, "no"
		}
		return 200, "ok"
	})
	a := newAccount(t, g, "Alpha")
	b := newAccount(t, g, "Bravo")
	aKey := apptest.Partner{ID: a.PartnerID, Key: a.Key}
	aEp := g.NewEndpoint(aKey, rc.URL+"/a", []string{"order.*"}, nil)
	postEvents(t, g, "iso", 1)
	apptest.Eventually(t, 15*time.Second, "A's delivery", func() bool { return len(deliveries(t, g, a.Key, "&status=succeeded")) == 1 })
	aDlv := deliveries(t, g, a.Key, "")[0]["id"].(string)
	aMember := g.Must(201, "POST", "/v1/members", a.Token, map[string]any{"email": "member@alpha.example", "password": "member password 1"}).Map(t)["id"].(string)
	aRec := g.Must(202, "POST", "/v1/endpoints/"+aEp.ID+"/recover", a.Key, map[string]any{"since": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)})
	aJob := aRec.Map(t)["id"].(string)

	ids := map[string]string{
		"/v1/endpoints/:id": aEp.ID, "/v1/deliveries/:id": aDlv, "/v1/members/:id": aMember,
		"/v1/api-keys/:id": a.KeyID, "/v1/recoveries/:id": aJob,
	}
	bodies := map[string]any{
		"GET /v1/endpoints/:id":                nil,
		"PATCH /v1/endpoints/:id":              map[string]any{"description": "hijacked"},
		"DELETE /v1/endpoints/:id":             nil,
		"GET /v1/endpoints/:id/secret":         nil,
		"POST /v1/endpoints/:id/secret/rotate": map[string]any{"grace_period_seconds": 60},
		"POST /v1/endpoints/:id/enable":        nil,
		"POST /v1/endpoints/:id/recover":       map[string]any{"since": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)},
		"POST /v1/endpoints/:id/backfill":      map[string]any{"days": 1},
		"POST /v1/endpoints/:id/test":          map[string]any{"event_type": "order.confirmed"},
		"GET /v1/deliveries/:id":               nil,
		"GET /v1/deliveries/:id/attempts":      nil,
		"POST /v1/deliveries/:id/retry":        nil,
		"GET /v1/recoveries/:id":               nil,
		"DELETE /v1/members/:id":               nil,
		"DELETE /v1/api-keys/:id":              nil,
	}
	var covered int
	for _, rt := range g.App.Server.Routes() {
		if !strings.HasPrefix(rt.Path, "/v1/") || strings.HasPrefix(rt.Path, "/v1/admin/") || !strings.Contains(rt.Path, ":") {
			continue
		}
		prefix := rt.Path
		if i := strings.Index(rt.Path, ":id"); i > 0 {
			prefix = rt.Path[:i+3]
		}
		id, ok := ids[prefix]
		name := rt.Method + " " + rt.Path
		body, known := bodies[name]
		if !ok || !known {
			t.Errorf("partner route %s is not in the isolation matrix: add A's id and a valid body for it", name)
			continue
		}
		path := strings.Replace(rt.Path, ":id", id, 1)
		creds := map[string]string{"B's key": b.Key, "B's owner session": b.Token}
		if prefix == "/v1/members/:id" {
			delete(creds, "B's key") // members are managed by owners' sessions only
		}
		for who, cred := range creds {
			r := g.Do(rt.Method, path, cred, body)
			if r.Status != 404 {
				t.Errorf("%s with A's id, as %s: %s, want 404", name, who, r)
			}
			for _, aID := range []string{aEp.ID, aDlv, aMember, a.KeyID, aJob, a.PartnerID} {
				if strings.Contains(string(r.Body), aID) && r.Status != 404 {
					t.Errorf("%s as %s leaks %s", name, who, aID)
				}
			}
		}
		covered++
	}
	if covered < 10 {
		t.Errorf("only %d partner routes with ids were found", covered)
	}
	// Lists and filters never show A's data to B.
	for _, path := range []string{"/v1/endpoints", "/v1/deliveries", "/v1/deliveries?endpoint_id=" + aEp.ID,
		"/v1/deliveries?event_id=" + deliveries(t, g, a.Key, "")[0]["event_id"].(string), "/v1/api-keys", "/v1/members"} {
		r := g.Must(200, "GET", path, b.Token, nil)
		for _, aID := range []string{aEp.ID, aDlv, aMember, a.KeyID, a.PartnerID} {
			if strings.Contains(string(r.Body), aID) {
				t.Errorf("B's GET %s shows A's %s", path, aID)
			}
		}
	}
	// Nothing of A's changed.
	e := g.Must(200, "GET", "/v1/endpoints/"+aEp.ID, a.Key, nil).Map(t)
	if e["description"] == "hijacked" || e["status"] != "active" {
		t.Errorf("A's endpoint changed: %v", e)
	}
	members := g.Must(200, "GET", "/v1/members", a.Token, nil).Map(t)["data"].([]any)
	if len(members) != 2 {
		t.Errorf("A's members: %v", members)
	}
	g.Must(200, "GET", "/v1/me", a.Key, nil) // A's key was not revoked
	sec := g.Must(200, "GET", "/v1/endpoints/"+aEp.ID+"/secret", a.Key, nil).Map(t)
	if sec["secret"] != aEp.Secret {
		t.Error("A's signing secret was rotated by B")
	}
	// Admin routes are not for partners.
	for _, path := range []string{"/v1/admin/partners/" + a.PartnerID, "/v1/admin/partners/" + a.PartnerID + "/api-keys", "/v1/admin/audit"} {
		if r := g.Do("GET", path, b.Token, nil); r.Status != 403 {
			t.Errorf("GET %s as a partner: %s, want 403", path, r)
		}
	}
}

// TestRolesScopesAndRevocation checks who may do what: members against
// owners, keys against their scopes, and that revoked and expired keys,
// logged-out sessions and changed passwords stop working at once.
func TestRolesScopesAndRevocation(t *testing.T) {
	g := apptest.Start(t, apptest.Options{})
	rc := newReceiver(t, nil)
	a := newAccount(t, g, "Owner Co")
	ep := g.NewEndpoint(apptest.Partner{ID: a.PartnerID, Key: a.Key}, rc.URL+"/h", []string{"*"}, nil)
	postEvents(t, g, "roles", 1)
	apptest.Eventually(t, 15*time.Second, "a delivery", func() bool { return len(deliveries(t, g, a.Key, "")) == 1 })
	dlv := deliveries(t, g, a.Key, "")[0]["id"].(string)

	// A member reads and replays; it manages nothing.
	m := g.Must(201, "POST", "/v1/members", a.Token, map[string]any{"email": "member@owner.example", "password": "member password 1"}).Map(t)
	if m["role"] != "partner_member" {
		t.Errorf("default role %v", m["role"])
	}
	member, _ := login(t, g, "member@owner.example", "member password 1")
	for _, c := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "/v1/endpoints", nil, 200},
		{"GET", "/v1/endpoints/" + ep.ID, nil, 200},
		{"GET", "/v1/deliveries", nil, 200},
		{"GET", "/v1/deliveries/" + dlv + "/attempts", nil, 200},
		{"POST", "/v1/deliveries/" + dlv + "/retry", nil, 202},
		{"GET", "/v1/usage", nil, 200},
		{"GET", "/v1/me", nil, 200},
		{"POST", "/v1/endpoints", map[string]any{"url": rc.URL + "/m", "event_types": []string{"*"}}, 403},
		{"PATCH", "/v1/endpoints/" + ep.ID, map[string]any{"description": "x"}, 403},
		{"DELETE", "/v1/endpoints/" + ep.ID, nil, 403},
		{"POST", "/v1/endpoints/" + ep.ID + "/secret/rotate", nil, 403},
		{"GET", "/v1/api-keys", nil, 403},
		{"POST", "/v1/api-keys", map[string]any{"name": "mine"}, 403},
		{"DELETE", "/v1/api-keys/" + a.KeyID, nil, 403},
		{"GET", "/v1/members", nil, 403},
		{"POST", "/v1/members", map[string]any{"email": "x@owner.example", "password": "member password 2"}, 403},
		{"DELETE", "/v1/members/" + a.OwnerID, nil, 403},
		{"GET", "/v1/admin/partners", nil, 403},
	} {
		if r := g.Do(c.method, c.path, member, c.body); r.Status != c.want {
			t.Errorf("member %s %s: %s, want %d", c.method, c.path, r, c.want)
		}
	}
	// An owner cannot remove itself; a member's removal ends its session.
	if r := g.Do("DELETE", "/v1/members/"+a.OwnerID, a.Token, nil); r.Status != 409 {
		t.Errorf("owner removing itself: %s", r)
	}
	g.Must(204, "DELETE", "/v1/members/"+m["id"].(string), a.Token, nil)
	if r := g.Do("GET", "/v1/endpoints", member, nil); r.Status != 401 {
		t.Errorf("removed member's token: %s, want 401", r)
	}

	// Keys hold exactly their scopes, and never mint stronger keys.
	mint := func(token string, scopes []string) (string, string) {
		k := g.Must(201, "POST", "/v1/api-keys", token, map[string]any{"name": strings.Join(scopes, "+"), "scopes": scopes}).Map(t)
		return k["key"].(string), k["id"].(string)
	}
	readOnly, _ := mint(a.Token, []string{"endpoints:read"})
	logReader, _ := mint(a.Token, []string{"deliveries:read"})
	keyManager, _ := mint(a.Token, []string{"keys:manage", "endpoints:read"})
	for _, c := range []struct {
		name, key, method, path string
		body                    any
		want                    int
	}{
		{"read-only lists endpoints", readOnly, "GET", "/v1/endpoints", nil, 200},
		{"read-only writes", readOnly, "POST", "/v1/endpoints", map[string]any{"url": rc.URL + "/x", "event_types": []string{"*"}}, 403},
		{"read-only reads deliveries", readOnly, "GET", "/v1/deliveries", nil, 403},
		{"read-only lists keys", readOnly, "GET", "/v1/api-keys", nil, 403},
		{"log reader reads deliveries", logReader, "GET", "/v1/deliveries/" + dlv, nil, 200},
		{"log reader retries", logReader, "POST", "/v1/deliveries/" + dlv + "/retry", nil, 403},
		{"log reader reads endpoints", logReader, "GET", "/v1/endpoints", nil, 403},
		{"key manager lists keys", keyManager, "GET", "/v1/api-keys", nil, 200},
		{"key manager escalates", keyManager, "POST", "/v1/api-keys", map[string]any{"name": "esc", "scopes": []string{"endpoints:write"}}, 422},
		{"key manager asks for admin", keyManager, "POST", "/v1/api-keys", map[string]any{"name": "esc", "scopes": []string{"admin"}}, 422},
		{"key manager adds members", keyManager, "POST", "/v1/members", map[string]any{"email": "k@owner.example", "password": "member password 3"}, 403},
		{"a key logs out", keyManager, "POST", "/v1/auth/logout", nil, 403},
		{"a key changes a password", keyManager, "POST", "/v1/auth/password", map[string]any{"current_password": "a", "new_password": "0123456789ab"}, 403},
	} {
		if r := g.Do(c.method, c.path, c.key, c.body); r.Status != c.want {
			t.Errorf("%s: %s, want %d", c.name, r, c.want)
		}
	}
	sub := g.Must(201, "POST", "/v1/api-keys", keyManager, map[string]any{"name": "sub"}).Map(t)
	if diff := cmp.Diff([]any{"endpoints:read"}, sub["scopes"]); diff != "" {
		t.Errorf("a key manager's default scopes are its own (-want +got):\n%s", diff)
	}

	// Revocation and expiry take effect at once.
	victim, victimID := mint(a.Token, []string{"endpoints:read"})
	g.Must(200, "GET", "/v1/endpoints", victim, nil)
	g.Must(204, "DELETE", "/v1/api-keys/"+victimID, a.Token, nil)
	if r := g.Do("GET", "/v1/endpoints", victim, nil); r.Status != 401 {
		t.Errorf("revoked key: %s, want 401", r)
	}
	if r := g.Do("DELETE", "/v1/api-keys/"+victimID, a.Token, nil); r.Status != 404 {
		t.Errorf("revoking twice: %s, want 404", r)
	}
	exp := g.Must(201, "POST", "/v1/api-keys", a.Token, map[string]any{"name": "short-lived",
		"expires_at": time.Now().Add(1500 * time.Millisecond).UTC().Format(time.RFC3339Nano)}).Map(t)
	g.Must(200, "GET", "/v1/me", exp["key"].(string), nil)
	time.Sleep(1600 * time.Millisecond)
	if r := g.Do("GET", "/v1/me", exp["key"].(string), nil); r.Status != 401 {
		t.Errorf("expired key: %s, want 401", r)
	}
	if r := g.Do("POST", "/v1/api-keys", a.Token, map[string]any{"name": "past", "expires_at": "2020-01-01T00:00:00Z"}); r.Status != 422 {
		t.Errorf("a key expiring in the past: %s", r)
	}
	// An admin revokes a partner's key.
	adminVictim, adminVictimID := mint(a.Token, []string{"endpoints:read"})
	keys := g.Must(200, "GET", "/v1/admin/partners/"+a.PartnerID+"/api-keys", admin, nil)
	if !strings.Contains(string(keys.Body), adminVictimID) || strings.Contains(string(keys.Body), adminVictim) {
		t.Errorf("admin key list: %s", keys)
	}
	g.Must(204, "DELETE", "/v1/admin/partners/"+a.PartnerID+"/api-keys/"+adminVictimID, admin, nil)
	if r := g.Do("GET", "/v1/me", adminVictim, nil); r.Status != 401 {
		t.Errorf("key revoked by an admin: %s", r)
	}
	if r := g.Do("DELETE", "/v1/admin/partners/ptn_01JPB2K6Y1V8E4M7N3Q5R9T0WZ/api-keys/"+a.KeyID, admin, nil); r.Status != 404 {
		t.Errorf("revoking through the wrong partner: %s", r)
	}

	// Sessions: refresh rotates, a spent refresh token kills the session,
	// logout is immediate.
	tok, ref := login(t, g, a.Email, a.Password)
	r := g.Must(200, "POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": ref}).Map(t)
	tok2, ref2 := r["access_token"].(string), r["refresh_token"].(string)
	if ref2 == ref || tok2 == tok {
		t.Error("refresh did not rotate the tokens")
	}
	g.Must(200, "GET", "/v1/me", tok2, nil)
	if r := g.Do("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": ref}); r.Status != 401 {
		t.Errorf("spent refresh token: %s, want 401", r)
	}
	if r := g.Do("GET", "/v1/me", tok2, nil); r.Status != 401 {
		t.Errorf("access token of a session whose refresh token was replayed: %s, want 401", r)
	}
	if r := g.Do("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": ref2}); r.Status != 401 {
		t.Errorf("refresh of a revoked session: %s, want 401", r)
	}
	tok3, ref3 := login(t, g, a.Email, a.Password)
	g.Must(204, "POST", "/v1/auth/logout", tok3, nil)
	if r := g.Do("GET", "/v1/me", tok3, nil); r.Status != 401 {
		t.Errorf("access token after logout: %s, want 401", r)
	}
	if r := g.Do("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": ref3}); r.Status != 401 {
		t.Errorf("refresh after logout: %s, want 401", r)
	}

	// A password change ends every session and the old password.
	t1, _ := login(t, g, a.Email, a.Password)
	t2, _ := login(t, g, a.Email, a.Password)
	if r := g.Do("POST", "/v1/auth/password", t1, map[string]any{"current_password": "wrong password", "new_password": "a brand new password"}); r.Status != 422 {
		t.Errorf("password change with a wrong current password: %s", r)
	}
	g.Must(204, "POST", "/v1/auth/password", t1, map[string]any{"current_password": a.Password, "new_password": "a brand new password"})
	for _, tk := range []string{t1, t2, a.Token} {
		if r := g.Do("GET", "/v1/me", tk, nil); r.Status != 401 {
			t.Errorf("session after a password change: %s, want 401", r)
		}
	}
	if r := g.Do("POST", "/v1/auth/login", "", map[string]any{"email": a.Email, "password": a.Password}); r.Status != 401 {
		t.Errorf("old password: %s", r)
	}
	login(t, g, a.Email, "a brand new password")
	g.Must(200, "GET", "/v1/me", a.Key, nil) // API keys are not sessions

	// Admin users log in like anyone and act as admins.
	ctx := t.Context()
	if _, err := g.App.Service.CreateAdminUser(ctx, domain.Principal{Kind: domain.PrincipalAdmin, Actor: "cli"},
		"ops@retailer.example", "admin password 123"); err != nil {
		t.Fatal(err)
	}
	adm, _ := login(t, g, "ops@retailer.example", "admin password 123")
	g.Must(200, "GET", "/v1/admin/partners", adm, nil)
	g.Must(200, "GET", "/v1/admin/audit?action=login.*", adm, nil)
	if r := g.Do("GET", "/v1/endpoints", adm, nil); r.Status != 403 {
		t.Errorf("admin user on a partner route: %s", r)
	}

	actions := auditActions(t, g, "")
	for _, want := range []string{"member.added", "member.removed", "api_key.created", "api_key.revoked",
		"session.refresh_reused", "session.logged_out", "password.changed", "password.change_failed", "user.created"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit lacks %s", want)
		}
	}
}

// TestLoginThrottleAndGenericErrors checks that a wrong password and an
// unknown e-mail look alike, and that failures are throttled per account.
func TestLoginThrottleAndGenericErrors(t *testing.T) {
	g := apptest.Start(t, apptest.Options{SQLite: true})
	a := newAccount(t, g, "Throttled")
	wrong := g.Do("POST", "/v1/auth/login", "", map[string]any{"email": a.Email, "password": "not the password"})
	unknown := g.Do("POST", "/v1/auth/login", "", map[string]any{"email": "nobody@acct.example", "password": "not the password"})
	strip := func(r apptest.Response) map[string]any {
		m := r.Map(t)
		delete(m, "request_id")
		return m
	}
	if wrong.Status != 401 || unknown.Status != 401 {
		t.Fatalf("wrong password %s, unknown email %s", wrong, unknown)
	}
	if diff := cmp.Diff(strip(wrong), strip(unknown)); diff != "" {
		t.Errorf("wrong password and unknown email differ (-wrong +unknown):\n%s", diff)
	}
	// Five failures a minute per account: the sixth attempt is refused,
	// even with the right password, and says when to retry.
	for range 4 {
		g.Must(401, "POST", "/v1/auth/login", "", map[string]any{"email": a.Email, "password": "not the password"})
	}
	r := g.Do("POST", "/v1/auth/login", "", map[string]any{"email": a.Email, "password": a.Password})
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth attempt: %s (Retry-After %q), want 429", r, r.Header.Get("Retry-After"))
	}
	// Another account from the same address is not locked out.
	b := newAccount(t, g, "Neighbour")
	login(t, g, b.Email, b.Password)
	failed := g.Must(200, "GET", "/v1/admin/audit?action=login.failed", admin, nil).Map(t)["data"].([]any)
	if len(failed) != 6 {
		t.Errorf("%d failed logins audited, want 6", len(failed))
	}
	for _, e := range failed {
		e := e.(map[string]any)
		if e["address"] != "127.0.0.1" || e["actor"] != "anonymous" {
			t.Errorf("failed login entry %v", e)
		}
	}
}

// TestQuotaHoldsAndReleases: quota 3, ten events → 3 delivered, 7 held
// with reason quota; raising the quota delivers the 7. A suspended
// partner's deliveries are held and delivered on reactivation.
func TestQuotaHoldsAndReleases(t *testing.T) {
	g := apptest.Start(t, apptest.Options{})
	rc := newReceiver(t, nil)
	a := newAccount(t, g, "Quota Co")
	g.Must(200, "PATCH", "/v1/admin/partners/"+a.PartnerID, admin, map[string]any{"quota": map[string]any{"monthly_deliveries": 3}})
	g.NewEndpoint(apptest.Partner{ID: a.PartnerID, Key: a.Key}, rc.URL+"/q", []string{"order.*"}, nil)

	postEvents(t, g, "quota", 10)
	apptest.Eventually(t, 15*time.Second, "3 deliveries and 7 held", func() bool {
		return rc.count() == 3 && len(deliveries(t, g, a.Key, "&status=held")) == 7
	})
	time.Sleep(300 * time.Millisecond)
	if n := rc.count(); n != 3 {
		t.Fatalf("%d delivered over a quota of 3", n)
	}
	for _, d := range deliveries(t, g, a.Key, "&status=held") {
		if d["held_reason"] != "quota" {
			t.Errorf("held delivery %v", d)
		}
	}
	u := g.Must(200, "GET", "/v1/usage", a.Key, nil).Map(t)
	want := map[string]any{"period": time.Now().UTC().Format("2006-01"), "deliveries": 3.0, "held": 7.0,
		"held_by_reason": map[string]any{"quota": 7.0}, "endpoints": 1.0,
		"quota": map[string]any{"monthly_deliveries": 3.0, "max_endpoints": 0.0, "max_rate_per_second": 0.0}}
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}

	// Raising the quota releases the held ones, oldest first.
	g.Must(200, "PATCH", "/v1/admin/partners/"+a.PartnerID, admin, map[string]any{"quota": map[string]any{"monthly_deliveries": 10}})
	apptest.Eventually(t, 15*time.Second, "the 7 held deliveries", func() bool { return rc.count() == 10 })
	apptest.Eventually(t, 10*time.Second, "all succeeded", func() bool {
		return len(deliveries(t, g, a.Key, "&status=succeeded")) == 10
	})
	u = g.Must(200, "GET", "/v1/usage", a.Key, nil).Map(t)
	if u["deliveries"] != 10.0 || u["held"] != 0.0 {
		t.Errorf("usage after the raise: %v", u)
	}
	// The quota is spent: the next event is held again.
	postEvents(t, g, "quota-more", 1)
	apptest.Eventually(t, 10*time.Second, "the 11th held", func() bool { return len(deliveries(t, g, a.Key, "&status=held")) == 1 })

	// A suspended partner's deliveries are held, then delivered once it
	// is reactivated (the quota no longer limits).
	g.Must(200, "PATCH", "/v1/admin/partners/"+a.PartnerID, admin, map[string]any{"status": "suspended", "quota": map[string]any{}})
	postEvents(t, g, "suspended", 2)
	apptest.Eventually(t, 10*time.Second, "held while suspended", func() bool {
		n := 0
		for _, d := range deliveries(t, g, a.Key, "&status=held") {
			if d["held_reason"] == "partner_suspended" {
				n++
			}
		}
		return n == 2
	})
	if rc.count() != 10 {
		t.Errorf("delivered while suspended: %d", rc.count())
	}
	g.Must(200, "PATCH", "/v1/admin/partners/"+a.PartnerID, admin, map[string]any{"status": "active"})
	apptest.Eventually(t, 15*time.Second, "everything delivered", func() bool { return rc.count() == 13 })

	actions := auditActions(t, g, "&partner_id="+a.PartnerID+"&action=partner.*")
	for _, want := range []string{"partner.quota_changed", "partner.suspended", "partner.reactivated", "partner.approved"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
}

// TestAPIRateLimits checks the per-credential and per-address limits, the
// RateLimit-* headers on every /v1 answer, and the exemptions: the
// bootstrap admin token and Odoo ingest.
func TestAPIRateLimits(t *testing.T) {
	g := apptest.Start(t, apptest.Options{SQLite: true, Env: map[string]string{
		"HOOKGATE_API_RATE_PER_KEY": "1:5", "HOOKGATE_API_RATE_PER_ADDRESS": "1000:1000",
	}})
	a := newAccount(t, g, "Busy")
	k2 := g.Must(201, "POST", "/v1/api-keys", a.Token, map[string]any{"name": "second"}).Map(t)["key"].(string)
	var remaining []string
	var last apptest.Response
	for range 6 {
		last = g.Do("GET", "/v1/me", a.Key, nil)
		if last.Header.Get("RateLimit-Limit") != "5" {
			t.Errorf("RateLimit-Limit %q, want 5", last.Header.Get("RateLimit-Limit"))
		}
		remaining = append(remaining, last.Header.Get("RateLimit-Remaining"))
	}
	if diff := cmp.Diff([]string{"4", "3", "2", "1", "0", "0"}, remaining); diff != "" {
		t.Errorf("RateLimit-Remaining (-want +got):\n%s", diff)
	}
	if last.Status != 429 || problemType(t, last) != "rate-limited" || last.Header.Get("Retry-After") == "" || last.Header.Get("RateLimit-Reset") == "" {
		t.Fatalf("sixth request: %s headers %v", last, last.Header)
	}
	// Another key of the same partner has its own bucket.
	g.Must(200, "GET", "/v1/me", k2, nil)
	// The bootstrap admin token is exempt.
	for range 20 {
		r := g.Must(200, "GET", "/v1/admin/partners", admin, nil)
		if r.Header.Get("RateLimit-Limit") != "" {
			t.Fatal("the bootstrap admin token got rate-limit headers")
		}
	}
	time.Sleep(1100 * time.Millisecond) // one request per second refills
	if r := g.Do("GET", "/v1/me", a.Key, nil); r.Status != 200 {
		t.Errorf("after waiting: %s", r)
	}

	// Per address: unauthenticated requests count too; ingest never does.
	h := apptest.Start(t, apptest.Options{SQLite: true, Env: map[string]string{
		"HOOKGATE_API_RATE_PER_KEY": "1000", "HOOKGATE_API_RATE_PER_ADDRESS": "1:3",
	}})
	var statuses []int
	for range 4 {
		statuses = append(statuses, h.Do("GET", "/v1/endpoints", "hg_not-a-real-key", nil).Status)
	}
	if diff := cmp.Diff([]int{401, 401, 401, 429}, statuses); diff != "" {
		t.Errorf("per-address statuses (-want +got):\n%s", diff)
	}
	if r := h.Do("POST", "/v1/auth/login", "", map[string]any{"email": "a@b.example", "password": "whatever123"}); r.Status != 429 {
		t.Errorf("login from a limited address: %s", r)
	}
	ingest := h.NewOdooSource("odoo")
	for i := range 10 {
		if r := h.Do("POST", ingest, "", fixture(t, "06-customer-created.json")); r.Status != 202 {
			t.Fatalf("ingest %d from a limited address: %s", i, r)
		}
	}
}

// TestNoSecretLeaks runs a full scenario and checks every secret (API keys,
// signing secrets, ingest tokens, passwords and their hashes, access and
// refresh tokens, the admin token, the master key) appears in no log line
// and in no response but the one that created it.
func TestNoSecretLeaks(t *testing.T) {
	g := apptest.Start(t, apptest.Options{})
	rc := newReceiver(t, nil)
	var mu sync.Mutex
	type seen struct {
		what string
		body string
	}
	var responses []seen
	do := func(want int, method, path, token string, body any) map[string]any {
		t.Helper()
		r := g.Must(want, method, path, token, body)
		var hdr strings.Builder
		for k, vs := range r.Header {
			hdr.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
		}
		mu.Lock()
		responses = append(responses, seen{what: method + " " + path, body: hdr.String() + string(r.Body)})
		mu.Unlock()
		if len(r.Body) == 0 || r.Body[0] != '{' {
			return nil
		}
		return r.Map(t)
	}
	type secret struct {
		name, value string
		createdBy   int // index in responses; -1: never shown
	}
	var secrets []secret
	keep := func(name, value string, createdBy int) {
		if value == "" {
			t.Fatalf("secret %s is empty", name)
		}
		secrets = append(secrets, secret{name, value, createdBy})
	}
	last := func() int { return len(responses) - 1 }

	pw := "first password 0123"
	su := do(201, "POST", "/v1/auth/signup", "", map[string]any{"company": "Leaky Ltd", "email": "leaky@acct.example", "password": pw})
	keep("signup password", pw, -1)
	pid := su["partner"].(map[string]any)["id"].(string)
	do(200, "PATCH", "/v1/admin/partners/"+pid, admin, map[string]any{"status": "active"})
	// Failed logins log and audit the attempt, never the password tried.
	wrongPW := "wrong password 98765"
	if r := g.Do("POST", "/v1/auth/login", "", map[string]any{"email": "leaky@acct.example", "password": wrongPW}); r.Status != 401 {
		t.Fatal(r)
	}
	keep("a wrong password tried", wrongPW, -1)
	lg := do(200, "POST", "/v1/auth/login", "", map[string]any{"email": "leaky@acct.example", "password": pw})
	keep("access token", lg["access_token"].(string), last())
	keep("refresh token", lg["refresh_token"].(string), last())
	tok := lg["access_token"].(string)
	rf := do(200, "POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": lg["refresh_token"].(string)})
	keep("refreshed access token", rf["access_token"].(string), last())
	keep("refreshed refresh token", rf["refresh_token"].(string), last())
	tok = rf["access_token"].(string)
	k := do(201, "POST", "/v1/api-keys", tok, map[string]any{"name": "ci"})
	keep("partner API key", k["key"].(string), last())
	key := k["key"].(string)
	ak := do(201, "POST", "/v1/admin/partners/"+pid+"/api-keys", admin, map[string]any{"name": "admin-issued"})
	keep("admin-issued API key", ak["key"].(string), last())
	memberPW := "member password 4567"
	do(201, "POST", "/v1/members", tok, map[string]any{"email": "m@leaky.example", "password": memberPW})
	keep("member password", memberPW, -1)
	ep := do(201, "POST", "/v1/endpoints", key, map[string]any{"url": rc.URL + "/leak", "event_types": []string{"*"}})
	keep("endpoint secret", ep["secret"].(string), last())
	rot := do(200, "POST", "/v1/endpoints/"+ep["id"].(string)+"/secret/rotate", key, map[string]any{"grace_period_seconds": 60})
	keep("rotated endpoint secret", rot["secret"].(string), last())
	src := do(201, "POST", "/v1/admin/sources", admin, map[string]any{"name": "odoo-leak", "kind": "odoo"})
	keep("ingest token", src["token"].(string), last())
	srot := do(200, "POST", "/v1/admin/sources/"+src["id"].(string)+"/rotate-token", admin, map[string]any{"grace_period_seconds": 60})
	keep("rotated ingest token", srot["token"].(string), last())
	do(202, "POST", srot["ingest_url"].(string), "", fixture(t, "01-sale-order-confirmed.json"))
	do(202, "POST", src["ingest_url"].(string), "", fixture(t, "02-sale-order-cancelled.json")) // old token, in its grace
	apptest.Eventually(t, 15*time.Second, "deliveries", func() bool { return rc.count() == 2 })
	ds := do(200, "GET", "/v1/deliveries", key, nil)["data"].([]any)
	for _, d := range ds {
		id := d.(map[string]any)["id"].(string)
		do(200, "GET", "/v1/deliveries/"+id, key, nil)
		do(200, "GET", "/v1/deliveries/"+id+"/attempts", key, nil)
	}
	newPW := "second password 0123"
	do(204, "POST", "/v1/auth/password", tok, map[string]any{"current_password": pw, "new_password": newPW})
	keep("changed password", newPW, -1)
	do(200, "GET", "/v1/endpoints", key, nil)
	do(200, "GET", "/v1/admin/partners/"+pid+"/api-keys", admin, nil)
	do(200, "GET", "/v1/admin/sources", admin, nil)
	do(200, "GET", "/v1/admin/audit?limit=200", admin, nil)
	do(200, "GET", "/v1/usage", key, nil)
	do(200, "GET", "/v1/me", key, nil)

	// Stored forms must not leak either: password hashes and key hashes.
	var hashes []string
	if err := g.App.Store.DB().Raw(`SELECT password_hash FROM users`).Scan(&hashes).Error; err != nil {
		t.Fatal(err)
	}
	for i, h := range hashes {
		keep(fmt.Sprintf("password hash %d", i), h, -1)
	}
	var keyHashes []string
	if err := g.App.Store.DB().Raw(`SELECT hash FROM api_keys`).Scan(&keyHashes).Error; err != nil {
		t.Fatal(err)
	}
	for i, h := range keyHashes {
		keep(fmt.Sprintf("API key hash %d", i), h, -1)
	}
	keep("admin token", admin, -1)
	keep("master key", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", -1)
	keep("master key bytes", "0123456789abcdef0123456789abcdef", -1)

	logs := g.Logs()
	if len(logs) == 0 {
		t.Fatal("no logs captured")
	}
	for _, s := range secrets {
		if strings.Contains(logs, s.value) {
			t.Errorf("the %s appears in the logs", s.name)
		}
		for i, r := range responses {
			if i != s.createdBy && strings.Contains(r.body, s.value) {
				t.Errorf("the %s appears in response %d (%s), not only in the one that created it", s.name, i, r.what)
			}
		}
		if s.createdBy >= 0 && !strings.Contains(responses[s.createdBy].body, s.value) {
			t.Errorf("test bug: the %s is not in its creating response", s.name)
		}
	}
	if len(responses) < 25 {
		t.Errorf("only %d responses checked", len(responses))
	}
}

// TestEntitlementsAndEndpointQuotas: an endpoint cannot subscribe beyond
// its partner's entitlements, narrowing them stops matching deliveries,
// and the endpoint count and rate quotas hold.
func TestEntitlementsAndEndpointQuotas(t *testing.T) {
	g := apptest.Start(t, apptest.Options{})
	rc := newReceiver(t, nil)
	a := newAccount(t, g, "Entitled")
	g.Must(200, "PATCH", "/v1/admin/partners/"+a.PartnerID, admin, map[string]any{
		"entitlements": []string{"order.*", "invoice.*"},
		"quota":        map[string]any{"max_endpoints": 1, "max_rate_per_second": 5},
	})
	p := apptest.Partner{ID: a.PartnerID, Key: a.Key}
	if r := g.Do("POST", "/v1/endpoints", a.Key, map[string]any{"url": rc.URL + "/x", "event_types": []string{"*"}}); r.Status != 422 {
		t.Errorf("subscribing beyond the entitlements: %s, want 422", r)
	}
	if r := g.Do("POST", "/v1/endpoints", a.Key, map[string]any{"url": rc.URL + "/x", "event_types": []string{"order.*"},
		"rate_limit_per_second": 50}); r.Status != 422 {
		t.Errorf("a rate above the quota: %s, want 422", r)
	}
	g.NewEndpoint(p, rc.URL+"/orders", []string{"order.*"}, nil)
	if r := g.Do("POST", "/v1/endpoints", a.Key, map[string]any{"url": rc.URL + "/y", "event_types": []string{"invoice.*"}}); r.Status != 409 {
		t.Errorf("a second endpoint over max_endpoints 1: %s, want 409", r)
	}
	postEvents(t, g, "ent", 1)
	apptest.Eventually(t, 15*time.Second, "the entitled delivery", func() bool { return rc.count() == 1 })

	// Narrowed to invoices: order events no longer match the endpoint.
	g.Must(200, "PATCH", "/v1/admin/partners/"+a.PartnerID, admin, map[string]any{"entitlements": []string{"invoice.*"}})
	postEvents(t, g, "ent-narrowed", 2)
	time.Sleep(500 * time.Millisecond)
	if rc.count() != 1 || len(deliveries(t, g, a.Key, "")) != 1 {
		t.Errorf("after narrowing: %d received, %d deliveries; want the first only", rc.count(), len(deliveries(t, g, a.Key, "")))
	}
	if !slices.Contains(auditActions(t, g, "&partner_id="+a.PartnerID), "partner.entitlements_changed") {
		t.Error("the entitlement change is not audited")
	}
}
