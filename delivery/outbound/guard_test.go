package outbound

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestIsPublic only classifies addresses; nothing here is dialled.
func TestIsPublic(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		// RFC 1918 private.
		{"10.0.0.1", false},
		{"10.255.255.255", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		// Loopback.
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"::1", false},
		// Link-local, including the cloud metadata address.
		{"169.254.169.254", false},
		{"169.254.0.1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		// Multicast.
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"ff02::1", false},
		{"ff0e::1", false},
		// Shared address space (CGNAT) and its neighbours.
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"100.63.255.255", true},
		{"100.128.0.0", true},
		// Unspecified, "this network", broadcast, reserved.
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"::", false},
		{"255.255.255.255", false},
		{"240.0.0.1", false},
		// Documentation, benchmarking, IETF protocol assignments.
		{"192.0.2.1", false},
		{"198.51.100.7", false},
		{"203.0.113.9", false},
		{"198.18.0.1", false},
		{"198.19.255.255", false},
		{"192.0.0.8", false},
		{"2001:db8::1", false},
		{"3fff::1", false},
		// IPv6 unique local and deprecated site-local.
		{"fc00::1", false},
		{"fd12:3456:789a::1", false},
		{"fec0::1", false},
		// IPv4-mapped IPv6 is judged as the IPv4 address.
		{"::ffff:10.0.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::ffff:100.64.0.1", false},
		{"::ffff:8.8.8.8", true},
		// IPv4-compatible (deprecated) and translation forms are never public.
		{"::127.0.0.1", false},
		{"::8.8.8.8", false},
		{"64:ff9b::7f00:1", false},
		{"64:ff9b::a00:1", false},
		{"64:ff9b::808:808", false},
		{"64:ff9b:1::a00:1", false},
		{"2002:7f00:1::1", false},
		{"2002:a00:1::1", false},
		{"2002:808:808::1", false},
		{"2001::1", false}, // Teredo
		{"100::1", false},  // discard-only
		{"5f00::1", false}, // SRv6 SIDs, outside global unicast
		// Public examples.
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"93.184.216.34", true},
		{"172.32.0.1", true},
		{"2606:4700:4700::1111", true},
		{"2001:4860:4860::8888", true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := IsPublic(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("IsPublic(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
	if IsPublic(netip.Addr{}) {
		t.Errorf("IsPublic(zero Addr) = true")
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		name   string
		allow  []string
		url    string
		wantIs error // nil means valid
	}{
		{name: "https name", url: "https://hooks.example.com/in?x=1", wantIs: nil},
		{name: "http name with port", url: "http://hooks.example.com:8080/in", wantIs: nil},
		{name: "upper-case scheme", url: "HTTPS://hooks.example.com/", wantIs: nil},
		{name: "public literal v4", url: "https://8.8.8.8/hook", wantIs: nil},
		{name: "public literal v6", url: "https://[2606:4700:4700::1111]/hook", wantIs: nil},
		{name: "empty", url: "", wantIs: ErrInvalidURL},
		{name: "relative", url: "/hook", wantIs: ErrInvalidURL},
		{name: "no scheme", url: "hooks.example.com/in", wantIs: ErrInvalidURL},
		{name: "ftp", url: "ftp://hooks.example.com/", wantIs: ErrInvalidURL},
		{name: "javascript", url: "javascript:alert(1)", wantIs: ErrInvalidURL},
		{name: "opaque", url: "http:hooks.example.com", wantIs: ErrInvalidURL},
		{name: "no host", url: "https:///path", wantIs: ErrInvalidURL},
		{name: "port only", url: "https://:443/", wantIs: ErrInvalidURL},
		{name: "userinfo", url: "https://user:pass@hooks.example.com/", wantIs: ErrInvalidURL},
		{name: "user only", url: "https://user@hooks.example.com/", wantIs: ErrInvalidURL},
		{name: "port zero", url: "https://hooks.example.com:0/", wantIs: ErrInvalidURL},
		{name: "port too big", url: "https://hooks.example.com:65536/", wantIs: ErrInvalidURL},
		{name: "port not numeric", url: "https://hooks.example.com:http/", wantIs: ErrInvalidURL},
		{name: "empty port", url: "https://hooks.example.com:/", wantIs: ErrInvalidURL},
		{name: "bad escape", url: "https://hooks.example.com/%zz", wantIs: ErrInvalidURL},
		{name: "decimal ip", url: "http://2130706433/", wantIs: ErrInvalidURL},
		{name: "short ip", url: "http://127.1/", wantIs: ErrInvalidURL},
		{name: "hex ip", url: "http://0x7f.0x0.0x0.0x1/", wantIs: ErrInvalidURL},
		{name: "loopback literal", url: "http://127.0.0.1/", wantIs: ErrBlockedTarget},
		{name: "private literal", url: "https://10.1.2.3/", wantIs: ErrBlockedTarget},
		{name: "metadata literal", url: "http://169.254.169.254/latest/meta-data", wantIs: ErrBlockedTarget},
		{name: "cgnat literal", url: "http://100.64.1.1/", wantIs: ErrBlockedTarget},
		{name: "unspecified", url: "http://0.0.0.0:8080/", wantIs: ErrBlockedTarget},
		{name: "v6 loopback", url: "http://[::1]/", wantIs: ErrBlockedTarget},
		{name: "v6 link-local with zone", url: "http://[fe80::1%25eth0]/", wantIs: ErrBlockedTarget},
		{name: "mapped loopback", url: "http://[::ffff:127.0.0.1]/", wantIs: ErrBlockedTarget},
		{name: "nat64 private", url: "http://[64:ff9b::a00:1]/", wantIs: ErrBlockedTarget},
		{name: "6to4 private", url: "http://[2002:a00:1::1]/", wantIs: ErrBlockedTarget},
		{name: "localhost", url: "http://localhost:8080/", wantIs: ErrBlockedTarget},
		{name: "sub.localhost", url: "http://api.localhost./", wantIs: ErrBlockedTarget},
		{name: "allowed loopback", allow: []string{"127.0.0.0/8"}, url: "http://127.0.0.1:8080/", wantIs: nil},
		{name: "allowed localhost", allow: []string{"127.0.0.0/8"}, url: "http://localhost:8080/", wantIs: nil},
		{name: "allow list is exact", allow: []string{"127.0.0.1/32"}, url: "http://127.0.0.2/", wantIs: ErrBlockedTarget},
		{name: "mapped literal matches v4 allow", allow: []string{"10.0.0.0/8"}, url: "http://[::ffff:10.1.2.3]/", wantIs: nil},
		{name: "mapped allow matches v4 literal", allow: []string{"::ffff:10.0.0.0/104"}, url: "http://10.1.2.3/", wantIs: nil},
		{name: "allowed zone address", allow: []string{"fe80::/10"}, url: "http://[fe80::1%25eth0]/", wantIs: nil},
		{name: "allowed nat64 public", allow: []string{"64:ff9b::/96"}, url: "http://[64:ff9b::808:808]/", wantIs: nil},
		{name: "allowed nat64 still guards private", allow: []string{"64:ff9b::/96"}, url: "http://[64:ff9b::7f00:1]/", wantIs: ErrBlockedTarget},
		{name: "allowed nat64 with allowed v4", allow: []string{"64:ff9b::/96", "10.0.0.0/8"}, url: "http://[64:ff9b::a00:1]/", wantIs: nil},
		{name: "allowed 6to4 still guards private", allow: []string{"2002::/16"}, url: "http://[2002:c0a8:101::1]/", wantIs: ErrBlockedTarget},
		{name: "allowed 6to4 public", allow: []string{"2002::/16"}, url: "http://[2002:808:808::1]/", wantIs: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var prefixes []netip.Prefix
			for _, s := range tt.allow {
				prefixes = append(prefixes, netip.MustParsePrefix(s))
			}
			err := New(Options{AllowTargets: prefixes}).CheckURL(tt.url)
			switch {
			case tt.wantIs == nil && err != nil:
				t.Errorf("CheckURL(%q) = %v, want nil", tt.url, err)
			case tt.wantIs != nil && !errors.Is(err, tt.wantIs):
				t.Errorf("CheckURL(%q) = %v, want an error wrapping %v", tt.url, err, tt.wantIs)
			}
		})
	}
}

func TestParseAllowTargets(t *testing.T) {
	mp := netip.MustParsePrefix
	tests := []struct {
		in      string
		want    []netip.Prefix
		wantErr bool
	}{
		{in: "", want: nil},
		{in: " , ,", want: nil},
		{in: "127.0.0.0/8, ::1/128, 10.1.2.3", want: []netip.Prefix{mp("127.0.0.0/8"), mp("::1/128"), mp("10.1.2.3/32")}},
		{in: "10.0.0.0/8 192.168.0.0/16\n172.16.0.0/12", want: []netip.Prefix{mp("10.0.0.0/8"), mp("192.168.0.0/16"), mp("172.16.0.0/12")}},
		{in: "fd00::1", want: []netip.Prefix{mp("fd00::1/128")}},
		{in: "::ffff:10.1.2.3", want: []netip.Prefix{mp("10.1.2.3/32")}},
		{in: "::ffff:10.0.0.0/104", want: []netip.Prefix{mp("10.0.0.0/8")}},
		{in: "0.0.0.0/0", want: []netip.Prefix{mp("0.0.0.0/0")}},
		{in: "10.1.2.3/8", wantErr: true},
		{in: "10.0.0.0/33", wantErr: true},
		{in: "10.0.0", wantErr: true},
		{in: "localhost", wantErr: true},
		{in: "fe80::1%eth0", wantErr: true},
		{in: "127.0.0.0/8,,nonsense", wantErr: true},
		{in: "/8", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAllowTargets(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidAllowTarget) {
					t.Errorf("ParseAllowTargets(%q) = %v, %v; want ErrInvalidAllowTarget", tt.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAllowTargets(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("ParseAllowTargets(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}
