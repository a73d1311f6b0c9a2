package sdk

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzVerify checks three properties of Verify:
//   - arbitrary headers and body never make it (or VerifyEvent) panic;
//   - a correctly signed body (v1 and v1a) always verifies;
//   - changing, adding or removing one byte of the body never verifies.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(vectorBody), vectorID, strconv.Itoa(vectorTS), vectorSig, int64(vectorTS), uint(0))
	f.Add([]byte{}, "", "", "", int64(0), uint(1))
	f.Add([]byte(`{"id":"e","type":"t"}`), "msg.with.dots", "+1", "v1, v1a, v2,x ,,, v1,====", int64(-1), uint(255))
	f.Add([]byte("\x00\xff"), "id", "99999999999999999999", "v1a,"+base64.StdEncoding.EncodeToString(make([]byte, 64)), int64(1<<62), uint(1<<20))
	f.Add([]byte("body"), "m", "1700000000", "v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32))+" v1,AAAA", int64(1700000000), uint(7))

	// Fixed keys: deriving keys per input would only slow the fuzzer down.
	secretKey := sha256.Sum256([]byte("hookgate fuzz secret"))
	secret := "whsec_" + base64.StdEncoding.EncodeToString(secretKey[:])
	priv := ed25519.NewKeyFromSeed(secretKey[:])
	pub := "whpk_" + base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))

	f.Fuzz(func(t *testing.T, body []byte, id, tsHeader, sigHeader string, ts int64, pos uint) {
		ts = int64(uint64(ts) % 1e15) // non-negative and well inside the digit limit
		now := time.Unix(ts, 0)
		hmacOnly := mustVerifier(t, []string{secret}, withFixedNow(now))
		edOnly := mustVerifier(t, nil, withFixedNow(now), WithPublicKeys(pub))
		both := mustVerifier(t, []string{secret}, withFixedNow(now), WithPublicKeys(pub))

		// 1. Arbitrary input: any outcome but a panic.
		for _, h := range []http.Header{
			{"Webhook-Id": {id}, "Webhook-Timestamp": {tsHeader}, "Webhook-Signature": {sigHeader}},
			{"Svix-Id": {id}, "Svix-Timestamp": {tsHeader}, "Svix-Signature": {sigHeader}},
			{"Webhook-Id": {id}, "Webhook-Timestamp": {strconv.FormatInt(ts, 10)}, "Webhook-Signature": {sigHeader}},
		} {
			if err := both.Verify(body, h); err == nil {
				// Only a genuine signature may pass.
				if !signatureMatches(t, secret, priv, h, body) {
					t.Fatalf("Verify accepted a forged header %v", h)
				}
			}
			_, _ = both.VerifyEvent(body, h)
		}

		if id == "" {
			return // no valid signed request has an empty id
		}

		// 2. A correctly signed body verifies, with either kind of key.
		v1 := signV1(t, secret, id, ts, body)
		v1a := signV1a(priv, id, ts, body)
		cases := []struct {
			v   *Verifier
			sig string
		}{
			{hmacOnly, v1},
			{edOnly, v1a},
			{both, v1a + " " + v1},
			{hmacOnly, sigHeader + " " + v1}, // junk before a good entry: the junk may hold up to 15 entries
		}
		for i, c := range cases {
			if i == 3 && len(splitEntries(sigHeader)) >= maxWebhookSignatures {
				continue
			}
			h := webhookHeaders(id, ts, c.sig)
			if err := c.v.Verify(body, h); err != nil {
				t.Fatalf("case %d: Verify(correctly signed) = %v; header %q", i, err, c.sig)
			}

			// 3. One byte changed, added or removed never verifies.
			var tampered [][]byte
			if len(body) > 0 {
				changed := append([]byte(nil), body...)
				changed[pos%uint(len(body))] ^= byte(pos>>8) | 1
				tampered = append(tampered, changed, body[:len(body)-1], body[1:])
			}
			tampered = append(tampered, append(append([]byte(nil), body...), byte(pos)))
			for _, b := range tampered {
				if err := c.v.Verify(b, h); !errors.Is(err, ErrInvalidSignature) {
					t.Fatalf("case %d: Verify(tampered %q) = %v, want %v", i, b, err, ErrInvalidSignature)
				}
			}
		}
	})
}

// signatureMatches reports whether h's signature header contains an entry that the
// test signers produce for this id, timestamp and body.
func signatureMatches(t *testing.T, secret string, priv ed25519.PrivateKey, h http.Header, body []byte) bool {
	id, tsHeader := h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp)
	sig := h.Get(HeaderWebhookSignature)
	if id == "" {
		id, tsHeader, sig = h.Get("Svix-Id"), h.Get("Svix-Timestamp"), h.Get("Svix-Signature")
	}
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return false
	}
	want := []string{signV1(t, secret, id, ts, body), signV1a(priv, id, ts, body)}
	for _, entry := range splitEntries(sig) {
		for _, w := range want {
			// The decoder tolerates non-canonical padding bits and line
			// breaks, so compare decoded signatures, not strings.
			if sameSignature(entry, w) {
				return true
			}
		}
	}
	return false
}

// splitEntries returns the non-empty space-separated entries of a header.
func splitEntries(s string) []string {
	var out []string
	for _, e := range strings.Split(s, " ") {
		if e != "" {
			out = append(out, e)
		}
	}
	return out
}

func sameSignature(got, want string) bool {
	gv, gs, ok1 := strings.Cut(got, ",")
	wv, ws, ok2 := strings.Cut(want, ",")
	if !ok1 || !ok2 || gv != wv {
		return false
	}
	g, err1 := base64.StdEncoding.DecodeString(gs)
	w, err2 := base64.StdEncoding.DecodeString(ws)
	return err1 == nil && err2 == nil && string(g) == string(w)
}
