package sdk_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookgate/hookgate/sdk"
)

// flaky answers the first len(statuses) requests with those statuses
// (a problem document each) and then 200 with body ok. It records every
// request's method, path, headers and body.
type flaky struct {
	*httptest.Server
	mu         sync.Mutex
	statuses   []int
	retryAfter string
	ok         string
	calls      []recorded
}

type recorded struct {
	Method, Path, Escaped, Query, Body string
	Header                             http.Header
	At                                 time.Time
}

func newFlaky(t *testing.T, ok string, statuses ...int) *flaky {
	f := &flaky{statuses: statuses, ok: ok}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		n := len(f.calls)
		f.calls = append(f.calls, recorded{Method: r.Method, Path: r.URL.Path, Escaped: r.URL.EscapedPath(), Query: r.URL.RawQuery, Body: string(b), Header: r.Header.Clone(), At: time.Now()})
		var status int
		if n < len(f.statuses) {
			status = f.statuses[n]
		}
		ra := f.retryAfter
		f.mu.Unlock()
		if status == 0 {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, f.ok)
			return
		}
		if status == -1 { // drop the connection without an answer
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		if ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("X-Request-Id", "req-header")
		w.WriteHeader(status)
		io.WriteString(w, `{"type":"https://hookgate.dev/problems/x","title":"`+http.StatusText(status)+`","status":`+itoa(status)+`,"request_id":"req-body"}`)
	}))
	t.Cleanup(f.Close)
	return f
}

func itoa(n int) string { return strconv.Itoa(n) }

func (f *flaky) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.calls...)
}

func fastClient(url string, opts ...sdk.Option) *sdk.Client {
	return sdk.NewClient(url, "hg_test", append([]sdk.Option{sdk.WithBackoff(time.Millisecond, 5*time.Millisecond)}, opts...)...)
}

const partnerJSON = `{"id":"ptn_1","name":"P","email":"p@example.com","status":"active","entitlements":["*"],
"quota":{"monthly_deliveries":0,"max_endpoints":0,"max_rate_per_second":0},
"created_at":"2025-03-14T09:41:07Z","updated_at":"2025-03-14T09:41:07Z"}`

func TestRetriesIdempotentCalls(t *testing.T) {
	for _, status := range []int{429, 502, 503, 504, -1} {
		t.Run(itoa(max(status, 0)), func(t *testing.T) {
			f := newFlaky(t, partnerJSON, status, status)
			p, err := fastClient(f.URL).Me(context.Background())
			if err != nil {
				t.Fatalf("Me: %v", err)
			}
			if p.ID != "ptn_1" {
				t.Errorf("Me answered %+v", p)
			}
			if n := len(f.requests()); n != 3 {
				t.Errorf("%d requests, want 3 (two failures, then success)", n)
			}
		})
	}
	t.Run("delete and retried post bodies are resent", func(t *testing.T) {
		f := newFlaky(t, `{}`, 503)
		if err := fastClient(f.URL).DeleteEndpoint(context.Background(), "ep_1"); err != nil {
			t.Fatalf("DeleteEndpoint: %v", err)
		}
		got := f.requests()
		if len(got) != 2 || got[0].Method != "DELETE" || got[1].Path != "/v1/endpoints/ep_1" {
			t.Errorf("requests %+v", got)
		}
	})
}

