package sdk_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/hookgate/hookgate/internal/apptest"
	"github.com/hookgate/hookgate/sdk"
)

func init() {
	// The NDJSON delivery export is checked as text, as internal/e2e does.
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", openapi3filter.PlainBodyDecoder)
}

// contractTransport hands every request the SDK makes, and the answer, to
// apptest.ResponseCheck, so the SDK's traffic is checked against
// openapi.yaml just like the server's own tests.
type contractTransport struct {
	t    testing.TB
	base http.RoundTripper
}

func (ct contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := ct.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if apptest.ResponseCheck != nil {
		check := req.Clone(context.Background())
		apptest.ResponseCheck(ct.t, check, reqBody, apptest.Response{Status: resp.StatusCode, Header: resp.Header, Body: body})
	}
	return resp, nil
}

// env is a running gateway and SDK clients for it.
type env struct {
	g     *apptest.Gateway
	admin *sdk.Client
	opts  []sdk.Option
}

// start runs a gateway on real PostgreSQL and Redis and returns an admin
// client whose traffic is contract-checked.
func start(t *testing.T) *env {
	t.Helper()
	g := apptest.Start(t, apptest.Options{})
	hc := &http.Client{Timeout: 30 * time.Second, Transport: contractTransport{t: t, base: http.DefaultTransport}}
	opts := []sdk.Option{sdk.WithHTTPClient(hc), sdk.WithUserAgent("hookgate-sdk-test"), sdk.WithBackoff(10*time.Millisecond, 50*time.Millisecond)}
	return &env{g: g, admin: sdk.NewClient(g.URL, apptest.AdminToken, opts...), opts: opts}
}

// client returns a client for the same gateway with another token.
func (e *env) client(token string) *sdk.Client {
	return sdk.NewClient(e.g.URL, token, e.opts...)
}

// partner creates an active partner with a key, through the SDK.
func (e *env) partner(t *testing.T, ctx context.Context, name string) (sdk.Partner, *sdk.Client) {
	t.Helper()
	p, err := e.admin.AdminCreatePartner(ctx, sdk.PartnerInput{Name: name, Email: name + "@example.com", Status: sdk.PartnerActive})
	if err != nil {
		t.Fatalf("create partner %s: %v", name, err)
	}
	k, err := e.admin.AdminCreatePartnerAPIKey(ctx, p.ID, sdk.APIKeyInput{Name: "sdk"})
	if err != nil {
		t.Fatalf("partner key: %v", err)
	}
	return p, e.client(k.Key)
}

// receiver is a webhook receiver that verifies with the SDK's middleware
// and answers status.
type receiver struct {
	*httptest.Server
	t        *testing.T
	mu       sync.Mutex
	verifier *sdk.Verifier
	events   []sdk.Event
	status   int
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{t: t, status: http.StatusNoContent}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		v := r.verifier
		r.mu.Unlock()
		if v == nil {
			http.Error(w, "no secret yet", http.StatusServiceUnavailable)
			return
		}
		v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			ev, _ := sdk.EventFromContext(req.Context())
			r.mu.Lock()
			r.events = append(r.events, ev)
			status := r.status
			r.mu.Unlock()
			w.WriteHeader(status)
		})).ServeHTTP(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

// setSecrets makes the receiver verify with these endpoint secrets.
func (r *receiver) setSecrets(secrets ...string) {
	r.t.Helper()
	v, err := sdk.NewVerifier(secrets)
	if err != nil {
		r.t.Fatalf("verifier: %v", err)
	}
	r.mu.Lock()
	r.verifier = v
	r.mu.Unlock()
}

// setStatus sets the status the receiver answers verified webhooks with.
func (r *receiver) setStatus(status int) {
	r.mu.Lock()
	r.status = status
	r.mu.Unlock()
}

// received returns the verified events so far.
func (r *receiver) received() []sdk.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sdk.Event(nil), r.events...)
}
