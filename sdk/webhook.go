package sdk

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Errors returned by Verify, VerifyEvent and NewVerifier; test with errors.Is.
var (
	// ErrInvalidSignature means no entry of the signature header matches the
	// body with any configured key, or the header holds no well-formed entry.
	ErrInvalidSignature = errors.New("invalid webhook signature")
	// ErrTimestampTooOld means webhook-timestamp is further in the past than
	// the tolerance: a delayed or replayed request.
	ErrTimestampTooOld = errors.New("webhook timestamp too old")
	// ErrTimestampTooNew means webhook-timestamp is further in the future
	// than the tolerance.
	ErrTimestampTooNew = errors.New("webhook timestamp too new")
	// ErrMissingHeaders means webhook-id, webhook-timestamp or
	// webhook-signature (or their svix-* equivalents) is absent, or the
	// timestamp is not a unix time in seconds.
	ErrMissingHeaders = errors.New("missing or malformed webhook headers")
	// ErrInvalidSecret means NewVerifier got a secret or public key it cannot
	// decode, or no key at all.
	ErrInvalidSecret = errors.New("invalid webhook secret")
	// ErrInvalidEvent means the body is authentic but is not a hookgate event
	// envelope.
	ErrInvalidEvent = errors.New("invalid webhook event")
)

// Standard Webhooks header names, and the svix-* names also accepted.
const (
	// HeaderWebhookID carries the message id, stable across retries.
	HeaderWebhookID = "webhook-id"
	// HeaderWebhookTimestamp carries the attempt time in unix seconds.
	HeaderWebhookTimestamp = "webhook-timestamp"
	// HeaderWebhookSignature carries the space-separated signature entries.
	HeaderWebhookSignature = "webhook-signature"

	svixID        = "svix-id"
	svixTimestamp = "svix-timestamp"
	svixSignature = "svix-signature"
)

const (
	// DefaultTolerance is how far webhook-timestamp may be from now, in
	// either direction, unless WithTolerance says otherwise.
	DefaultTolerance = 5 * time.Minute
	// MaxWebhookBodySize is the largest body Middleware reads (1 MiB).
	MaxWebhookBodySize = 1 << 20

	webhookSecretPrefix    = "whsec_"
	webhookPublicKeyPrefix = "whpk_"
	// Secret sizes allowed by the spec (hookgate generates 32 bytes).
	minWebhookSecretSize = 24
	maxWebhookSecretSize = 64
	// maxWebhookSignatures bounds the entries examined in one header so that a
	// forged header of thousands of v1a entries cannot burn CPU.
	maxWebhookSignatures = 16
	// maxWebhookTimestampDigits keeps webhook-timestamp inside int64.
	maxWebhookTimestampDigits = 18
)

// Verifier checks the signature and timestamp of incoming hookgate webhooks.
// It is safe for concurrent use.
type Verifier struct {
	secrets    [][]byte
	publicKeys []ed25519.PublicKey
	tolerance  time.Duration
	now        func() time.Time

	rawPublicKeys []string // from WithPublicKeys, parsed by NewVerifier
}

// VerifierOption configures a Verifier.
type VerifierOption func(*Verifier)

// WithTolerance sets how far webhook-timestamp may be from the current time,
// in either direction (default DefaultTolerance). It must not be negative.
func WithTolerance(d time.Duration) VerifierOption {
	return func(v *Verifier) { v.tolerance = d }
}

// WithNow replaces the clock, for tests. A nil func keeps time.Now.
func WithNow(now func() time.Time) VerifierOption {
	return func(v *Verifier) {
		if now != nil {
			v.now = now
		}
	}
}

// WithPublicKeys adds "whpk_" ed25519 public keys, which verify "v1a"
// signature entries. NewVerifier reports a malformed key.
func WithPublicKeys(keys ...string) VerifierOption {
	return func(v *Verifier) { v.rawPublicKeys = append(v.rawPublicKeys, keys...) }
}

