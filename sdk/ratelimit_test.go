package sdk_test

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/apptest"
	"github.com/hookgate/hookgate/sdk"
)

// TestServerRateLimitIsRetried runs a gateway with a tight per-key limit:
// GETs ride it out by honouring Retry-After, a POST reports ErrRateLimited
// at once.
func TestServerRateLimitIsRetried(t *testing.T) {
	g := apptest.Start(t, apptest.Options{Env: map[string]string{"HOOKGATE_API_RATE_PER_KEY": "2:2"}})
	ctx := testContext(t)
	var requests, limited atomic.Int32
	hc := &http.Client{Transport: contractTransport{t: t, base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		requests.Add(1)
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil && resp.StatusCode == http.StatusTooManyRequests {
			limited.Add(1)
		}
		return resp, err
	})}}
	admin := sdk.NewClient(g.URL, apptest.AdminToken, sdk.WithHTTPClient(hc))
	p, err := admin.AdminCreatePartner(ctx, sdk.PartnerInput{Name: "Busy", Email: "busy@example.com", Status: sdk.PartnerActive})
	if err != nil {
		t.Fatal(err)
	}
	k, err := admin.AdminCreatePartnerAPIKey(ctx, p.ID, sdk.APIKeyInput{Name: "busy"})
	if err != nil {
		t.Fatal(err)
	}
	pc := admin.WithToken(k.Key)

	start := time.Now()
	for i := range 6 {
		if _, err := pc.Me(ctx); err != nil {
			t.Fatalf("Me #%d: %v", i, err)
		}
	}
	if limited.Load() == 0 {
		t.Fatalf("6 calls at 2/s were never limited (%d requests)", requests.Load())
	}
	t.Logf("6 calls took %v and %d requests, %d answered 429", time.Since(start).Round(time.Millisecond), requests.Load(), limited.Load())

	// Exhaust the bucket, then a POST is not retried.
	once := sdk.NewClient(g.URL, k.Key, sdk.WithHTTPClient(hc), sdk.WithRetries(0))
	for i := 0; ; i++ {
		_, err := once.ListEventTypes(ctx)
		if errors.Is(err, sdk.ErrRateLimited) {
			break
		}
		if err != nil || i == 10 {
			t.Fatalf("exhausting the limit: %v after %d calls", err, i+1)
		}
	}
	before := requests.Load()
	_, err = sdk.NewClient(g.URL, k.Key, sdk.WithHTTPClient(hc)).CreateEndpoint(ctx, sdk.EndpointInput{URL: "https://busy.example", EventTypes: []string{"*"}})
	var ae *sdk.APIError
	if !errors.Is(err, sdk.ErrRateLimited) || !errors.As(err, &ae) || ae.RetryAfter < time.Second {
		t.Fatalf("CreateEndpoint over the limit: %v, want ErrRateLimited with a Retry-After", err)
	}
	if n := requests.Load() - before; n != 1 {
		t.Errorf("the rate-limited POST was sent %d times, want once", n)
	}
}
