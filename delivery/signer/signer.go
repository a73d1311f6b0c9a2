package signer

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"slices"
	"strconv"
	"sync"
)

// Signature entry sizes in the webhook-signature header.
const (
	v1Len  = len("v1,") + 44  // base64 of a 32-byte HMAC-SHA256
	v1aLen = len("v1a,") + 88 // base64 of a 64-byte ed25519 signature
	// maxPooledMsg bounds the message buffer kept in the pool so that one
	// large body does not pin its memory forever.
	maxPooledMsg = 64 << 10
)

// Signer signs one message with every current key (rotation: new + previous;
// optional ed25519). The zero value has no keys and produces an empty header.
// A Signer is safe for concurrent use as long as its keys are not modified.
type Signer struct {
	// Secrets are the HMAC-SHA256 keys; each yields one "v1" entry.
	Secrets []Secret
	// Ed25519 are the asymmetric keys; each yields one "v1a" entry. They must
	// be well-formed 64-byte keys such as ParseEd25519Private returns:
	// crypto/ed25519 panics on a malformed key.
	Ed25519 []ed25519.PrivateKey
}

// Sign returns the webhook-signature header value for the message, one
// space-separated entry per key, HMAC entries first: "v1,AAA v1,BBB v1a,CCC".
//
// msgID and the timestamp are part of the signed content "id.ts.body"; msgID
// must come from hookgate, not from user input, and must not contain '.'.
func (s Signer) Sign(msgID string, ts int64, body []byte) string {
	var buf [4 * v1Len]byte // room for a rotation pair without a heap buffer
	return string(s.AppendSign(buf[:0], msgID, ts, body))
}

// AppendSign appends the header value to dst (for zero-alloc use) and returns
// the extended buffer. It allocates nothing when dst has room and only HMAC
// secrets are configured.
func (s Signer) AppendSign(dst []byte, msgID string, ts int64, body []byte) []byte {
	n := len(s.Secrets)*(v1Len+1) + len(s.Ed25519)*(v1aLen+1)
	if n == 0 {
		return dst
	}
	dst = slices.Grow(dst, n-1)

	sc := scratchPool.Get().(*scratch)
	defer sc.release()

	// Signed content: "id.ts." followed by the body. HMAC streams the body;
	// ed25519 needs the message in one slice, so copy it only when needed.
	msg := append(sc.msg[:0], msgID...)
	msg = append(msg, '.')
	msg = strconv.AppendInt(msg, ts, 10)
	msg = append(msg, '.')
	prefix := len(msg)
	if len(s.Ed25519) > 0 {
		msg = append(msg, body...)
	}
	sc.msg = msg

	sep := false
	for _, key := range s.Secrets {
		if sep {
			dst = append(dst, ' ')
		}
		sep = true
		dst = append(dst, "v1,"...)
		dst = base64.StdEncoding.AppendEncode(dst, sc.hmac(key, msg[:prefix], body))
	}
	for _, key := range s.Ed25519 {
		if sep {
			dst = append(dst, ' ')
		}
		sep = true
		dst = append(dst, "v1a,"...)
		sig := ed25519.Sign(key, msg)
		dst = base64.StdEncoding.AppendEncode(dst, sig)
	}
	return dst
}

// scratch is per-call state reused through scratchPool.
type scratch struct {
	h   hash.Hash // sha256
	pad [sha256.BlockSize]byte
	key [sha256.Size]byte
	sum [sha256.Size]byte
	msg []byte
}

var scratchPool = sync.Pool{New: func() any { return &scratch{h: sha256.New()} }}

// release wipes key-derived state and returns sc to the pool.
func (sc *scratch) release() {
	clear(sc.pad[:])
	clear(sc.key[:])
	if cap(sc.msg) > maxPooledMsg {
		sc.msg = nil
	}
	scratchPool.Put(sc)
}

// hmac computes HMAC-SHA256(key, prefix||body) as in RFC 2104 and returns a
// slice of sc.sum. It is crypto/hmac without the per-call allocations of
// hmac.New; tests check it against crypto/hmac for keys of every size.
func (sc *scratch) hmac(key, prefix, body []byte) []byte {
	h := sc.h
	if len(key) > sha256.BlockSize {
		h.Reset()
		h.Write(key)
		key = h.Sum(sc.key[:0])
	}
	for i := range sc.pad {
		sc.pad[i] = 0x36
	}
	for i, b := range key {
		sc.pad[i] ^= b
	}
	h.Reset()
	h.Write(sc.pad[:])
	h.Write(prefix)
	h.Write(body)
	inner := h.Sum(sc.sum[:0])

	for i := range sc.pad {
		sc.pad[i] ^= 0x36 ^ 0x5c
	}
	h.Reset()
	h.Write(sc.pad[:])
	h.Write(inner)
	return h.Sum(sc.sum[:0])
}
