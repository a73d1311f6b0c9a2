// Package crypto holds hookgate's at-rest protection: AES-GCM sealing of
// signing secrets and credentials under the master key, hashing of tokens
// and API keys, and random token generation. It imports nothing from hookgate.
package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
)

// ErrDecrypt is returned when sealed data cannot be opened (wrong master key
// or tampering).
var ErrDecrypt = errors.New("crypto: cannot decrypt (wrong HOOKGATE_MASTER_KEY?)")

// Box seals and opens small secrets with AES-256-GCM.
type Box struct {
	aead cipher.AEAD
}

// NewBox returns a Box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("crypto: master key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("crypto: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("crypto: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext; associated binds it to a context (e.g. the
// endpoint id) so a sealed value cannot be moved to another row.
func (b *Box) Seal(plaintext, associated []byte) []byte {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("crypto: no randomness: " + err.Error())
	}
	return b.aead.Seal(nonce, nonce, plaintext, associated)
}

// Open decrypts what Seal produced with the same associated data.
func (b *Box) Open(sealed, associated []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, ErrDecrypt
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], associated)
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}

// RandomToken returns n random bytes, URL-safe base64 without padding.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is the stored form of a high-entropy token or API key: SHA-256,
// hex. (Passwords use argon2id instead; tokens have 192+ bits of entropy, so
// a fast hash is safe and keeps authentication cheap.)
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// GenerateKey returns a new random 32-byte master key.
func GenerateKey() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto: no randomness: " + err.Error())
	}
	return b
}
