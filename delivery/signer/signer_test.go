package signer

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The official Standard Webhooks test vector.
const (
	vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTS     = 1614265330
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func mustSecret(t testing.TB, s string) Secret {
	t.Helper()
	key, err := ParseSecret(s)
	if err != nil {
		t.Fatalf("ParseSecret(%q): %v", s, err)
	}
	return key
}

func newSecret(t testing.TB) (string, Secret) {
	t.Helper()
	s, err := NewSecret()
	if err != nil {
		t.Fatalf("NewSecret: %v", err)
	}
	return s, mustSecret(t, s)
}

func newEd25519(t testing.TB) (ed25519.PrivateKey, ed25519.PublicKey) {
	t.Helper()
	sk, pk, err := NewEd25519()
	if err != nil {
		t.Fatalf("NewEd25519: %v", err)
	}
	priv, err := ParseEd25519Private(sk)
	if err != nil {
		t.Fatalf("ParseEd25519Private: %v", err)
	}
	pub, err := ParseEd25519Public(pk)
	if err != nil {
		t.Fatalf("ParseEd25519Public: %v", err)
	}
	return priv, pub
}

func TestSignOfficialVector(t *testing.T) {
	s := Signer{Secrets: []Secret{mustSecret(t, vectorSecret)}}
	got := s.Sign(vectorID, vectorTS, []byte(vectorBody))
	if diff := cmp.Diff(vectorSig, got); diff != "" {
		t.Errorf("Sign (-want +got):\n%s", diff)
	}
}

// TestHMACMatchesStdlib checks the allocation-free HMAC against crypto/hmac
// for keys shorter than, equal to and longer than the SHA-256 block.
func TestHMACMatchesStdlib(t *testing.T) {
	prefix := []byte("msg_1.1700000000.")
	body := []byte(`{"hello":"world"}`)
	for _, n := range []int{0, 1, 24, 32, 63, 64, 65, 100, 128, 200} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			key := make([]byte, n)
			rand.Read(key)
			m := hmac.New(sha256.New, key)
			m.Write(prefix)
			m.Write(body)
			want := m.Sum(nil)

			sc := scratchPool.Get().(*scratch)
			got := append([]byte(nil), sc.hmac(key, prefix, body)...)
			sc.release()
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("hmac (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSignEntries(t *testing.T) {
	_, k1 := newSecret(t)
	_, k2 := newSecret(t)
	priv, pub := newEd25519(t)
	body := []byte(`{"id":"evt_1"}`)
	const id, ts = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", int64(1674087231)

	tests := []struct {
		name        string
		signer      Signer
		wantVersion []string
	}{
		{name: "no keys", signer: Signer{}, wantVersion: nil},
		{name: "one secret", signer: Signer{Secrets: []Secret{k1}}, wantVersion: []string{"v1"}},
		{name: "rotation", signer: Signer{Secrets: []Secret{k1, k2}}, wantVersion: []string{"v1", "v1"}},
		{name: "ed25519 only", signer: Signer{Ed25519: []ed25519.PrivateKey{priv}}, wantVersion: []string{"v1a"}},
		{
			name:        "mixed",
			signer:      Signer{Secrets: []Secret{k1, k2}, Ed25519: []ed25519.PrivateKey{priv}},
			wantVersion: []string{"v1", "v1", "v1a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := tt.signer.Sign(id, ts, body)
			var gotVersion []string
			var v1 []string
			for _, entry := range strings.Fields(header) {
				version, sig, ok := strings.Cut(entry, ",")
				if !ok {
					t.Fatalf("entry %q has no comma", entry)
				}
				gotVersion = append(gotVersion, version)
				raw, err := base64.StdEncoding.DecodeString(sig)
				if err != nil {
					t.Fatalf("entry %q: %v", entry, err)
				}
				switch version {
				case "v1":
					v1 = append(v1, sig)
				case "v1a":
					msg := []byte(id + "." + strconv.FormatInt(ts, 10) + "." + string(body))
					if !ed25519.Verify(pub, msg, raw) {
						t.Errorf("v1a entry %q does not verify", entry)
					}
				}
			}
			if diff := cmp.Diff(tt.wantVersion, gotVersion); diff != "" {
				t.Errorf("entry versions (-want +got):\n%s", diff)
			}
			if strings.Contains(header, "  ") || strings.HasPrefix(header, " ") || strings.HasSuffix(header, " ") {
				t.Errorf("header %q has stray spaces", header)
			}
			for i, key := range tt.signer.Secrets {
				single := Signer{Secrets: []Secret{key}}.Sign(id, ts, body)
				if diff := cmp.Diff(single, "v1,"+v1[i]); diff != "" {
					t.Errorf("entry %d differs from a single-key signature (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func TestAppendSignKeepsPrefix(t *testing.T) {
	s := Signer{Secrets: []Secret{mustSecret(t, vectorSecret)}}
	got := s.AppendSign([]byte("webhook-signature: "), vectorID, vectorTS, []byte(vectorBody))
	if diff := cmp.Diff("webhook-signature: "+vectorSig, string(got)); diff != "" {
		t.Errorf("AppendSign (-want +got):\n%s", diff)
	}
}

// TestSignAcceptedByStandardWebhooks cross-checks every v1 entry against the
// reference Go library, which verifies against the current time.
func TestSignAcceptedByStandardWebhooks(t *testing.T) {
	newStr, newKey := newSecret(t)
	oldStr, oldKey := newSecret(t)
	priv, _ := newEd25519(t)
	signer := Signer{Secrets: []Secret{newKey, oldKey}, Ed25519: []ed25519.PrivateKey{priv}}

	tests := []struct {
		name string
		id   string
		body []byte
	}{
		{name: "json", id: "msg_1", body: []byte(`{"type":"invoice.paid","data":{"id":42}}`)},
		{name: "empty body", id: "msg_2", body: nil},
		{name: "binary body", id: "msg_3", body: []byte{0, 0xff, '.', ' ', ','}},
		{name: "large body", id: "msg_4", body: []byte(strings.Repeat("x", 1<<20))},
		{name: "vector", id: vectorID, body: []byte(vectorBody)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := time.Now()
			h := http.Header{}
			h.Set(standardwebhooks.HeaderWebhookID, tt.id)
			h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
			h.Set(standardwebhooks.HeaderWebhookSignature, signer.Sign(tt.id, ts.Unix(), tt.body))
			for _, secret := range []string{newStr, oldStr} {
				wh, err := standardwebhooks.NewWebhook(secret)
				if err != nil {
					t.Fatalf("NewWebhook: %v", err)
				}
				if err := wh.Verify(tt.body, h); err != nil {
					t.Errorf("standardwebhooks Verify: %v", err)
				}
			}
			// And our v1 entry equals what the library itself signs.
			wh, _ := standardwebhooks.NewWebhook(newStr)
			want, err := wh.Sign(tt.id, ts, tt.body)
			if err != nil {
				t.Fatalf("standardwebhooks Sign: %v", err)
			}
			got := Signer{Secrets: []Secret{newKey}}.Sign(tt.id, ts.Unix(), tt.body)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Sign vs standardwebhooks (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSignConcurrent(t *testing.T) {
	key := mustSecret(t, vectorSecret)
	priv, pub := newEd25519(t)
	s := Signer{Secrets: []Secret{key}, Ed25519: []ed25519.PrivateKey{priv}}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				id := fmt.Sprintf("msg_%d_%d", g, i)
				body := []byte(strings.Repeat("b", g*1000+i))
				got := s.Sign(id, vectorTS, body)
				want := Signer{Secrets: []Secret{key}}.Sign(id, vectorTS, body)
				if !strings.HasPrefix(got, want+" v1a,") {
					t.Errorf("Sign(%s) = %q, want prefix %q", id, got, want)
					return
				}
				raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(got, want+" v1a,"))
				msg := []byte(id + "." + strconv.Itoa(vectorTS) + "." + string(body))
				if !ed25519.Verify(pub, msg, raw) {
					t.Errorf("Sign(%s): v1a does not verify", id)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestAppendSignAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	s := Signer{Secrets: []Secret{mustSecret(t, vectorSecret), mustSecret(t, vectorSecret)}}
	body := []byte(strings.Repeat("x", 4096))
	dst := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		dst = s.AppendSign(dst[:0], vectorID, vectorTS, body)
	})
	if allocs != 0 {
		t.Errorf("AppendSign allocates %v times per call, want 0", allocs)
	}
	allocs = testing.AllocsPerRun(100, func() { _ = s.Sign(vectorID, vectorTS, body) })
	if allocs > 1 {
		t.Errorf("Sign allocates %v times per call, want at most 1 (the string)", allocs)
	}
}

func TestParseSecret(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantLen int
		wantErr error
	}{
		{name: "prefixed", in: vectorSecret, wantLen: 24},
		{name: "bare", in: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", wantLen: 24},
		{name: "surrounding space", in: " " + vectorSecret + "\n", wantLen: 24},
		{name: "64 bytes", in: "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 64)), wantLen: 64},
		{name: "empty", in: "", wantErr: ErrInvalidSecret},
		{name: "prefix only", in: "whsec_", wantErr: ErrInvalidSecret},
		{name: "not base64", in: "whsec_not*base64!", wantErr: ErrInvalidSecret},
		{name: "url alphabet", in: "whsec_-_-_-_-_-_-_-_-_-_-_-_-_-_-_", wantErr: ErrInvalidSecret},
		{name: "too short", in: "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 23)), wantErr: ErrInvalidSecret},
		{name: "too long", in: "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65)), wantErr: ErrInvalidSecret},
		{name: "public key", in: "whpk_" + base64.StdEncoding.EncodeToString(make([]byte, 32)), wantErr: ErrInvalidSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSecret(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseSecret(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantLen, len(got)); diff != "" {
				t.Errorf("decoded length (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	a, ka := newSecret(t)
	b, _ := newSecret(t)
	if !strings.HasPrefix(a, SecretPrefix) {
		t.Errorf("NewSecret() = %q, want prefix %q", a, SecretPrefix)
	}
	if diff := cmp.Diff(newSecretSize, len(ka)); diff != "" {
		t.Errorf("secret size (-want +got):\n%s", diff)
	}
	if a == b {
		t.Errorf("two NewSecret calls returned the same secret %q", a)
	}
}

func TestEd25519Keys(t *testing.T) {
	sk, pk, err := NewEd25519()
	if err != nil {
		t.Fatalf("NewEd25519: %v", err)
	}
	priv, err := ParseEd25519Private(sk)
	if err != nil {
		t.Fatalf("ParseEd25519Private: %v", err)
	}
	pub, err := ParseEd25519Public(pk)
	if err != nil {
		t.Fatalf("ParseEd25519Public: %v", err)
	}
	if diff := cmp.Diff([]byte(pub), []byte(priv.Public().(ed25519.PublicKey))); diff != "" {
		t.Errorf("public key of parsed private key (-want +got):\n%s", diff)
	}

	mismatched := append([]byte(nil), priv...)
	mismatched[63] ^= 1
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }

	privTests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{name: "valid", in: sk},
		{name: "no prefix", in: strings.TrimPrefix(sk, PrivateKeyPrefix), wantErr: ErrInvalidKey},
		{name: "public key", in: pk, wantErr: ErrInvalidKey},
		{name: "hmac secret", in: vectorSecret, wantErr: ErrInvalidKey},
		{name: "not base64", in: "whsk_%%%", wantErr: ErrInvalidKey},
		{name: "seed only", in: "whsk_" + b64(32), wantErr: ErrInvalidKey},
		{name: "mismatched public half", in: "whsk_" + base64.StdEncoding.EncodeToString(mismatched), wantErr: ErrInvalidKey},
	}
	for _, tt := range privTests {
		t.Run("private/"+tt.name, func(t *testing.T) {
			if _, err := ParseEd25519Private(tt.in); !errors.Is(err, tt.wantErr) {
				t.Errorf("ParseEd25519Private(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
		})
	}

	pubTests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{name: "valid", in: pk},
		{name: "no prefix", in: strings.TrimPrefix(pk, PublicKeyPrefix), wantErr: ErrInvalidKey},
		{name: "private key", in: sk, wantErr: ErrInvalidKey},
		{name: "not base64", in: "whpk_%%%", wantErr: ErrInvalidKey},
		{name: "short", in: "whpk_" + b64(31), wantErr: ErrInvalidKey},
		{name: "long", in: "whpk_" + b64(64), wantErr: ErrInvalidKey},
	}
	for _, tt := range pubTests {
		t.Run("public/"+tt.name, func(t *testing.T) {
			if _, err := ParseEd25519Public(tt.in); !errors.Is(err, tt.wantErr) {
				t.Errorf("ParseEd25519Public(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
		})
	}
}

func BenchmarkAppendSign(b *testing.B) {
	key := mustSecret(b, vectorSecret)
	priv, _ := newEd25519(b)
	body := []byte(strings.Repeat("x", 2048))
	benches := []struct {
		name   string
		signer Signer
	}{
		{name: "v1", signer: Signer{Secrets: []Secret{key}}},
		{name: "v1x2", signer: Signer{Secrets: []Secret{key, key}}},
		{name: "v1+v1a", signer: Signer{Secrets: []Secret{key}, Ed25519: []ed25519.PrivateKey{priv}}},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			dst := make([]byte, 0, 512)
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				dst = bb.signer.AppendSign(dst[:0], vectorID, vectorTS, body)
			}
		})
	}
}

// BenchmarkStdlibHMAC is the crypto/hmac baseline AppendSign is measured against.
func BenchmarkStdlibHMAC(b *testing.B) {
	key := mustSecret(b, vectorSecret)
	body := []byte(strings.Repeat("x", 2048))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(vectorID + "." + strconv.Itoa(vectorTS) + "."))
		m.Write(body)
		_ = "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
}
