package sdk

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookgate/hookgate/delivery/signer"
)

// The official Standard Webhooks test vector.
const (
	vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTS     = 1614265330
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

var vectorTime = time.Unix(vectorTS, 0)

func withFixedNow(t time.Time) VerifierOption { return WithNow(func() time.Time { return t }) }

// newTestWebhookSecret returns a random "whsec_" secret.
func newTestWebhookSecret(t testing.TB) string {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

// newTestKeyPair returns an ed25519 private key and its "whpk_" public key.
func newTestKeyPair(t testing.TB) (ed25519.PrivateKey, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	return priv, "whpk_" + base64.StdEncoding.EncodeToString(pub)
}

func signedContent(id string, ts int64, body []byte) []byte {
	return append([]byte(id+"."+strconv.FormatInt(ts, 10)+"."), body...)
}

// signV1 is an independent HMAC signer (crypto/hmac) for the tests.
func signV1(t testing.TB, secret, id string, ts int64, body []byte) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatalf("decode secret %q: %v", secret, err)
	}
	m := hmac.New(sha256.New, key)
	m.Write(signedContent(id, ts, body))
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func signV1a(priv ed25519.PrivateKey, id string, ts int64, body []byte) string {
	return "v1a," + base64.StdEncoding.EncodeToString(ed25519.Sign(priv, signedContent(id, ts, body)))
}

func webhookHeaders(id string, ts int64, sig string) http.Header {
	h := http.Header{}
	h.Set(HeaderWebhookID, id)
	h.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderWebhookSignature, sig)
	return h
}

