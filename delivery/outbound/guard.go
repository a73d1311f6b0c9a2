package outbound

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"code.dny.dev/ssrf"
)

// ErrBlockedTarget is wrapped by every error caused by the SSRF guard refusing
// an address, both at dial time and in [Client.CheckURL].
var ErrBlockedTarget = errors.New("target address is not allowed")

// ErrInvalidURL is wrapped by every error about a malformed or unsupported
// target URL.
var ErrInvalidURL = errors.New("invalid target URL")

// ErrInvalidAllowTarget is wrapped by [ParseAllowTargets] errors.
var ErrInvalidAllowTarget = errors.New("invalid allow target")

var (
	// publicGuard classifies addresses with no allow-list entries. Ports and
	// networks are checked elsewhere (any port is fine for a webhook).
	publicGuard = ssrf.New(ssrf.WithAnyPort(), ssrf.WithAnyNetwork())

	// nat64Prefix is the NAT64 well-known prefix; the last 32 bits are the
	// IPv4 address (RFC 6052).
	nat64Prefix = ssrf.IPv6NAT64Prefix
	// sixToFourPrefix is 6to4; bits 16..47 are the IPv4 address (RFC 3056).
	sixToFourPrefix = netip.MustParsePrefix("2002::/16")
)

// IsPublic reports whether addr may be dialled without an allow-list entry:
// it is a valid unicast address outside every private, loopback, link-local,
// multicast, shared (CGNAT), documentation, benchmarking, reserved and
// translation range. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged
// as the IPv4 address it carries; an IPv6 zone is ignored.
func IsPublic(addr netip.Addr) bool {
	if !addr.IsValid() {
		return false
	}
	return publicGuard.SafeAddr(normalize(addr)) == nil
}

// normalize unmaps IPv4-mapped IPv6 addresses and drops any zone so that
// prefix matching sees the address the kernel will actually connect to.
func normalize(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

// guard decides whether a resolved address may be dialled by one Client.
type guard struct {
	ssrf  *ssrf.Guardian
	allow []netip.Prefix
}

func newGuard(allow []netip.Prefix) *guard {
	var v4, v6, all []netip.Prefix
	for _, p := range allow {
		p, ok := normalizePrefix(p)
		if !ok {
			continue
		}
		all = append(all, p)
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	return &guard{
		ssrf: ssrf.New(
			ssrf.WithAnyPort(),
			ssrf.WithAnyNetwork(),
			ssrf.WithAllowedV4Prefixes(v4...),
			ssrf.WithAllowedV6Prefixes(v6...),
		),
		allow: all,
	}
}

// check returns nil when addr may be dialled, or an error wrapping
// ErrBlockedTarget.
func (g *guard) check(addr netip.Addr) error {
	if !addr.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrBlockedTarget)
	}
	a := normalize(addr)
	if err := g.ssrf.SafeAddr(a); err != nil {
		return fmt.Errorf("%w: %s is not a public address", ErrBlockedTarget, a)
	}
	// An allow-listed translation prefix must not become a way to reach a
	// private IPv4 address through a NAT64 gateway or 6to4 relay.
	if v4, ok := embeddedIPv4(a); ok && !g.explicitlyAllowed(v4) && !IsPublic(v4) {
		return fmt.Errorf("%w: %s embeds the non-public address %s", ErrBlockedTarget, a, v4)
	}
	return nil
}

func (g *guard) explicitlyAllowed(a netip.Addr) bool {
	for _, p := range g.allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// control is the net.Dialer Control function: it runs after the socket is
// created and before connect(2), on the literal address being dialled, so no
// packet reaches a refused address.
func (g *guard) control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("%w: network %q", ErrBlockedTarget, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse %q: %w", ErrBlockedTarget, address, err)
	}
	return g.check(ap.Addr())
}

// embeddedIPv4 returns the IPv4 address carried by a NAT64 well-known-prefix
// or 6to4 address.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	switch {
	case nat64Prefix.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFourPrefix.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// normalizePrefix masks p and rewrites an IPv4-mapped IPv6 prefix
