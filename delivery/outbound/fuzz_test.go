package outbound

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzIsPublic checks that IsPublic never panics, that an IPv4-mapped IPv6
// address classifies like its IPv4 form, that zones do not matter, that
// nothing it calls public is special by the standard library's own
// predicates, and that a Client with no allow list agrees with it.
func FuzzIsPublic(f *testing.F) {
	for _, s := range []string{"8.8.8.8", "10.0.0.1", "127.0.0.1", "169.254.169.254", "100.64.0.1", "255.255.255.255",
		"2606:4700:4700::1111", "fe80::1", "::1", "::ffff:127.0.0.1", "64:ff9b::a00:1", "2002:a00:1::1", "ff02::1"} {
		b := netip.MustParseAddr(s).As16()
		f.Add(b[:], false)
		a4 := netip.MustParseAddr(s)
		if a4.Is4() {
			b4 := a4.As4()
			f.Add(append(b4[:], make([]byte, 12)...), true)
		}
	}
	g := newGuard(nil)
	f.Fuzz(func(t *testing.T, data []byte, v4 bool) {
		var raw [16]byte
		copy(raw[:], data)
		a := netip.AddrFrom16(raw)
		if v4 {
			a4 := netip.AddrFrom4([4]byte(raw[:4]))
			mapped := netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: raw[0], 13: raw[1], 14: raw[2], 15: raw[3]})
			if IsPublic(a4) != IsPublic(mapped) {
				t.Fatalf("IsPublic(%s) = %v but IsPublic(%s) = %v", a4, IsPublic(a4), mapped, IsPublic(mapped))
			}
			a = a4
		} else if pub, zoned := IsPublic(a), IsPublic(a.WithZone("eth0")); pub != zoned {
			t.Fatalf("IsPublic(%s) = %v but with a zone %v", a, pub, zoned)
		}
		pub := IsPublic(a)
		if pub {
			u := a.Unmap()
			if !u.IsGlobalUnicast() || u.IsPrivate() || u.IsLoopback() || u.IsMulticast() || u.IsLinkLocalUnicast() ||
				u.IsLinkLocalMulticast() || u.IsInterfaceLocalMulticast() || u.IsUnspecified() {
				t.Fatalf("IsPublic(%s) = true for a special-purpose address", a)
			}
			if v, ok := embeddedIPv4(u); ok {
				t.Fatalf("IsPublic(%s) = true for a translation address embedding %s", a, v)
			}
		}
		if ok := g.check(a) == nil; ok != pub {
			t.Fatalf("guard.check(%s) allowed=%v, IsPublic=%v", a, ok, pub)
		}
	})
}

// FuzzParseAllowTargets checks that ParseAllowTargets never panics and that
// what it returns is canonical and survives a round trip through its own
// output format.
func FuzzParseAllowTargets(f *testing.F) {
	for _, s := range []string{"", "127.0.0.0/8, ::1/128, 10.1.2.3", "::ffff:10.0.0.0/104", "10.1.2.3/8",
		"fe80::1%eth0", "0.0.0.0/0,::/0", "::ffff:0:0/96", "1.2.3.4/32\t5.6.7.8", "/", ",,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseAllowTargets(s)
		if err != nil {
			return
		}
		parts := make([]string, len(got))
		for i, p := range got {
			if !p.IsValid() || p.Masked() != p || p.Addr().Is4In6() && p.Bits() >= 96 || p.Addr().Zone() != "" {
				t.Fatalf("ParseAllowTargets(%q) returned non-canonical %s", s, p)
			}
			parts[i] = p.String()
		}
		again, err := ParseAllowTargets(strings.Join(parts, ", "))
		if err != nil {
			t.Fatalf("re-parsing %q: %v", parts, err)
		}
		if len(again) != len(got) {
			t.Fatalf("round trip changed %v into %v", got, again)
		}
		for i := range got {
			if got[i] != again[i] {
				t.Fatalf("round trip changed %v into %v", got, again)
			}
		}
	})
}