// NewVerifier returns a Verifier for one or more "whsec_" secrets (pass the
// old and the new one during a rotation). secrets may be empty when
// WithPublicKeys supplies at least one key. Bare base64 secrets without the
// prefix are accepted as well.
func NewVerifier(secrets []string, opts ...VerifierOption) (*Verifier, error) {
	v := &Verifier{tolerance: DefaultTolerance, now: time.Now}
	for _, opt := range opts {
		opt(v)
	}
	if v.tolerance < 0 {
		return nil, fmt.Errorf("sdk: new verifier: negative tolerance %v", v.tolerance)
	}
	for i, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), webhookSecretPrefix))
		if err != nil {
			return nil, fmt.Errorf("sdk: new verifier: secret %d: %w: not base64", i, ErrInvalidSecret)
		}
		if len(key) < minWebhookSecretSize || len(key) > maxWebhookSecretSize {
			return nil, fmt.Errorf("sdk: new verifier: secret %d: %w: %d bytes, want %d to %d",
				i, ErrInvalidSecret, len(key), minWebhookSecretSize, maxWebhookSecretSize)
		}
		v.secrets = append(v.secrets, key)
	}
	for i, s := range v.rawPublicKeys {
		b64, ok := strings.CutPrefix(strings.TrimSpace(s), webhookPublicKeyPrefix)
		if !ok {
			return nil, fmt.Errorf("sdk: new verifier: public key %d: %w: want prefix %q", i, ErrInvalidSecret, webhookPublicKeyPrefix)
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("sdk: new verifier: public key %d: %w: want base64 of %d bytes",
				i, ErrInvalidSecret, ed25519.PublicKeySize)
		}
		v.publicKeys = append(v.publicKeys, ed25519.PublicKey(key))
	}
	v.rawPublicKeys = nil
	if len(v.secrets) == 0 && len(v.publicKeys) == 0 {
		return nil, fmt.Errorf("sdk: new verifier: %w: no secrets or public keys", ErrInvalidSecret)
	}
	return v, nil
}

// Verify checks the webhook-id, webhook-timestamp and webhook-signature
// headers (or svix-id, svix-timestamp and svix-signature) against the raw
// body, exactly as received. The timestamp must be within the tolerance of
// now, and at least one "v1" (HMAC-SHA256) or "v1a" (ed25519) entry of the
// signature header must match a configured key; HMACs are compared in
// constant time. Unknown entry versions are ignored.
func (v *Verifier) Verify(body []byte, h http.Header) error {
	id, tsHeader, sigHeader := h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp), h.Get(HeaderWebhookSignature)
	if id == "" && tsHeader == "" && sigHeader == "" {
		id, tsHeader, sigHeader = h.Get(svixID), h.Get(svixTimestamp), h.Get(svixSignature)
	}
	if id == "" || tsHeader == "" || sigHeader == "" {
		return fmt.Errorf("sdk: verify webhook: %w", ErrMissingHeaders)
	}
	ts, ok := parseWebhookTimestamp(tsHeader)
	if !ok {
		return fmt.Errorf("sdk: verify webhook: timestamp %q: %w", truncateForError(tsHeader), ErrMissingHeaders)
	}

	// Check the timestamp first: it is cheap, and rejecting a replay does
	// not need a signature check.
	now := v.now()
	sent := time.Unix(ts, 0)
	if now.Sub(sent) > v.tolerance {
		return fmt.Errorf("sdk: verify webhook: sent %s, now %s: %w", sent.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), ErrTimestampTooOld)
	}
	if sent.Sub(now) > v.tolerance {
		return fmt.Errorf("sdk: verify webhook: sent %s, now %s: %w", sent.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), ErrTimestampTooNew)
	}

	// Signed content: "id.timestamp.body". The timestamp is re-encoded from
	// its value, as the reference implementation does.
	prefix := make([]byte, 0, len(id)+maxWebhookTimestampDigits+2)
	prefix = append(prefix, id...)
	prefix = append(prefix, '.')
	prefix = strconv.AppendInt(prefix, ts, 10)
	prefix = append(prefix, '.')

	var (
		macs       [][]byte // expected HMACs, one per secret, computed on first v1 entry
		message    []byte   // prefix+body for ed25519, built on first v1a entry
		wellFormed bool
		decoded    [ed25519.SignatureSize + 3]byte
	)
	rest := sigHeader
	for seen := 0; rest != "" && seen < maxWebhookSignatures; {
		var entry string
		entry, rest, _ = strings.Cut(rest, " ")
		if entry == "" {
			continue
		}
		seen++
		version, sig, ok := strings.Cut(entry, ",")
		if !ok {
			continue
		}
		switch version {
		case "v1":
			if base64.StdEncoding.EncodedLen(sha256.Size) != len(sig) {
				continue
			}
			n, err := base64.StdEncoding.Decode(decoded[:], []byte(sig))
			if err != nil || n != sha256.Size {
				continue
			}
			wellFormed = true
			if macs == nil {
				macs = make([][]byte, len(v.secrets))
				for i, key := range v.secrets {
					m := hmac.New(sha256.New, key)
					m.Write(prefix)
					m.Write(body)
					macs[i] = m.Sum(nil)
				}
			}
			for _, mac := range macs {
				if hmac.Equal(mac, decoded[:n]) {
					return nil
				}
			}
		case "v1a":
			if base64.StdEncoding.EncodedLen(ed25519.SignatureSize) != len(sig) {
				continue
			}
			n, err := base64.StdEncoding.Decode(decoded[:], []byte(sig))
			if err != nil || n != ed25519.SignatureSize {
				continue
			}
			wellFormed = true
			if len(v.publicKeys) > 0 && message == nil {
				message = make([]byte, 0, len(prefix)+len(body))
				message = append(append(message, prefix...), body...)
			}
			for _, pub := range v.publicKeys {
				if ed25519.Verify(pub, message, decoded[:n]) {
					return nil
				}
			}
		}
	}
	if !wellFormed {
		return fmt.Errorf("sdk: verify webhook: no well-formed v1 or v1a entry: %w", ErrInvalidSignature)
	}
	return fmt.Errorf("sdk: verify webhook: no entry matches a configured key: %w", ErrInvalidSignature)
}