// (::ffff:10.0.0.0/104) as the IPv4 prefix it denotes (10.0.0.0/8), because
// the guard matches unmapped addresses.
func normalizePrefix(p netip.Prefix) (netip.Prefix, bool) {
	if !p.IsValid() {
		return netip.Prefix{}, false
	}
	a := p.Addr().WithZone("")
	bits := p.Bits()
	if a.Is4In6() && bits >= 96 {
		a, bits = a.Unmap(), bits-96
	}
	q, err := a.Prefix(bits)
	if err != nil {
		return netip.Prefix{}, false
	}
	return q, true
}

// ParseAllowTargets parses a comma- or space-separated list of prefixes and
// addresses such as "127.0.0.0/8, ::1/128, 10.1.2.3" (the
// HOOKGATE_ALLOW_TARGETS syntax). A bare address becomes a /32 or /128; an
// IPv4-mapped IPv6 entry becomes the IPv4 entry it denotes. A prefix with host
// bits set (10.1.2.3/8) is rejected rather than silently widened. An empty
// string yields no prefixes.
func ParseAllowTargets(s string) ([]netip.Prefix, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	})
	var out []netip.Prefix
	for _, f := range fields {
		p, err := parseAllowTarget(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parseAllowTarget(f string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(f, "/") {
		var err error
		p, err = netip.ParsePrefix(f)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("outbound: %w %q: not an address or prefix", ErrInvalidAllowTarget, f)
		}
		if m := p.Masked(); m != p {
			return netip.Prefix{}, fmt.Errorf("outbound: %w %q: host bits are set (did you mean %s?)", ErrInvalidAllowTarget, f, m)
		}
	} else {
		a, err := netip.ParseAddr(f)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("outbound: %w %q: not an address or prefix", ErrInvalidAllowTarget, f)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("outbound: %w %q: zones are not supported", ErrInvalidAllowTarget, f)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	q, ok := normalizePrefix(p)
	if !ok {
		return netip.Prefix{}, fmt.Errorf("outbound: %w %q", ErrInvalidAllowTarget, f)
	}
	return q, nil
}

// CheckURL validates a target URL when an endpoint is created or changed: it
// must be an absolute http or https URL with a host, no user information and
// a valid port; a literal IP host (or "localhost") must be public or allowed.
// It does not resolve DNS, so the dial-time guard remains the real defence.
// The error message is meant for the partner who typed the URL; it wraps
// ErrInvalidURL or ErrBlockedTarget.
func (c *Client) CheckURL(raw string) error {
	u, err := parseTarget(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); err == nil {
		if err := c.guard.check(a); err != nil {
			return fmt.Errorf("outbound: %w", err)
		}
		return nil
	}
	lower := strings.ToLower(strings.TrimSuffix(host, "."))
	if lower == "localhost" || strings.HasSuffix(lower, ".localhost") {
		// RFC 6761: these names always mean the loopback interface.
		if c.guard.check(netip.AddrFrom4([4]byte{127, 0, 0, 1})) != nil &&
			c.guard.check(netip.IPv6Loopback()) != nil {
			return fmt.Errorf("outbound: %w: %s is the loopback interface", ErrBlockedTarget, host)
		}
		return nil
	}
	if looksNumeric(lower) {
		// 2130706433, 0x7f.1, 127.1: not DNS names, but some resolvers
		// read them as IPv4 addresses.
		return fmt.Errorf("outbound: %w: host %q looks like an IP address in a non-standard form", ErrInvalidURL, host)
	}
	return nil
}

// looksNumeric reports whether the last label of host is all digits or a hex
// number, which no registered DNS name is (RFC 3696 §2).
func looksNumeric(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if strings.HasPrefix(last, "0x") {
		return true
	}
	_, err := strconv.ParseUint(last, 10, 64)
	return err == nil || errors.Is(err, strconv.ErrRange)
}
