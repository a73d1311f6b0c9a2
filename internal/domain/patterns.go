package domain

import (
	"strings"
)

// ValidEventTypeName reports whether s is a catalogue name: lowercase
// dot-separated words of [a-z0-9_], 1–100 characters.
func ValidEventTypeName(s string) bool {
	if len(s) == 0 || len(s) > 100 {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
				return false
			}
		}
	}
	return true
}

// ValidPattern reports whether p is an event-type pattern: "*", an exact
// name, or a name prefix ending in ".*" (order.*, pos.*).
func ValidPattern(p string) bool {
	if p == "*" {
		return true
	}
	if strings.HasSuffix(p, ".*") {
		return ValidEventTypeName(strings.TrimSuffix(p, ".*"))
	}
	return ValidEventTypeName(p)
}

// MatchPattern reports whether event type t matches pattern p.
func MatchPattern(p, t string) bool {
	if p == "*" {
		return true
	}
	if prefix, ok := strings.CutSuffix(p, "*"); ok {
		return strings.HasPrefix(t, prefix)
	}
	return p == t
}

// MatchAny reports whether t matches any of patterns.
func MatchAny(patterns []string, t string) bool {
	for _, p := range patterns {
		if MatchPattern(p, t) {
			return true
		}
	}
	return false
}

// PatternWithin reports whether every type matching p also matches one of
// the allowed patterns (an endpoint may not subscribe beyond entitlements).
func PatternWithin(p string, allowed []string) bool {
	for _, a := range allowed {
		if a == "*" || a == p {
			return true
		}
		if prefix, ok := strings.CutSuffix(a, "*"); ok {
			// p is narrower when it starts with a's prefix (order.* within *,
			// pos.order.* within pos.*).
			if strings.HasPrefix(strings.TrimSuffix(p, "*"), prefix) && p != "*" {
				return true
			}
		}
	}
	return false
}
