package auth

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
)

// Password length bounds, in characters. The upper bound keeps hashing
// cost predictable.
const (
	MinPasswordLength = 10
	MaxPasswordLength = 256
)

// ErrWeakPassword is returned by CheckPasswordRules; its message says why.
var ErrWeakPassword = errors.New("password too weak")

// CheckPasswordRules reports whether pw may be set as a password.
func CheckPasswordRules(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return fmt.Errorf("%w: must be valid UTF-8", ErrWeakPassword)
	case n < MinPasswordLength:
		return fmt.Errorf("%w: must be at least %d characters", ErrWeakPassword, MinPasswordLength)
	case n > MaxPasswordLength:
		return fmt.Errorf("%w: must be at most %d characters", ErrWeakPassword, MaxPasswordLength)
	}
	return nil
}

// DefaultParams are the argon2id parameters of new hashes (OWASP's
// recommended minimum: 19 MiB, 2 passes, 1 lane). Stored hashes carry their
// own parameters, so these can be raised later.
var DefaultParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Hasher hashes and checks passwords with argon2id, at most Concurrency at
// a time (each takes Memory KiB), so a burst of logins cannot exhaust
// memory.
type Hasher struct {
	params *argon2id.Params
	sem    chan struct{}
	dummy  string
}

// NewHasher returns a hasher running at most concurrency hashes at once
// (default 4); nil params means DefaultParams.
func NewHasher(params *argon2id.Params, concurrency int) (*Hasher, error) {
	if params == nil {
		params = DefaultParams
	}
	if concurrency <= 0 {
		concurrency = 4
	}
	h := &Hasher{params: params, sem: make(chan struct{}, concurrency)}
	dummy, err := argon2id.CreateHash("hookgate dummy password", params)
	if err != nil {
		return nil, fmt.Errorf("auth: dummy hash: %w", err)
	}
	h.dummy = dummy
	return h, nil
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.sem }

// Hash returns the argon2id hash of pw in the PHC string format.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	s, err := argon2id.CreateHash(pw, h.params)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return s, nil
}

// Verify reports whether pw matches hash, comparing in constant time. An
// empty hash (no such user) is checked against a dummy hash so the answer
// takes as long as for a real user, and is always false.
func (h *Hasher) Verify(ctx context.Context, pw, hash string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	if hash == "" {
		_, _ = argon2id.ComparePasswordAndHash(pw, h.dummy)
		return false, nil
	}
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	if err != nil {
		return false, fmt.Errorf("auth: check password: %w", err)
	}
	return ok, nil
}
