// Package ids makes hookgate's prefixed, time-sortable identifiers
// (ptn_01J…, msg_01J…). It imports nothing from hookgate.
package ids

import (
	"crypto/rand"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Prefixes of every resource id.
const (
	Partner  = "ptn"
	User     = "usr"
	APIKey   = "key"
	Source   = "src"
	Event    = "msg"
	Endpoint = "ep"
	Delivery = "dlv"
	Attempt  = "att"
	Audit    = "aud"
	Job      = "job"
)

var (
	mu      sync.Mutex
	entropy = ulid.Monotonic(rand.Reader, 0)
)

// New returns prefix_ULID, monotonic within this process.
func New(prefix string) string {
	return NewAt(prefix, time.Now())
}

// NewAt returns an id whose time part is t.
func NewAt(prefix string, t time.Time) string {
	mu.Lock()
	id := ulid.MustNew(ulid.Timestamp(t), entropy)
	mu.Unlock()
	var b strings.Builder
	b.Grow(len(prefix) + 27)
	b.WriteString(prefix)
	b.WriteByte('_')
	b.WriteString(id.String())
	return b.String()
}

// Valid reports whether s looks like an id with the given prefix.
func Valid(prefix, s string) bool {
	if len(s) != len(prefix)+27 || !strings.HasPrefix(s, prefix+"_") {
		return false
	}
	_, err := ulid.ParseStrict(s[len(prefix)+1:])
	return err == nil
}

// Time returns the time encoded in an id, or the zero time.
func Time(s string) time.Time {
	i := strings.IndexByte(s, '_')
	if i < 0 {
		return time.Time{}
	}
	u, err := ulid.Parse(s[i+1:])
	if err != nil {
		return time.Time{}
	}
	return ulid.Time(u.Time())
}