func TestNoRetryOfNonIdempotentPost(t *testing.T) {
	for _, tc := range []struct {
		name string
		call func(c *sdk.Client) error
	}{
		{"create endpoint", func(c *sdk.Client) error {
			_, err := c.CreateEndpoint(context.Background(), sdk.EndpointInput{URL: "https://x.example", EventTypes: []string{"*"}})
			return err
		}},
		{"event without idempotency key", func(c *sdk.Client) error {
			_, err := c.CreateEvent(context.Background(), sdk.EventInput{Type: "order.confirmed", Data: map[string]any{"id": 1}})
			return err
		}},
		{"retry delivery", func(c *sdk.Client) error {
			_, err := c.RetryDelivery(context.Background(), "dlv_1")
			return err
		}},
		{"patch", func(c *sdk.Client) error {
			_, err := c.UpdateEndpoint(context.Background(), "ep_1", sdk.EndpointUpdate{Description: sdk.Ptr("x")})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlaky(t, `{}`, 503, 503)
			err := tc.call(fastClient(f.URL))
			if !errors.Is(err, sdk.ErrUnavailable) {
				t.Errorf("err %v, want the 503 as ErrUnavailable", err)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("%d requests, want 1: a POST/PATCH is not retried", n)
			}
		})
	}
	t.Run("connection dropped", func(t *testing.T) {
		f := newFlaky(t, `{}`, -1, -1)
		_, err := fastClient(f.URL).CreateEndpoint(context.Background(), sdk.EndpointInput{URL: "https://x.example", EventTypes: []string{"*"}})
		if err == nil {
			t.Fatal("no error")
		}
		if n := len(f.requests()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
}

func TestCreateEventWithIdempotencyKeyIsRetried(t *testing.T) {
	f := newFlaky(t, `{"id":"msg_1","type":"order.confirmed","status":"accepted","duplicate":false}`, 503, 502)
	occurred := time.Date(2025, 3, 14, 9, 41, 7, 0, time.FixedZone("CET", 3600))
	res, err := fastClient(f.URL).CreateEvent(context.Background(), sdk.EventInput{
		Type: "order.confirmed", Data: map[string]any{"id": 1287}, IdempotencyKey: "order-1287", OccurredAt: occurred,
	})
	if err != nil {
		t.Fatalf("CreateEvent: %v", err)
	}
	if diff := cmp.Diff(sdk.IngestResult{ID: "msg_1", Type: "order.confirmed", Status: "accepted"}, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	got := f.requests()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3", len(got))
	}
	for _, r := range got {
		if r.Method != "POST" || r.Path != "/v1/events" || r.Header.Get("Idempotency-Key") != "order-1287" ||
			r.Header.Get("Authorization") != "Bearer hg_test" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s %s headers %v", r.Method, r.Path, r.Header)
		}
		if want := `{"type":"order.confirmed","data":{"id":1287},"occurred_at":"2025-03-14T08:41:07Z"}`; r.Body != want {
			t.Errorf("body %s, want %s", r.Body, want)
		}
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := newFlaky(t, partnerJSON, 429)
	f.retryAfter = "1"
	start := time.Now()
	if _, err := fastClient(f.URL).Me(context.Background()); err != nil {
		t.Fatalf("Me: %v", err)
	}
	got := f.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	if wait := got[1].At.Sub(got[0].At); wait < 900*time.Millisecond {
		t.Errorf("retried after %v, want the 1s Retry-After honoured", wait)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

func TestRetriesGiveUp(t *testing.T) {
	f := newFlaky(t, partnerJSON, 429, 429, 429, 429, 429)
	f.retryAfter = "0"
	_, err := fastClient(f.URL, sdk.WithRetries(2)).Me(context.Background())
	var ae *sdk.APIError
	if !errors.As(err, &ae) || !errors.Is(err, sdk.ErrRateLimited) {
		t.Fatalf("err %v, want the last 429 as an *APIError", err)
	}
	if ae.RequestID != "req-body" || ae.Status != 429 {
		t.Errorf("APIError %+v", ae)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d requests, want 3 (1 + 2 retries)", n)
	}

	f2 := newFlaky(t, partnerJSON, 503)
	if _, err := fastClient(f2.URL, sdk.WithRetries(0)).Me(context.Background()); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("WithRetries(0): %v, want the 503", err)
	}
	if n := len(f2.requests()); n != 1 {
		t.Errorf("WithRetries(0): %d requests, want 1", n)
	}
}

func TestNoRetryOfClientErrors(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 409, 422, 500} {
		f := newFlaky(t, partnerJSON, status, status)
		if _, err := fastClient(f.URL).Me(context.Background()); err == nil {
			t.Errorf("%d: no error", status)
		}
		if n := len(f.requests()); n != 1 {
			t.Errorf("%d: %d requests, want 1", status, n)
		}
	}
}

func TestRetriesStopWithContext(t *testing.T) {
	f := newFlaky(t, partnerJSON, 503, 503, 503, 503)
	f.retryAfter = "30"
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := sdk.NewClient(f.URL, "k").Me(ctx)
	if !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("err %v: want the 503 reported at once rather than waiting past the deadline", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("took %v despite a 200ms deadline", time.Since(start))
	}

	// Cancelled while waiting between attempts.
	f2 := newFlaky(t, partnerJSON, 503, 503, 503, 503)
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel2() }()
	_, err = sdk.NewClient(f2.URL, "k", sdk.WithBackoff(2*time.Second, 2*time.Second)).Me(ctx2)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("err %v: want context.Canceled after the 503", err)
	}
}

func TestNetworkErrorIsRetried(t *testing.T) {
	// A port nobody listens on: connection refused every time.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var calls atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	_, err = fastClient("http://"+addr, sdk.WithHTTPClient(hc), sdk.WithRetries(2)).Me(context.Background())
	var ae *sdk.APIError
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("err %v, want a network error", err)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRequestShape(t *testing.T) {
	f := newFlaky(t, `{"data":[],"next_cursor":null}`)
	c := sdk.NewClient(f.URL+"/", "hg_secret", sdk.WithUserAgent("partner-app/2"))
	since := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	page, err := c.ListDeliveries(context.Background(), sdk.DeliveryListParams{
		EndpointID: "ep_1", EventType: "order.confirmed", Status: sdk.DeliveryFailed, Since: since, Limit: 10, Cursor: "abc",
	})
	if err != nil {
		t.Fatal(err)
	}
	if page.NextCursor != "" || len(page.Data) != 0 {
		t.Errorf("page %+v", page)
	}
	if _, err := c.GetEndpoint(context.Background(), "ep/../x y"); err != nil {
		t.Fatal(err)
	}
	got := f.requests()
	if got[0].Path != "/v1/deliveries" ||
		got[0].Query != "cursor=abc&endpoint_id=ep_1&event_type=order.confirmed&limit=10&since=2025-01-02T03%3A04%3A05Z&status=failed" {
		t.Errorf("list request %s?%s", got[0].Path, got[0].Query)
	}
	if got[0].Header.Get("User-Agent") != "partner-app/2" || got[0].Header.Get("Authorization") != "Bearer hg_secret" {
		t.Errorf("headers %v", got[0].Header)
	}
	if got[1].Escaped != "/v1/endpoints/ep%2F..%2Fx%20y" {
		// The id is one escaped path segment, never a path traversal.
		t.Errorf("get request path %q", got[1].Escaped)
	}
	// WithToken shares everything but the token; public calls send none.
	if err := c.WithToken("other").Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h := f.requests()[2].Header.Get("Authorization"); h != "" {
		t.Errorf("Health sent Authorization %q", h)
	}
	if _, err := c.WithToken("other").ListEventTypes(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h := f.requests()[3].Header.Get("Authorization"); h != "Bearer other" {
		t.Errorf("WithToken sent Authorization %q", h)
	}
}

func TestAttemptTimeoutIsRetried(t *testing.T) {
	var calls atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		io.WriteString(w, partnerJSON)
	}))
	defer s.Close()
	start := time.Now()
	p, err := fastClient(s.URL, sdk.WithTimeout(100*time.Millisecond)).Me(context.Background())
	if err != nil || p.ID != "ptn_1" {
		t.Fatalf("Me: %+v, %v", p, err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v: the first attempt was not cut at 100ms", d)
	}
}

func TestClientIsSafeForConcurrentUse(t *testing.T) {
	f := newFlaky(t, partnerJSON, 503, 503, 503, 503, 503, 503, 503, 503)
	c := fastClient(f.URL, sdk.WithRetries(10))
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := c.Me(context.Background())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Me: %v", err)
		}
	}
	if n := len(f.requests()); n != 28 {
		t.Errorf("%d requests, want 28 (8 failures retried, 20 successes)", n)
	}
}
