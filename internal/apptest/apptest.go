// Package apptest starts a whole hookgate gateway in-process against real
// PostgreSQL (or SQLite) and real Redis, and drives it over HTTP the way a
// client would. Only tests import it.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/app"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/testenv"
)

// AdminToken is the bootstrap admin token of every test gateway.
const AdminToken = "test-admin-token-0123456789"

// Options tune a test gateway. Env entries override the defaults.
type Options struct {
	SQLite bool              // use SQLite instead of PostgreSQL
	Env    map[string]string // extra environment
	Mode   app.Mode          // default serve
	// DatabaseURL and RedisURL reuse another gateway's services.
	DatabaseURL string
	RedisURL    string
	// Logs, when set, receives the gateway's logs (default: test log on failure).
	Logs io.Writer
}

// Gateway is a running hookgate.
type Gateway struct {
	t           testing.TB
	App         *app.App
	URL         string
	DatabaseURL string
	RedisURL    string
	HTTP        *http.Client
	// NoContractCheck turns off the OpenAPI response check (for tests that
	// send deliberately odd requests the spec cannot describe).
	NoContractCheck bool
	logs            *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start builds and starts a gateway; it stops at the end of the test.
func Start(t testing.TB, o Options) *Gateway {
	t.Helper()
	g := &Gateway{t: t, HTTP: &http.Client{Timeout: 30 * time.Second}, logs: &syncBuffer{}}
	g.DatabaseURL = o.DatabaseURL
	if g.DatabaseURL == "" {
		if o.SQLite {
			g.DatabaseURL = "sqlite:" + t.TempDir() + "/hookgate.db"
		} else {
			g.DatabaseURL = testenv.Postgres(t)
		}
	}
	g.RedisURL = o.RedisURL
	if g.RedisURL == "" {
		g.RedisURL = testenv.Redis(t)
	}
	env := map[string]string{
		"HOOKGATE_ADDR":           "127.0.0.1:0",
		"HOOKGATE_DATA_DIR":       t.TempDir(),
		"DATABASE_URL":            g.DatabaseURL,
		"REDIS_URL":               g.RedisURL,
		"HOOKGATE_ADMIN_TOKEN":    AdminToken,
		"HOOKGATE_MASTER_KEY":     "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"HOOKGATE_ALLOW_TARGETS":  "127.0.0.1/32",
		"HOOKGATE_RETRY_SCHEDULE": "200ms,200ms,200ms",
		"HOOKGATE_SWEEP_INTERVAL": "1s",
		"HOOKGATE_LOG_LEVEL":      "info",
		// Many gateways run at once in the test suite: keep each pool small
		// so PostgreSQL's max_connections (100 by default) is never reached.
		"HOOKGATE_DB_MAX_CONNS":       "6",
		"HOOKGATE_WORKER_CONCURRENCY": "64",
		// API rate limits stay on (every answer carries RateLimit-*) but
		// high enough for bulk test traffic; rate-limit tests set their own.
		"HOOKGATE_API_RATE_PER_KEY":     "100000",
		"HOOKGATE_API_RATE_PER_ADDRESS": "100000",
	}
	for k, v := range o.Env {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("apptest: config: %v", err)
	}
	var w io.Writer = g.logs
	if o.Logs != nil {
		w = io.MultiWriter(g.logs, o.Logs)
	}
	if os.Getenv("HOOKGATE_TEST_VERBOSE") != "" {
		w = io.MultiWriter(w, os.Stderr)
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
	mode := o.Mode
	if mode == "" {
		mode = app.ModeServe
	}
	ctx := context.Background()
	a, err := app.Build(ctx, cfg, mode, log)
	if err != nil {
		t.Fatalf("apptest: build: %v", err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatalf("apptest: start: %v", err)
	}
	g.App = a
	if a.Addr() != "" {
		g.URL = "http://" + a.Addr()
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		a.Shutdown(ctx)
		if t.Failed() {
			t.Logf("gateway logs:\n%s", g.logs.String())
		}
	})
	return g
}

// Logs returns everything the gateway logged so far.
func (g *Gateway) Logs() string { return g.logs.String() }

// Response is an HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v or fails the test.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("apptest: decode %s: %v", r.Body, err)
	}
}

// Map decodes the body as an object.
func (r Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Do sends a request; body may be nil, []byte, string or a value to encode.
func (g *Gateway) Do(method, path, token string, body any) Response {
	g.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			g.t.Fatalf("apptest: encode: %v", err)
		}
		raw = enc
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(raw)
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = g.URL + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		g.t.Fatalf("apptest: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := g.HTTP.Do(req)
	if err != nil {
		g.t.Fatalf("apptest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if ResponseCheck != nil && !g.NoContractCheck {
		ResponseCheck(g.t, req, raw, r)
	}
	return r
}

// ResponseCheck, when set (by the contract checker in this package), is
// called with every request the test gateway answers, so every response the
// test suite produces is checked against openapi.yaml.
var ResponseCheck func(t testing.TB, req *http.Request, reqBody []byte, resp Response)

// Must sends a request and fails unless the status is want.
func (g *Gateway) Must(want int, method, path, token string, body any) Response {
	g.t.Helper()
	r := g.Do(method, path, token, body)
	if r.Status != want {
		g.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// Partner is a partner created for a test with an API key.
type Partner struct {
	ID  string
	Key string
}

// NewPartner creates an active partner and issues it a key.
func (g *Gateway) NewPartner(name string) Partner {
	g.t.Helper()
	p := g.Must(201, "POST", "/v1/admin/partners", AdminToken, map[string]any{
		"name": name, "email": strings.ToLower(strings.ReplaceAll(name, " ", "")) + "@example.com",
	}).Map(g.t)
	id := p["id"].(string)
	g.Must(200, "PATCH", "/v1/admin/partners/"+id, AdminToken, map[string]any{"status": "active"})
	k := g.Must(201, "POST", "/v1/admin/partners/"+id+"/api-keys", AdminToken, map[string]any{"name": "test"}).Map(g.t)
	return Partner{ID: id, Key: k["key"].(string)}
}

// Endpoint is a created endpoint with its secret.
type Endpoint struct {
	ID     string
	Secret string
}

// NewEndpoint subscribes url to patterns for partner p; extra fields are
// merged into the request.
func (g *Gateway) NewEndpoint(p Partner, url string, patterns []string, extra map[string]any) Endpoint {
	g.t.Helper()
	body := map[string]any{"url": url, "event_types": patterns}
	for k, v := range extra {
		body[k] = v
	}
	e := g.Must(201, "POST", "/v1/endpoints", p.Key, body).Map(g.t)
	return Endpoint{ID: e["id"].(string), Secret: e["secret"].(string)}
}

// NewOdooSource creates an Odoo source and returns its ingest URL.
func (g *Gateway) NewOdooSource(name string) string {
	g.t.Helper()
	s := g.Must(201, "POST", "/v1/admin/sources", AdminToken, map[string]any{"name": name, "kind": "odoo"}).Map(g.t)
	return s["ingest_url"].(string)
}

// Eventually polls cond every 20ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Fixture reads one of the Odoo fixture bodies shipped with the odoo package.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	for _, dir := range []string{"internal/odoo/testdata", "../odoo/testdata", "../internal/odoo/testdata", "../../internal/odoo/testdata"} {
		if b, err := os.ReadFile(dir + "/" + name); err == nil {
			return b
		}
	}
	t.Fatalf("apptest: fixture %s not found", name)
	return nil
}

// String renders a response for failure messages.
func (r Response) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }
