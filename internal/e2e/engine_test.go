package e2e

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookgate/hookgate/internal/apptest"
)

// TestSecretRotationBothSecretsVerify: during the grace period every
// delivery carries two v1 signatures, so a receiver holding only the old
// secret and one holding only the new one both verify with the Standard
// Webhooks library; v1a (Ed25519) verifies with the published public key.
func TestSecretRotationBothSecretsVerify(t *testing.T) {
	g := apptest.Start(t, apptest.Options{})
	rc := newReceiver(t, nil)
	p := g.NewPartner("Rotator")
	ep := g.NewEndpoint(p, rc.URL, []string{"order.*"}, nil)
	ingest := g.NewOdooSource("odoo")

	got := g.Must(200, "GET", "/v1/endpoints/"+ep.ID+"/secret", p.Key, nil).Map(t)
	if got["secret"] != ep.Secret {
		t.Fatalf("revealed secret differs from the one given at creation")
	}
	rot := g.Must(200, "POST", "/v1/endpoints/"+ep.ID+"/secret/rotate", p.Key, map[string]any{"grace_period_seconds": 3600}).Map(t)
	newSecret := rot["secret"].(string)
	if newSecret == ep.Secret || !strings.HasPrefix(newSecret, "whsec_") || rot["previous_secret_expires_at"] == nil {
		t.Fatalf("rotation answer: %v", rot)
	}
	g.Must(422, "POST", "/v1/endpoints/"+ep.ID+"/secret/rotate", p.Key, map[string]any{"grace_period_seconds": 8 * 24 * 3600})
	// Turn on Ed25519 (v1a) too.
	upd := g.Must(200, "PATCH", "/v1/endpoints/"+ep.ID, p.Key, map[string]any{"ed25519_signing": true}).Map(t)
	if upd["ed25519_signing"] != true {
		t.Fatalf("ed25519 not on: %v", upd)
	}
	pub := g.Must(200, "GET", "/v1/endpoints/"+ep.ID+"/secret", p.Key, nil).Map(t)["public_key"].(string)
	if !strings.HasPrefix(pub, "whpk_") {
		t.Fatalf("public key %q", pub)
	}

	g.Must(202, "POST", ingest, "", fixture(t, "01-sale-order-confirmed.json"))
	apptest.Eventually(t, 10*time.Second, "delivery", func() bool { return rc.count() == 1 })
	req := rc.requests()[0]
	for name, secret := range map[string]string{"old": ep.Secret, "new": newSecret} {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(req.Body, req.Header); err != nil {
			t.Errorf("receiver with only the %s secret cannot verify: %v", name, err)
		}
	}
	sigs := strings.Fields(req.Header.Get("webhook-signature"))
	var v1, v1a int
	pk, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(pub, "whpk_"))
	signed := req.Header.Get("webhook-id") + "." + req.Header.Get("webhook-timestamp") + "." + string(req.Body)
	for _, s := range sigs {
		switch {
		case strings.HasPrefix(s, "v1,"):
			v1++
		case strings.HasPrefix(s, "v1a,"):
			v1a++
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "v1a,"))
			if !ed25519.Verify(ed25519.PublicKey(pk), []byte(signed), raw) {
				t.Error("v1a signature does not verify with the published public key")
			}
		}
	}
	if v1 != 2 || v1a != 1 {
		t.Errorf("signature header %q: %d v1 and %d v1a entries, want 2 and 1", req.Header.Get("webhook-signature"), v1, v1a)
	}
	// After the grace period only the new secret signs.
	g.Must(200, "POST", "/v1/endpoints/"+ep.ID+"/secret/rotate", p.Key, map[string]any{"grace_period_seconds": 0})
	g.Must(202, "POST", ingest, "", fixture(t, "02-sale-order-cancelled.json"))
	apptest.Eventually(t, 10*time.Second, "second delivery", func() bool { return rc.count() == 2 })
	if n := strings.Count(rc.requests()[1].Header.Get("webhook-signature"), "v1,"); n != 1 {
		t.Errorf("after a rotation without grace %d v1 signatures, want 1", n)
	}
}

