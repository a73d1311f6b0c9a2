package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hookgate/hookgate/internal/crypto"
)

// Token lifetimes.
const (
	AccessTokenTTL  = 15 * time.Minute
	RefreshTokenTTL = 30 * 24 * time.Hour
)

// Issuer is the iss claim of every access token.
const Issuer = "hookgate"

// RefreshPrefix starts every refresh token.
const RefreshPrefix = "hgr_"

// ErrInvalidToken is returned for any access token that does not verify:
// bad signature, wrong algorithm, expired, malformed.
var ErrInvalidToken = errors.New("auth: invalid access token")

// Claims are what an access token says: the user, the session that must
// still be live, the user's role and partner at issue time.
type Claims struct {
	UserID    string
	SessionID string
	Role      string
	PartnerID string
	ExpiresAt time.Time
}

// jwtClaims is the token's JSON form.
type jwtClaims struct {
	jwt.RegisteredClaims
	SID  string `json:"sid"`
	Role string `json:"role"`
	PTN  string `json:"ptn,omitempty"`
}

// Tokens issues and verifies HS256 access tokens.
type Tokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewTokens returns a token issuer keyed by key (at least 32 bytes); ttl 0
// means AccessTokenTTL, now nil means time.Now.
func NewTokens(key []byte, ttl time.Duration, now func() time.Time) (*Tokens, error) {
	if len(key) < 32 {
		return nil, errors.New("auth: the JWT signing key must be at least 32 bytes")
	}
	if ttl <= 0 {
		ttl = AccessTokenTTL
	}
	if now == nil {
		now = time.Now
	}
	return &Tokens{key: append([]byte(nil), key...), ttl: ttl, now: now}, nil
}

// DeriveKey derives the JWT signing key from the master key when no key is
// configured: HMAC-SHA256(masterKey, "hookgate-jwt").
func DeriveKey(masterKey []byte) []byte {
	m := hmac.New(sha256.New, masterKey)
	m.Write([]byte("hookgate-jwt"))
	return m.Sum(nil)
}

// Issue signs an access token for c (its ExpiresAt is set from the ttl)
// and returns it with its expiry.
func (t *Tokens) Issue(c Claims) (string, time.Time, error) {
	now := t.now().UTC()
	exp := now.Add(t.ttl).Truncate(time.Second)
	jc := jwtClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: Issuer, Subject: c.UserID, ID: crypto.RandomToken(12), // every token is distinct
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Second)),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
		SID: c.SessionID, Role: c.Role, PTN: c.PartnerID,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jc).SignedString(t.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: sign access token: %w", err)
	}
	return s, exp, nil
}

// Parse verifies an access token: HS256 only, signed with our key, issued
// by hookgate, not expired, with a subject and a session.
func (t *Tokens) Parse(token string) (Claims, error) {
	var jc jwtClaims
	_, err := jwt.ParseWithClaims(token, &jc, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(Issuer), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithTimeFunc(t.now), jwt.WithLeeway(5*time.Second))
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if jc.Subject == "" || jc.SID == "" {
		return Claims{}, fmt.Errorf("%w: no subject or session", ErrInvalidToken)
	}
	return Claims{UserID: jc.Subject, SessionID: jc.SID, Role: jc.Role, PartnerID: jc.PTN, ExpiresAt: jc.ExpiresAt.Time}, nil
}

// LooksLikeJWT reports whether token has a JWT's shape: three non-empty
// dot-separated parts.
func LooksLikeJWT(token string) bool {
	parts := strings.Split(token, ".")
	return len(parts) == 3 && parts[0] != "" && parts[1] != "" && parts[2] != ""
}

// NewRefreshToken returns a fresh opaque refresh token, hgr_ and 256 random
// bits.
func NewRefreshToken() string { return RefreshPrefix + crypto.RandomToken(32) }