func mustVerifier(t testing.TB, secrets []string, opts ...VerifierOption) *Verifier {
	t.Helper()
	v, err := NewVerifier(secrets, opts...)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func TestVerifyOfficialVector(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		header http.Header
	}{
		{name: "webhook headers", secret: vectorSecret, header: http.Header{
			"Webhook-Id": {vectorID}, "Webhook-Timestamp": {strconv.Itoa(vectorTS)}, "Webhook-Signature": {vectorSig},
		}},
		{name: "svix headers", secret: vectorSecret, header: http.Header{
			"Svix-Id": {vectorID}, "Svix-Timestamp": {strconv.Itoa(vectorTS)}, "Svix-Signature": {vectorSig},
		}},
		{name: "bare secret", secret: strings.TrimPrefix(vectorSecret, "whsec_"), header: webhookHeaders(vectorID, vectorTS, vectorSig)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustVerifier(t, []string{tt.secret}, withFixedNow(vectorTime))
			if err := v.Verify([]byte(vectorBody), tt.header); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
	// The independent test signer agrees with the vector too.
	if diff := cmp.Diff(vectorSig, signV1(t, vectorSecret, vectorID, vectorTS, []byte(vectorBody))); diff != "" {
		t.Errorf("signV1 (-want +got):\n%s", diff)
	}
}

func TestVerify(t *testing.T) {
	secret, other := newTestWebhookSecret(t), newTestWebhookSecret(t)
	priv, pub := newTestKeyPair(t)
	_, otherPub := newTestKeyPair(t)

	const id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
	now := time.Unix(1674087231, 0)
	ts := now.Unix()
	body := []byte(`{"id":"evt_1","type":"invoice.paid"}`)
	good := signV1(t, secret, id, ts, body)
	goodA := signV1a(priv, id, ts, body)
	at := func(ts int64) http.Header { return webhookHeaders(id, ts, signV1(t, secret, id, ts, body)) }
	with := func(mod func(http.Header)) http.Header {
		h := webhookHeaders(id, ts, good)
		mod(h)
		return h
	}
	sig := func(s string) http.Header { return webhookHeaders(id, ts, s) }
	tolerance := int64(DefaultTolerance / time.Second)
	many := make([]string, maxWebhookSignatures)
	for i := range many {
		many[i] = signV1(t, other, id, ts, body)
	}

	tests := []struct {
		name    string
		secrets []string
		opts    []VerifierOption
		body    []byte
		header  http.Header
		wantErr error
	}{
		{name: "valid", header: sig(good)},
		{name: "svix headers", header: http.Header{"Svix-Id": {id}, "Svix-Timestamp": {strconv.FormatInt(ts, 10)}, "Svix-Signature": {good}}},
		{name: "tampered body", body: []byte(`{"id":"evt_1","type":"invoice.pair"}`), header: sig(good), wantErr: ErrInvalidSignature},
		{name: "truncated body", body: body[:len(body)-1], header: sig(good), wantErr: ErrInvalidSignature},
		{name: "wrong secret", secrets: []string{other}, header: sig(good), wantErr: ErrInvalidSignature},
		{name: "other id", header: with(func(h http.Header) { h.Set(HeaderWebhookID, "msg_other") }), wantErr: ErrInvalidSignature},
		{name: "timestamp not the signed one", header: with(func(h http.Header) { h.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts+1, 10)) }), wantErr: ErrInvalidSignature},
		{name: "stale beyond tolerance", header: at(ts - tolerance - 1), wantErr: ErrTimestampTooOld},
		{name: "stale at tolerance", header: at(ts - tolerance)},
		{name: "future beyond tolerance", header: at(ts + tolerance + 1), wantErr: ErrTimestampTooNew},
		{name: "future at tolerance", header: at(ts + tolerance)},
		{name: "custom tolerance stale", opts: []VerifierOption{WithTolerance(time.Minute)}, header: at(ts - 61), wantErr: ErrTimestampTooOld},
		{name: "custom tolerance future", opts: []VerifierOption{WithTolerance(time.Minute)}, header: at(ts + 61), wantErr: ErrTimestampTooNew},
		{name: "zero tolerance", opts: []VerifierOption{WithTolerance(0)}, header: sig(good)},
		{name: "epoch timestamp", header: at(0), wantErr: ErrTimestampTooOld},
		{name: "no headers", header: http.Header{}, wantErr: ErrMissingHeaders},
		{name: "nil headers", header: nil, wantErr: ErrMissingHeaders},
		{name: "missing id", header: with(func(h http.Header) { h.Del(HeaderWebhookID) }), wantErr: ErrMissingHeaders},
		{name: "missing timestamp", header: with(func(h http.Header) { h.Del(HeaderWebhookTimestamp) }), wantErr: ErrMissingHeaders},
		{name: "missing signature", header: with(func(h http.Header) { h.Del(HeaderWebhookSignature) }), wantErr: ErrMissingHeaders},
		{name: "mixed webhook and svix", header: with(func(h http.Header) { h.Del(HeaderWebhookID); h.Set("svix-id", id) }), wantErr: ErrMissingHeaders},
		{name: "timestamp not a number", header: with(func(h http.Header) { h.Set(HeaderWebhookTimestamp, "yesterday") }), wantErr: ErrMissingHeaders},
		{name: "timestamp with sign", header: with(func(h http.Header) { h.Set(HeaderWebhookTimestamp, "+"+strconv.FormatInt(ts, 10)) }), wantErr: ErrMissingHeaders},
		{name: "timestamp negative", header: with(func(h http.Header) { h.Set(HeaderWebhookTimestamp, "-1") }), wantErr: ErrMissingHeaders},
		{name: "timestamp in milliseconds overflow", header: with(func(h http.Header) { h.Set(HeaderWebhookTimestamp, "99999999999999999999") }), wantErr: ErrMissingHeaders},
		{name: "malformed signature garbage", header: sig("garbage"), wantErr: ErrInvalidSignature},
		{name: "malformed signature no value", header: sig("v1,"), wantErr: ErrInvalidSignature},
		{name: "malformed signature not base64", header: sig("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O!="), wantErr: ErrInvalidSignature},
		{name: "malformed signature short", header: sig(good[:len(good)-4]), wantErr: ErrInvalidSignature},
		{name: "unknown version only", header: sig("v2" + strings.TrimPrefix(good, "v1")), wantErr: ErrInvalidSignature},
		{name: "version without comma", header: sig(strings.Replace(good, ",", "", 1)), wantErr: ErrInvalidSignature},
		{name: "only second of two matches", header: sig(signV1(t, other, id, ts, body) + " " + good)},
		{name: "unknown version then match", header: sig("v9,whatever " + good)},
		{name: "extra spaces", header: sig("  " + signV1(t, other, id, ts, body) + "   " + good + " ")},
		{name: "match beyond entry limit", header: sig(strings.Join(many, " ") + " " + good), wantErr: ErrInvalidSignature},
		{name: "match at entry limit", header: sig(strings.Join(many[1:], " ") + " " + good)},
		{name: "v1a", secrets: []string{}, opts: []VerifierOption{WithPublicKeys(pub)}, header: sig(goodA)},
		{name: "v1a second public key", secrets: []string{}, opts: []VerifierOption{WithPublicKeys(otherPub, pub)}, header: sig(goodA)},
		{name: "v1a wrong public key", secrets: []string{}, opts: []VerifierOption{WithPublicKeys(otherPub)}, header: sig(goodA), wantErr: ErrInvalidSignature},
		{name: "v1a tampered body", secrets: []string{}, opts: []VerifierOption{WithPublicKeys(pub)}, body: []byte("{}"), header: sig(goodA), wantErr: ErrInvalidSignature},
		{name: "v1a without public keys", header: sig(goodA), wantErr: ErrInvalidSignature},
		{name: "v1 signature labelled v1a", secrets: []string{}, opts: []VerifierOption{WithPublicKeys(pub)}, header: sig("v1a," + strings.TrimPrefix(good, "v1,")), wantErr: ErrInvalidSignature},
		{name: "v1 without secrets", secrets: []string{}, opts: []VerifierOption{WithPublicKeys(pub)}, header: sig(good), wantErr: ErrInvalidSignature},
		{name: "bad v1 then good v1a", opts: []VerifierOption{WithPublicKeys(pub)}, header: sig(signV1(t, other, id, ts, body) + " " + goodA)},
		{name: "bad v1a then good v1", opts: []VerifierOption{WithPublicKeys(pub)}, header: sig(signV1a(priv, id, ts, []byte("x")) + " " + good)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secrets := tt.secrets
			if secrets == nil {
				secrets = []string{secret}
			}
			b := tt.body
			if b == nil {
				b = body
			}
			v := mustVerifier(t, secrets, append([]VerifierOption{withFixedNow(now)}, tt.opts...)...)
			err := v.Verify(b, tt.header)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify() error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestRotation: hookgate signs with the new and the previous secret; a
// receiver holding either one (or both) accepts the same header.
func TestRotation(t *testing.T) {
	newSecret, oldSecret, unrelated := newTestWebhookSecret(t), newTestWebhookSecret(t), newTestWebhookSecret(t)
	newKey, err := signer.ParseSecret(newSecret)
	if err != nil {
		t.Fatal(err)
	}
	oldKey, err := signer.ParseSecret(oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1700000000, 0)
	body := []byte(`{"id":"evt_rot","type":"partner.updated"}`)
	h := webhookHeaders("msg_rot", now.Unix(), signer.Signer{Secrets: []signer.Secret{newKey, oldKey}}.Sign("msg_rot", now.Unix(), body))

	tests := []struct {
		name    string
		secrets []string
		wantErr error
	}{
		{name: "old only", secrets: []string{oldSecret}},
		{name: "new only", secrets: []string{newSecret}},
		{name: "both", secrets: []string{newSecret, oldSecret}},
		{name: "unrelated and new", secrets: []string{unrelated, newSecret}},
		{name: "unrelated", secrets: []string{unrelated}, wantErr: ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustVerifier(t, tt.secrets, withFixedNow(now))
			if err := v.Verify(body, h); !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify() error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestSignerCrossCheck: what delivery/signer produces, symmetric and
// asymmetric, verifies here; and the reference library's output too.
func TestSignerCrossCheck(t *testing.T) {
	secret, err := signer.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	key, err := signer.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	sk, pk, err := signer.NewEd25519()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := signer.ParseEd25519Private(sk)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ts := now.Unix()

	tests := []struct {
		name   string
		signer signer.Signer
		v      *Verifier
	}{
		{name: "v1", signer: signer.Signer{Secrets: []signer.Secret{key}}, v: mustVerifier(t, []string{secret}, withFixedNow(now))},
		{name: "v1a round trip", signer: signer.Signer{Ed25519: []ed25519.PrivateKey{priv}}, v: mustVerifier(t, nil, withFixedNow(now), WithPublicKeys(pk))},
		{name: "v1 and v1a, v1a receiver", signer: signer.Signer{Secrets: []signer.Secret{key}, Ed25519: []ed25519.PrivateKey{priv}}, v: mustVerifier(t, nil, withFixedNow(now), WithPublicKeys(pk))},
		{name: "v1 and v1a, v1 receiver", signer: signer.Signer{Secrets: []signer.Secret{key}, Ed25519: []ed25519.PrivateKey{priv}}, v: mustVerifier(t, []string{secret}, withFixedNow(now))},
	}
	bodies := [][]byte{nil, []byte(vectorBody), []byte(strings.Repeat("é.", 5000)), {0, 1, 2, 0xff}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, body := range bodies {
				h := webhookHeaders("msg_x", ts, tt.signer.Sign("msg_x", ts, body))
				if err := tt.v.Verify(body, h); err != nil {
					t.Errorf("Verify(%.20q): %v", body, err)
				}
				if err := tt.v.Verify(append(body, '!'), h); !errors.Is(err, ErrInvalidSignature) {
					t.Errorf("Verify(tampered %.20q) error = %v, want %v", body, err, ErrInvalidSignature)
				}
			}
		})
	}

	t.Run("standardwebhooks library", func(t *testing.T) {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		v := mustVerifier(t, []string{secret}, withFixedNow(now))
		for _, body := range bodies {
			s, err := wh.Sign("msg_lib", now, body)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Verify(body, webhookHeaders("msg_lib", ts, s)); err != nil {
				t.Errorf("Verify(%.20q): %v", body, err)
			}
		}
	})
}

func TestNewVerifier(t *testing.T) {
	_, pub := newTestKeyPair(t)
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	tests := []struct {
		name    string
		secrets []string
		opts    []VerifierOption
		wantErr error
		anyErr  bool
	}{
		{name: "one secret", secrets: []string{vectorSecret}},
		{name: "rotation pair", secrets: []string{vectorSecret, newTestWebhookSecret(t)}},
		{name: "bare secret", secrets: []string{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
		{name: "public key only", opts: []VerifierOption{WithPublicKeys(pub)}},
		{name: "nil clock ignored", secrets: []string{vectorSecret}, opts: []VerifierOption{WithNow(nil)}},
		{name: "nothing", wantErr: ErrInvalidSecret},
		{name: "empty list", secrets: []string{}, wantErr: ErrInvalidSecret},
		{name: "empty secret", secrets: []string{""}, wantErr: ErrInvalidSecret},
		{name: "not base64", secrets: []string{"whsec_***"}, wantErr: ErrInvalidSecret},
		{name: "short secret", secrets: []string{"whsec_" + b64(23)}, wantErr: ErrInvalidSecret},
		{name: "long secret", secrets: []string{"whsec_" + b64(65)}, wantErr: ErrInvalidSecret},
		{name: "one bad of two", secrets: []string{vectorSecret, "whsec_!"}, wantErr: ErrInvalidSecret},
		{name: "public key without prefix", opts: []VerifierOption{WithPublicKeys(strings.TrimPrefix(pub, "whpk_"))}, wantErr: ErrInvalidSecret},
		{name: "public key wrong size", opts: []VerifierOption{WithPublicKeys("whpk_" + b64(31))}, wantErr: ErrInvalidSecret},
		{name: "secret as public key", opts: []VerifierOption{WithPublicKeys(vectorSecret)}, wantErr: ErrInvalidSecret},
		{name: "negative tolerance", secrets: []string{vectorSecret}, opts: []VerifierOption{WithTolerance(-time.Second)}, anyErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.secrets, tt.opts...)
			switch {
			case tt.anyErr:
				if err == nil {
					t.Fatalf("NewVerifier() = %v, want an error", v)
				}
			case !errors.Is(err, tt.wantErr):
				t.Fatalf("NewVerifier() error = %v, want %v", err, tt.wantErr)
			case err == nil && v == nil:
				t.Fatal("NewVerifier() = nil, nil")
			}
		})
	}
}

func TestVerifyEvent(t *testing.T) {
	secret := newTestWebhookSecret(t)
	now := time.Unix(1700000000, 0)
	v := mustVerifier(t, []string{secret}, withFixedNow(now))
	signed := func(body string) http.Header {
		return webhookHeaders("msg_1", now.Unix(), signV1(t, secret, "msg_1", now.Unix(), []byte(body)))
	}
	const envelope = `{"id":"evt_1","type":"invoice.paid","version":2,"occurred_at":"2024-05-01T10:00:00.5Z",` +
		`"source":{"kind":"odoo","name":"prod","model":"account.move","record_id":42},"data":{"amount":10},"extra":true}`

	tests := []struct {
		name    string
		body    string
		header  http.Header
		want    Event
		wantErr error
	}{
		{
			name: "envelope", body: envelope, header: signed(envelope),
			want: Event{
				ID: "evt_1", Type: "invoice.paid", Version: 2,
				OccurredAt: time.Date(2024, 5, 1, 10, 0, 0, 500_000_000, time.UTC),
				Source:     EventSource{Kind: "odoo", Name: "prod", Model: "account.move", RecordID: 42},
				Data:       []byte(`{"amount":10}`),
			},
		},
		{
			name: "minimal", body: `{"id":"e","type":"t","source":{"kind":"k","name":"n"}}`,
			header: signed(`{"id":"e","type":"t","source":{"kind":"k","name":"n"}}`),
			want:   Event{ID: "e", Type: "t", Source: EventSource{Kind: "k", Name: "n"}},
		},
		{name: "bad signature", body: envelope, header: signed(envelope + " "), wantErr: ErrInvalidSignature},
		{name: "not json", body: "hello", header: signed("hello"), wantErr: ErrInvalidEvent},
		{name: "json array", body: "[1]", header: signed("[1]"), wantErr: ErrInvalidEvent},
		{name: "missing type", body: `{"id":"e"}`, header: signed(`{"id":"e"}`), wantErr: ErrInvalidEvent},
		{name: "wrong field type", body: `{"id":"e","type":"t","version":"2"}`, header: signed(`{"id":"e","type":"t","version":"2"}`), wantErr: ErrInvalidEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.VerifyEvent([]byte(tt.body), tt.header)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("VerifyEvent() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("VerifyEvent() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMiddleware(t *testing.T) {
	secret := newTestWebhookSecret(t)
	now := time.Unix(1700000000, 0)
	v := mustVerifier(t, []string{secret}, withFixedNow(now))
	const envelope = `{"id":"evt_9","type":"partner.created","version":1,"occurred_at":"2024-05-01T10:00:00Z","source":{"kind":"odoo","name":"prod"},"data":{}}`
	request := func(body []byte, ts int64, signedBody []byte) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
		for k, vs := range webhookHeaders("msg_9", ts, signV1(t, secret, "msg_9", ts, signedBody)) {
			r.Header[k] = vs
		}
		return r
	}
	big := bytes.Repeat([]byte("x"), MaxWebhookBodySize+1)
	atLimit := append([]byte(envelope), bytes.Repeat([]byte(" "), MaxWebhookBodySize-len(envelope))...)

	type result struct {
		Status  int
		Body    string
		Called  bool
		EventID string
		RawBody string
	}
	tests := []struct {
		name string
		req  *http.Request
		want result
	}{
		{
			name: "valid",
			req:  request([]byte(envelope), now.Unix(), []byte(envelope)),
			want: result{Status: http.StatusNoContent, Called: true, EventID: "evt_9", RawBody: envelope},
		},
		{
			name: "body at limit",
			req:  request(atLimit, now.Unix(), atLimit),
			want: result{Status: http.StatusNoContent, Called: true, EventID: "evt_9", RawBody: string(atLimit)},
		},
		{
			name: "bad signature",
			req:  request([]byte(envelope), now.Unix(), []byte("other")),
			want: result{Status: http.StatusUnauthorized, Body: "invalid webhook signature\n"},
		},
		{
			name: "missing headers",
			req:  httptest.NewRequest(http.MethodPost, "/webhooks", strings.NewReader(envelope)),
			want: result{Status: http.StatusUnauthorized, Body: "missing or malformed webhook headers\n"},
		},
		{
			name: "stale",
			req:  request([]byte(envelope), now.Add(-time.Hour).Unix(), []byte(envelope)),
			want: result{Status: http.StatusUnauthorized, Body: "webhook timestamp too old\n"},
		},
		{
			name: "future",
			req:  request([]byte(envelope), now.Add(time.Hour).Unix(), []byte(envelope)),
			want: result{Status: http.StatusUnauthorized, Body: "webhook timestamp too new\n"},
		},
		{
			name: "too large",
			req:  request(big, now.Unix(), big),
			want: result{Status: http.StatusRequestEntityTooLarge, Body: "webhook body too large\n"},
		},
		{
			name: "authentic but not an event",
			req:  request([]byte("ping"), now.Unix(), []byte("ping")),
			want: result{Status: http.StatusBadRequest, Body: "invalid webhook event\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got result
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got.Called = true
				ev, ok := EventFromContext(r.Context())
				if !ok {
					t.Error("EventFromContext: no event")
				}
				got.EventID = ev.ID
				raw, err := io.ReadAll(r.Body)
				if err != nil {
					t.Errorf("read body in next: %v", err)
				}
				got.RawBody = string(raw)
				w.WriteHeader(http.StatusNoContent)
			})
			rec := httptest.NewRecorder()
			v.Middleware(next).ServeHTTP(rec, tt.req)
			got.Status = rec.Code
			got.Body = rec.Body.String()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Middleware (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEventFromContextEmpty(t *testing.T) {
	if ev, ok := EventFromContext(t.Context()); ok {
		t.Errorf("EventFromContext(empty) = %+v, true; want false", ev)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	secret := newTestWebhookSecret(t)
	priv, pub := newTestKeyPair(t)
	now := time.Unix(1700000000, 0)
	v := mustVerifier(t, []string{secret}, withFixedNow(now), WithPublicKeys(pub))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				body := []byte(strconv.Itoa(g*100 + i))
				h := webhookHeaders("m", now.Unix(), signV1(t, newTestWebhookSecret(t), "m", now.Unix(), body)+" "+signV1a(priv, "m", now.Unix(), body))
				if err := v.Verify(body, h); err != nil {
					t.Errorf("Verify: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkVerify(b *testing.B) {
	now := time.Unix(vectorTS, 0)
	v := mustVerifier(b, []string{newTestWebhookSecret(b), vectorSecret}, withFixedNow(now))
	body := []byte(vectorBody)
	h := webhookHeaders(vectorID, vectorTS, vectorSig)
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(body, h); err != nil {
			b.Fatal(err)
		}
	}
}
