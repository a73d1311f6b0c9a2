package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// testParams keep the unit tests fast; production uses DefaultParams.
var testParams = &argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func TestPasswordRules(t *testing.T) {
	for _, c := range []struct {
		pw   string
		want bool
	}{
		{"", false},
		{"short", false},
		{"123456789", false},
		{"1234567890", true},
		{"ééééééééééé", true}, // characters, not bytes
		{strings.Repeat("a", MaxPasswordLength), true},
		{strings.Repeat("a", MaxPasswordLength+1), false},
		{"bad utf8 \xff\xfe padded", false},
	} {
		err := CheckPasswordRules(c.pw)
		if got := err == nil; got != c.want {
			t.Errorf("CheckPasswordRules(%q) = %v, want ok=%v", c.pw, err, c.want)
		}
		if err != nil && !errors.Is(err, ErrWeakPassword) {
			t.Errorf("CheckPasswordRules(%q) error %v is not ErrWeakPassword", c.pw, err)
		}
	}
}

func TestHashAndVerify(t *testing.T) {
	ctx := context.Background()
	h, err := NewHasher(testParams, 2)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Errorf("hash %q is not an argon2id PHC string with our parameters", hash)
	}
	if strings.Contains(hash, "correct horse") {
		t.Error("the hash contains the password")
	}
	other, _ := h.Hash(ctx, "correct horse battery")
	if other == hash {
		t.Error("two hashes of one password are equal: no salt?")
	}
	for _, c := range []struct {
		name, pw, hash string
		want           bool
	}{
		{"right password", "correct horse battery", hash, true},
		{"wrong password", "correct horse battery!", hash, false},
		{"empty password", "", hash, false},
		{"no such user (dummy hash)", "correct horse battery", "", false},
		{"hash from other params", "x-password-1", mustHash(t, DefaultParams, "x-password-1"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := h.Verify(ctx, c.pw, c.hash)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("Verify = %v, want %v", got, c.want)
			}
		})
	}
	if _, err := h.Verify(ctx, "x", "not a hash"); err == nil {
		t.Error("a malformed hash verified without error")
	}
}

func mustHash(t *testing.T, p *argon2id.Params, pw string) string {
	t.Helper()
	s, err := argon2id.CreateHash(pw, p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHasherBoundsConcurrency(t *testing.T) {
	h, err := NewHasher(testParams, 1)
	if err != nil {
		t.Fatal(err)
	}
	h.sem <- struct{}{} // the only slot is taken
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "1234567890"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash with no free slot = %v, want the context's deadline", err)
	}
	<-h.sem
	if _, err := h.Hash(context.Background(), "1234567890"); err != nil {
		t.Errorf("Hash with a free slot: %v", err)
	}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var key = []byte("0123456789abcdef0123456789abcdef")

func TestTokensRoundTrip(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)}
	tk, err := NewTokens(key, 0, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	in := Claims{UserID: "usr_1", SessionID: "ses_1", Role: "partner_owner", PartnerID: "ptn_1"}
	tok, exp, err := tk.Issue(in)
	if err != nil {
		t.Fatal(err)
	}
	if !LooksLikeJWT(tok) {
		t.Fatalf("%q does not look like a JWT", tok)
	}
	if want := clk.t.Add(AccessTokenTTL); !exp.Equal(want) {
		t.Errorf("expiry %v, want %v (15 minutes)", exp, want)
	}
	got, err := tk.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	in.ExpiresAt = exp
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	// Header and claims as documented: HS256, sub/sid/role/ptn.
	parts := strings.Split(tok, ".")
	head, _ := base64.RawURLEncoding.DecodeString(parts[0])
	body, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if !strings.Contains(string(head), `"alg":"HS256"`) {
		t.Errorf("header %s", head)
	}
	for _, want := range []string{`"sub":"usr_1"`, `"sid":"ses_1"`, `"role":"partner_owner"`, `"ptn":"ptn_1"`, `"iss":"hookgate"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("claims %s lack %s", body, want)
		}
	}

	if again, _, _ := tk.Issue(Claims{UserID: "usr_1", SessionID: "ses_1", Role: "partner_owner", PartnerID: "ptn_1"}); again == tok {
		t.Error("two tokens issued in the same second are equal")
	}
	clk.t = clk.t.Add(AccessTokenTTL + 10*time.Second)
	if _, err := tk.Parse(tok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("expired token: %v, want ErrInvalidToken", err)
	}
}

func TestTokensRejectForgeries(t *testing.T) {
	now := time.Now()
	tk, _ := NewTokens(key, 0, nil)
	good, _, _ := tk.Issue(Claims{UserID: "usr_1", SessionID: "ses_1", Role: "admin"})
	otherKey, _ := NewTokens([]byte("another key, also 32 bytes long!"), 0, nil)
	forged, _, _ := otherKey.Issue(Claims{UserID: "usr_1", SessionID: "ses_1", Role: "admin"})

	sign := func(m jwt.SigningMethod, k any, c jwt.Claims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	valid := jwtClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: Issuer, Subject: "usr_1",
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))}, SID: "ses_1", Role: "admin"}
	noExp := valid
	noExp.ExpiresAt = nil
	wrongIss := valid
	wrongIss.Issuer = "someone-else"
	noSID := valid
	noSID.SID = ""
	noSub := valid
	noSub.Subject = ""
	parts := strings.Split(good, ".")
	tamperedBody, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(tamperedBody), "admin", "owner", 1))) + "." + parts[2]

	for _, c := range []struct{ name, token string }{
		{"signed with another key", forged},
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid)},
		{"HS512 with our key", sign(jwt.SigningMethodHS512, key, valid)},
		{"no expiry", sign(jwt.SigningMethodHS256, key, noExp)},
		{"wrong issuer", sign(jwt.SigningMethodHS256, key, wrongIss)},
		{"no session", sign(jwt.SigningMethodHS256, key, noSID)},
		{"no subject", sign(jwt.SigningMethodHS256, key, noSub)},
		{"tampered claims", tampered},
		{"garbage", "a.b.c"},
		{"empty", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := tk.Parse(c.token); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("Parse = %v, want ErrInvalidToken", err)
			}
		})
	}
	if _, err := tk.Parse(good); err != nil {
		t.Errorf("the genuine token: %v", err)
	}
}

func TestLooksLikeJWT(t *testing.T) {
	for tok, want := range map[string]bool{
		"a.b.c": true, "hg_abc": false, "hgi_abc.def": false, "a..c": false, "a.b.c.d": false, "": false, "..": false,
	} {
		if got := LooksLikeJWT(tok); got != want {
			t.Errorf("LooksLikeJWT(%q) = %v, want %v", tok, got, want)
		}
	}
}

func TestKeysAndRefreshTokens(t *testing.T) {
	if _, err := NewTokens([]byte("short"), 0, nil); err == nil {
		t.Error("a short key was accepted")
	}
	a, b := DeriveKey(key), DeriveKey(key)
	if string(a) != string(b) || len(a) != 32 {
		t.Error("DeriveKey is not a deterministic 32-byte key")
	}
	if string(DeriveKey([]byte("another master key 32 bytes long"))) == string(a) {
		t.Error("different master keys derive the same JWT key")
	}
	if string(a) == string(key) {
		t.Error("the derived key is the master key")
	}
	r1, r2 := NewRefreshToken(), NewRefreshToken()
	if r1 == r2 || !strings.HasPrefix(r1, RefreshPrefix) || len(r1) != len(RefreshPrefix)+43 {
		t.Errorf("refresh tokens %q %q", r1, r2)
	}
}
