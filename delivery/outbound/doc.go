// Package outbound is the HTTP client that delivers webhooks to partner
// endpoints.
//
// It is the only place in hookgate that opens connections to addresses chosen
// by partners, so it owns the SSRF guard (DESIGN.md §6): every resolved IP is
// checked at dial time, on the address actually being connected to, so a name
// that resolves innocently at endpoint creation and to a private address later
// (DNS rebinding) is still refused. Only public unicast addresses may be
// dialled unless an allow-list entry (HOOKGATE_ALLOW_TARGETS) exempts them.
// Redirects are never followed, no proxy is used, and response bodies are
// capped at [MaxBody] for the attempt log.
//
// The address classification is delegated to code.dny.dev/ssrf (kept in sync
// with the IANA special-purpose registries); this package adds what it lacks:
// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry, zones
// are ignored, and an allow-listed NAT64 (64:ff9b::/96) or 6to4 (2002::/16)
// address is still refused when the IPv4 address it embeds is not allowed.
//
// Errors returned by [Client.Do] are sorted into a small set of [Class] values
// that the delivery worker records on each attempt.
//
// This package is a leaf: it imports only the standard library and
// code.dny.dev/ssrf. It must not import storage, queue, HTTP-server or domain
// packages; callers hand it a URL, headers and a body and get a [Response].
package outbound