// TestPausedEndpointHoldsAndReleases: a paused endpoint's deliveries are
// held, never attempted and never dropped; setting it active releases them.
func TestPausedEndpointHoldsAndReleases(t *testing.T) {
	g := apptest.Start(t, apptest.Options{})
	rc := newReceiver(t, nil)
	p := g.NewPartner("Pauser")
	ep := g.NewEndpoint(p, rc.URL, []string{"*"}, nil)
	g.Must(200, "PATCH", "/v1/endpoints/"+ep.ID, p.Key, map[string]any{"status": "paused"})
	ingest := g.NewOdooSource("odoo")
	for _, f := range []string{"01-sale-order-confirmed.json", "03-delivery-done.json", "07-invoice-posted.json"} {
		g.Must(202, "POST", ingest, "", fixture(t, f))
	}
	apptest.Eventually(t, 10*time.Second, "3 held deliveries", func() bool {
		return len(g.Must(200, "GET", "/v1/deliveries?status=held", p.Key, nil).Map(t)["data"].([]any)) == 3
	})
	time.Sleep(300 * time.Millisecond)
	if rc.count() != 0 {
		t.Fatalf("a paused endpoint received %d requests", rc.count())
	}
	held := g.Must(200, "GET", "/v1/deliveries?status=held", p.Key, nil).Map(t)["data"].([]any)
	if held[0].(map[string]any)["held_reason"] != "endpoint_paused" || held[0].(map[string]any)["attempts"] != float64(0) {
		t.Errorf("held delivery: %v", held[0])
	}
	g.Must(200, "POST", "/v1/endpoints/"+ep.ID+"/enable", p.Key, nil)
	apptest.Eventually(t, 10*time.Second, "released deliveries", func() bool { return rc.count() == 3 })
}

// TestThrottlingConsumesNoAttempt: with rate_limit_per_second 2, ten
// events arrive over about five seconds, each in exactly one attempt.
func TestThrottlingConsumesNoAttempt(t *testing.T) {
	g := apptest.Start(t, apptest.Options{})
	rc := newReceiver(t, nil)
	p := g.NewPartner("Throttled")
	g.NewEndpoint(p, rc.URL, []string{"payment.received"}, map[string]any{"rate_limit_per_second": 2})
	for i := 0; i < 10; i++ {
		g.Must(202, "POST", "/v1/events", apptest.AdminToken, map[string]any{"type": "payment.received", "data": map[string]any{"id": i, "amount": 10.5}})
	}
	apptest.Eventually(t, 20*time.Second, "10 deliveries", func() bool { return rc.count() == 10 })
	reqs := rc.requests()
	span := reqs[len(reqs)-1].At.Sub(reqs[0].At)
	if span < 3500*time.Millisecond {
		t.Errorf("10 deliveries at 2/s arrived within %s; the limit was not enforced", span)
	}
	// GCRA at 2/s allows a burst of 2, then one request every 500 ms.
	for i := 2; i < len(reqs); i++ {
		want := time.Duration(float64(i-1) * 0.9 * float64(500*time.Millisecond))
		if d := reqs[i].At.Sub(reqs[0].At); d < want {
			t.Errorf("request %d came %s after the first, want at least %s at 2/s", i, d, want)
		}
	}
	// The log is written just after each response: wait for all ten.
	var ds []any
	apptest.Eventually(t, 10*time.Second, "10 succeeded deliveries", func() bool {
		ds = g.Must(200, "GET", "/v1/deliveries?status=succeeded&limit=50", p.Key, nil).Map(t)["data"].([]any)
		return len(ds) == 10
	})
	for _, d := range ds {
		if a := d.(map[string]any)["attempts"]; a != float64(1) {
			t.Errorf("delivery %v used %v attempts; throttling must not consume attempts", d.(map[string]any)["id"], a)
		}
	}
}

