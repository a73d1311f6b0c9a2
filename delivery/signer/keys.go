package signer

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Key serialisation prefixes defined by Standard Webhooks.
const (
	// SecretPrefix marks a base64 symmetric (HMAC-SHA256) secret.
	SecretPrefix = "whsec_"
	// PrivateKeyPrefix marks a base64 ed25519 private ("secret") key.
	PrivateKeyPrefix = "whsk_"
	// PublicKeyPrefix marks a base64 ed25519 public key.
	PublicKeyPrefix = "whpk_"
)

// Symmetric secret sizes. The spec asks for at least 24 bytes and at most 64.
const (
	// MinSecretSize is the smallest decoded secret ParseSecret accepts.
	MinSecretSize = 24
	// MaxSecretSize is the largest decoded secret ParseSecret accepts.
	MaxSecretSize = 64
	// newSecretSize is what NewSecret generates (256 bits).
	newSecretSize = 32
)

// ErrInvalidSecret reports a symmetric secret that is not valid base64 or
// whose decoded size is outside [MinSecretSize, MaxSecretSize].
var ErrInvalidSecret = errors.New("invalid webhook secret")

// ErrInvalidKey reports an ed25519 key with the wrong prefix, encoding or size,
// or a private key whose public half does not match its seed.
var ErrInvalidKey = errors.New("invalid ed25519 key")

// Secret is a decoded symmetric signing key.
type Secret []byte

// NewSecret returns a fresh random symmetric secret serialised as
// "whsec_" + base64(32 random bytes).
func NewSecret() (string, error) {
	key := make(Secret, newSecretSize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("signer: new secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// ParseSecret decodes a "whsec_"-prefixed (or bare) standard base64 secret.
// Surrounding white space is ignored.
func ParseSecret(s string) (Secret, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), SecretPrefix)
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("signer: parse secret: %w: not base64", ErrInvalidSecret)
	}
	if len(key) < MinSecretSize || len(key) > MaxSecretSize {
		return nil, fmt.Errorf("signer: parse secret: %w: %d bytes, want %d to %d",
			ErrInvalidSecret, len(key), MinSecretSize, MaxSecretSize)
	}
	return Secret(key), nil
}

// NewEd25519 returns a fresh ed25519 key pair serialised as
// "whsk_" + base64(64-byte private key) and "whpk_" + base64(32-byte public key).
func NewEd25519() (secretKey, publicKey string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("signer: new ed25519 key: %w", err)
	}
	return PrivateKeyPrefix + base64.StdEncoding.EncodeToString(priv),
		PublicKeyPrefix + base64.StdEncoding.EncodeToString(pub), nil
}

// ParseEd25519Private decodes a "whsk_" private key. The prefix is required so
// that a public key or an HMAC secret cannot be mistaken for a private key, and
// the embedded public half must match the seed.
func ParseEd25519Private(s string) (ed25519.PrivateKey, error) {
	s = strings.TrimSpace(s)
	b64, ok := strings.CutPrefix(s, PrivateKeyPrefix)
	if !ok {
		return nil, fmt.Errorf("signer: parse ed25519 private key: %w: want prefix %q", ErrInvalidKey, PrivateKeyPrefix)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("signer: parse ed25519 private key: %w: not base64", ErrInvalidKey)
	}
	if len(raw) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("signer: parse ed25519 private key: %w: %d bytes, want %d",
			ErrInvalidKey, len(raw), ed25519.PrivateKeySize)
	}
	key := ed25519.NewKeyFromSeed(raw[:ed25519.SeedSize])
	if !bytes.Equal(key[ed25519.SeedSize:], raw[ed25519.SeedSize:]) {
		return nil, fmt.Errorf("signer: parse ed25519 private key: %w: public half does not match seed", ErrInvalidKey)
	}
	return key, nil
}

// ParseEd25519Public decodes a "whpk_" public key (the prefix is required).
func ParseEd25519Public(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	b64, ok := strings.CutPrefix(s, PublicKeyPrefix)
	if !ok {
		return nil, fmt.Errorf("signer: parse ed25519 public key: %w: want prefix %q", ErrInvalidKey, PublicKeyPrefix)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("signer: parse ed25519 public key: %w: not base64", ErrInvalidKey)
	}
	if len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("signer: parse ed25519 public key: %w: %d bytes, want %d",
			ErrInvalidKey, len(raw), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

// PublicFromPrivate returns the "whpk_" public key of a "whsk_" private key.
func PublicFromPrivate(secretKey string) (string, error) {
	k, err := ParseEd25519Private(secretKey)
	if err != nil {
		return "", err
	}
	return PublicKeyPrefix + base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey)), nil
}
