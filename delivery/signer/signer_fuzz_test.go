package signer

import (
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// FuzzSignVerify checks that whatever the body, id and secret, every v1 entry
// the Signer emits is accepted by the reference standard-webhooks library and
// the v1a entry by crypto/ed25519.
func FuzzSignVerify(f *testing.F) {
	f.Add([]byte(vectorBody), vectorID, []byte("0123456789abcdef01234567"))
	f.Add([]byte{}, "m", []byte{})
	f.Add([]byte("a.b.c v1,x"), "id.with.dots", []byte(strings.Repeat("k", 64)))
	f.Add([]byte{0, 0xff, '\n'}, "msg with spaces", []byte(strings.Repeat("k", 65)))

	fixedStr, err := NewSecret()
	if err != nil {
		f.Fatal(err)
	}
	fixed := mustSecret(f, fixedStr)
	priv, pub := newEd25519(f)

	f.Fuzz(func(t *testing.T, body []byte, id string, key []byte) {
		if id == "" {
			t.Skip("the library rejects an empty webhook-id")
		}
		secrets := []string{fixedStr}
		signer := Signer{Secrets: []Secret{fixed}, Ed25519: []ed25519.PrivateKey{priv}}
		if len(key) >= MinSecretSize && len(key) <= MaxSecretSize {
			s := SecretPrefix + base64.StdEncoding.EncodeToString(key)
			secrets = append(secrets, s)
			signer.Secrets = append(signer.Secrets, mustSecret(t, s))
		}

		ts := time.Now().Unix()
		header := signer.Sign(id, ts, body)

		h := http.Header{}
		h.Set(standardwebhooks.HeaderWebhookID, id)
		h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts, 10))
		h.Set(standardwebhooks.HeaderWebhookSignature, header)
		for _, s := range secrets {
			wh, err := standardwebhooks.NewWebhook(s)
			if err != nil {
				t.Fatalf("NewWebhook: %v", err)
			}
			if err := wh.Verify(body, h); err != nil {
				t.Fatalf("standardwebhooks rejected %q for id %q: %v", header, id, err)
			}
		}

		entries := strings.Split(header, " ")
		if got, want := len(entries), len(signer.Secrets)+1; got != want {
			t.Fatalf("header %q has %d entries, want %d", header, got, want)
		}
		sig, ok := strings.CutPrefix(entries[len(entries)-1], "v1a,")
		if !ok {
			t.Fatalf("last entry of %q is not v1a", header)
		}
		raw, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			t.Fatalf("v1a entry: %v", err)
		}
		msg := append([]byte(id+"."+strconv.FormatInt(ts, 10)+"."), body...)
		if !ed25519.Verify(pub, msg, raw) {
			t.Fatalf("v1a entry of %q does not verify", header)
		}
	})
}
