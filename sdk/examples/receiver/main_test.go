package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/apptest"
	"github.com/hookgate/hookgate/sdk"
)

// syncBuffer is a log sink safe for the server's goroutines.
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

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func sign(t *testing.T, secret, id string, ts time.Time, body string) http.Header {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	unix := strconv.FormatInt(ts.Unix(), 10)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + unix + "." + body))
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", unix)
	h.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	return h
}

func TestHandler(t *testing.T) {
	var logs syncBuffer
	h, err := newHandler([]string{testSecret}, nil, sdk.DefaultTolerance, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	body := `{"id":"msg_1","type":"order.confirmed","version":1,"occurred_at":"2025-03-14T09:41:07Z","source":{"kind":"odoo","name":"odoo-prod"},"data":{"id":7}}`
	for _, tc := range []struct {
		name   string
		body   string
		header http.Header
		want   int
	}{
		{"verified", body, sign(t, testSecret, "msg_1", time.Now(), body), http.StatusNoContent},
		{"repeat", body, sign(t, testSecret, "msg_1", time.Now(), body), http.StatusNoContent},
		{"tampered", strings.Replace(body, "7", "8", 1), sign(t, testSecret, "msg_1", time.Now(), body), http.StatusUnauthorized},
		{"stale", body, sign(t, testSecret, "msg_1", time.Now().Add(-time.Hour), body), http.StatusUnauthorized},
		{"unsigned", body, http.Header{}, http.StatusUnauthorized},
		{"not an event", `{"x":1}`, sign(t, testSecret, "msg_2", time.Now(), `{"x":1}`), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/webhooks", strings.NewReader(tc.body))
			req.Header = tc.header
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tc.want {
				t.Errorf("status %d, want %d: %s", w.Code, tc.want, w.Body)
			}
		})
	}
	out := logs.String()
	for _, want := range []string{"msg=event id=msg_1 type=order.confirmed", "repeat=true", "msg=\"rejected webhook\" status=401"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestRunNeedsASecret(t *testing.T) {
	err := run([]string{"-addr", "127.0.0.1:0"}, func(string) string { return "" }, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "HOOKGATE_WEBHOOK_SECRET") {
		t.Errorf("err %v, want a hint to set the secret", err)
	}
	err = run([]string{"-secret", "whsec_short"}, func(string) string { return "" }, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Error("accepted a malformed secret")
	}
}

// TestReceivesFromGateway points a real gateway at the example receiver.
func TestReceivesFromGateway(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	g := apptest.Start(t, apptest.Options{})
	admin := sdk.NewClient(g.URL, apptest.AdminToken)
	p, err := admin.AdminCreatePartner(ctx, sdk.PartnerInput{Name: "Receiver", Email: "r@example.com", Status: sdk.PartnerActive})
	if err != nil {
		t.Fatal(err)
	}
	k, err := admin.AdminCreatePartnerAPIKey(ctx, p.ID, sdk.APIKeyInput{Name: "example"})
	if err != nil {
		t.Fatal(err)
	}
	partner := admin.WithToken(k.Key)

	var logs syncBuffer
	var handler http.Handler
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := handler
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	mu.Lock()
	handler = http.NotFoundHandler()
	mu.Unlock()
	ep, err := partner.CreateEndpoint(ctx, sdk.EndpointInput{URL: srv.URL + "/webhooks", EventTypes: []string{"invoice.*"}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := newHandler([]string{ep.Secret}, nil, sdk.DefaultTolerance, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	handler = h
	mu.Unlock()
	res, err := admin.CreateEvent(ctx, sdk.EventInput{Type: "invoice.paid", Data: map[string]any{"id": 99, "name": "INV/2025/00099", "payment_state": "paid", "amount_total": 12.5}})
	if err != nil {
		t.Fatal(err)
	}
	apptest.Eventually(t, 20*time.Second, "the logged event", func() bool {
		return strings.Contains(logs.String(), "id="+res.ID+" type=invoice.paid")
	})
	for d, err := range partner.Deliveries(ctx, sdk.DeliveryListParams{EventID: res.ID}) {
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != sdk.DeliverySucceeded {
			apptest.Eventually(t, 5*time.Second, "succeeded", func() bool {
				got, err := partner.GetDelivery(ctx, d.ID)
				return err == nil && got.Status == sdk.DeliverySucceeded
			})
		}
	}
}
