package crypto

import (
	"bytes"
	"errors"
	"testing"
)

func TestBoxSealOpen(t *testing.T) {
	box, err := NewBox(GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewBox(GenerateKey())
	secret := []byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	sealed := box.Seal(secret, []byte("ep_1"))
	if bytes.Contains(sealed, secret) {
		t.Fatal("sealed value contains the plaintext")
	}
	if again := box.Seal(secret, []byte("ep_1")); bytes.Equal(again, sealed) {
		t.Error("two seals of the same value are equal: the nonce is not random")
	}
	got, err := box.Open(sealed, []byte("ep_1"))
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("open: %q %v", got, err)
	}
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	for name, c := range map[string]struct {
		box    *Box
		sealed []byte
		ad     string
	}{
		"other row":   {box, sealed, "ep_2"},
		"other key":   {other, sealed, "ep_1"},
		"tampered":    {box, tampered, "ep_1"},
		"truncated":   {box, sealed[:10], "ep_1"},
		"empty value": {box, nil, "ep_1"},
	} {
		if _, err := c.box.Open(c.sealed, []byte(c.ad)); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: err %v, want ErrDecrypt", name, err)
		}
	}
	if _, err := NewBox(make([]byte, 16)); err == nil {
		t.Error("a 16-byte master key was accepted")
	}
}

func TestTokens(t *testing.T) {
	a, b := RandomToken(32), RandomToken(32)
	if a == b || len(a) != 43 {
		t.Errorf("tokens %q %q", a, b)
	}
	if HashToken(a) == HashToken(b) || HashToken(a) != HashToken(a) || len(HashToken(a)) != 64 {
		t.Error("HashToken is not a stable SHA-256 hex digest")
	}
}