// TestCircuitBreakerPausesProbesAndRecovers: an endpoint that keeps failing
// is paused (new deliveries held, not attempted), the partner's operational
// endpoint is told, a probe after the back-off finds it healthy again, the
// circuit closes and the held deliveries are delivered.
func TestCircuitBreakerPausesProbesAndRecovers(t *testing.T) {
	g := apptest.Start(t, apptest.Options{Env: map[string]string{
		"HOOKGATE_BREAKER_THRESHOLD":   "3",
		"HOOKGATE_BREAKER_PROBE_AFTER": "1s",
		"HOOKGATE_RETRY_SCHEDULE":      "30s",
	}})
	var healthy atomic.Bool
	rc := newReceiver(t, func(int, *http.Request) (int, string) {
		if healthy.Load() {
			return 200, "ok"
		}
		return 500, "boom"
	})
	ops := newReceiver(t, nil)
	p := g.NewPartner("Breaker Co")
	ep := g.NewEndpoint(p, rc.URL, []string{"payment.received"}, nil)
	g.NewEndpoint(p, ops.URL, []string{"endpoint.*", "delivery.exhausted"}, nil)
	post := func(i int) {
		g.Must(202, "POST", "/v1/events", apptest.AdminToken, map[string]any{"type": "payment.received", "data": map[string]any{"id": i, "amount": 10.5}})
	}
	for i := 0; i < 3; i++ {
		post(i)
	}
	apptest.Eventually(t, 10*time.Second, "circuit to open", func() bool {
		e := g.Must(200, "GET", "/v1/endpoints/"+ep.ID, p.Key, nil).Map(t)
		return e["status"] == "paused" && e["status_reason"] == "circuit_open" && e["failing_since"] != nil
	})
	apptest.Eventually(t, 10*time.Second, "endpoint.failing notice", func() bool { return ops.count() >= 1 })
	var note struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	_ = json.Unmarshal(ops.requests()[0].Body, &note)
	if note.Type != "endpoint.failing" || note.Data["endpoint_id"] != ep.ID {
		t.Errorf("operational notice: %s", ops.requests()[0].Body)
	}
	before := rc.count()
	post(3)
	post(4)
	apptest.Eventually(t, 10*time.Second, "new deliveries held", func() bool {
		d := g.Must(200, "GET", "/v1/deliveries?status=held", p.Key, nil).Map(t)["data"].([]any)
		return len(d) >= 2
	})
	if rc.count() != before {
		t.Errorf("a circuit-open endpoint was attempted")
	}
	healthy.Store(true)
	apptest.Eventually(t, 15*time.Second, "recovery", func() bool {
		e := g.Must(200, "GET", "/v1/endpoints/"+ep.ID, p.Key, nil).Map(t)
		return e["status"] == "active" && e["failing_since"] == nil
	})
	apptest.Eventually(t, 15*time.Second, "held deliveries delivered", func() bool {
		d := g.Must(200, "GET", "/v1/deliveries?status=succeeded&endpoint_id="+ep.ID, p.Key, nil).Map(t)["data"].([]any)
		return len(d) == 2
	})
	apptest.Eventually(t, 10*time.Second, "endpoint.recovered notice", func() bool {
		for _, r := range ops.requests() {
			if strings.Contains(string(r.Body), `"type":"endpoint.recovered"`) {
				return true
			}
		}
		return false
	})
}

// TestFairnessSlowEndpointDoesNotStarveOthers: one partner's endpoint
// sleeps 30 s per request and gets 1,000 events; another partner's endpoint
// still receives its 100 events within 2 s of ingest at p99.
func TestFairnessSlowEndpointDoesNotStarveOthers(t *testing.T) {
	g := apptest.Start(t, apptest.Options{Env: map[string]string{"HOOKGATE_DELIVERY_TIMEOUT": "35s"}})
	g.NoContractCheck = true
	release := make(chan struct{})
	slow := newReceiver(t, func(int, *http.Request) (int, string) {
		select {
		case <-time.After(30 * time.Second):
		case <-release:
		}
		return 200, "late"
	})
	defer close(release)
	fast := newReceiver(t, nil)
	ps := g.NewPartner("Slow Partner")
	pf := g.NewPartner("Fast Partner")
	g.NewEndpoint(ps, slow.URL, []string{"inventory.adjusted"}, map[string]any{"timeout_seconds": 35})
	g.NewEndpoint(pf, fast.URL, []string{"payment.received"}, nil)
	for i := 0; i < 1000; i++ {
		g.Must(202, "POST", "/v1/events", apptest.AdminToken, map[string]any{"type": "inventory.adjusted", "data": map[string]any{"id": i, "product_id": 41, "quantity": 17}})
	}
	sent := map[string]time.Time{}
	for i := 0; i < 100; i++ {
		t0 := time.Now()
		r := g.Must(202, "POST", "/v1/events", apptest.AdminToken, map[string]any{"type": "payment.received", "data": map[string]any{"id": i, "amount": 10.5}}).Map(t)
		sent[r["id"].(string)] = t0
	}
	apptest.Eventually(t, 20*time.Second, "the fast partner's 100 events", func() bool { return fast.count() >= 100 })
	var lat []time.Duration
	for _, r := range fast.requests() {
		lat = append(lat, r.At.Sub(sent[r.Header.Get("webhook-id")]))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p99 := lat[len(lat)*99/100-1]
	t.Logf("fast partner: p50 %s, p99 %s, max %s; slow endpoint has %d requests in flight", lat[len(lat)/2], p99, lat[len(lat)-1], slow.count())
	if p99 > 2*time.Second {
		t.Errorf("fast partner p99 %s, want ≤ 2s while a slow partner hogs its share", p99)
	}
	if n := slow.count(); n > 10 {
		t.Errorf("slow endpoint has %d requests in flight, want at most its cap of 10", n)
	}
	_ = fmt.Sprint()
}