// parseWebhookTimestamp accepts unix seconds written as plain decimal digits.
func parseWebhookTimestamp(s string) (int64, bool) {
	if len(s) == 0 || len(s) > maxWebhookTimestampDigits {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	return ts, err == nil
}

// truncateForError shortens attacker-controlled text before it goes into an error.
func truncateForError(s string) string {
	const max = 32
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// Event is the hookgate envelope as partners receive it.
type Event struct {
	// ID identifies the event; it is stable across retries, so use it as an
	// idempotency key.
	ID string `json:"id"`
	// Type is the dotted event type, such as "invoice.paid".
	Type string `json:"type"`
	// Version is the schema version of Data for this Type.
	Version int `json:"version"`
	// OccurredAt is when the change happened at the source, not when the
	// webhook was sent.
	OccurredAt time.Time `json:"occurred_at"`
	// Source says which system and record the event comes from.
	Source EventSource `json:"source"`
	// Data is the type-specific payload, left undecoded.
	Data json.RawMessage `json:"data"`
}

// EventSource identifies where an event originated.
type EventSource struct {
	// Kind is the kind of source system, such as "odoo".
	Kind string `json:"kind"`
	// Name is the configured name of the source instance.
	Name string `json:"name"`
	// Model is the source's model name (e.g. "account.move"), if any.
	Model string `json:"model,omitempty"`
	// RecordID is the id of the record in the source model, if any.
	RecordID int64 `json:"record_id,omitempty"`
}

// VerifyEvent verifies body and headers like Verify and then decodes the
// body into an Event. An authentic body that is not an event envelope (not
// JSON, or without id or type) yields ErrInvalidEvent.
func (v *Verifier) VerifyEvent(body []byte, h http.Header) (Event, error) {
	if err := v.Verify(body, h); err != nil {
		return Event{}, err
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return Event{}, fmt.Errorf("sdk: decode webhook event: %w: %w", ErrInvalidEvent, err)
	}
	if ev.ID == "" || ev.Type == "" {
		return Event{}, fmt.Errorf("sdk: decode webhook event: %w: missing id or type", ErrInvalidEvent)
	}
	return ev, nil
}

type webhookEventKey struct{}

// EventFromContext returns the event Middleware stored in ctx.
func EventFromContext(ctx context.Context) (Event, bool) {
	ev, ok := ctx.Value(webhookEventKey{}).(Event)
	return ev, ok
}

// Middleware returns an http.Handler that reads the body (at most
// MaxWebhookBodySize bytes, else 413), verifies it (401 with a short text reason on
// failure), decodes the event (400 if it is not one) and calls next with the
// event in the request context (see EventFromContext). next can still read
// the raw body from r.Body.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBodySize))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				http.Error(w, "webhook body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "cannot read webhook body", http.StatusBadRequest)
			return
		}
		ev, err := v.VerifyEvent(body, r.Header)
		if err != nil {
			status, reason := webhookFailure(err)
			http.Error(w, reason, status)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), webhookEventKey{}, ev))
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// webhookFailure maps a VerifyEvent error to a status code and a short reason that
// reveals nothing the sender does not already know.
func webhookFailure(err error) (int, string) {
	switch {
	case errors.Is(err, ErrMissingHeaders):
		return http.StatusUnauthorized, "missing or malformed webhook headers"
	case errors.Is(err, ErrTimestampTooOld):
		return http.StatusUnauthorized, "webhook timestamp too old"
	case errors.Is(err, ErrTimestampTooNew):
		return http.StatusUnauthorized, "webhook timestamp too new"
	case errors.Is(err, ErrInvalidEvent):
		return http.StatusBadRequest, "invalid webhook event"
	default:
		return http.StatusUnauthorized, "invalid webhook signature"
	}
}
