package outbound

import (
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// startFakeDNS runs a tiny DNS server on 127.0.0.1 that answers A/AAAA
// queries for names (lower case, no trailing dot) and NXDOMAIN for anything
// else, and returns a resolver that only ever talks to it. Tests must never
// reach the machine's real (non-loopback) name server.
func startFakeDNS(t testing.TB, names map[string]netip.Addr) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fake dns: %v", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n], names); resp != nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		wg.Wait()
	})
	server := pc.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", server)
		},
	}
}

// dnsAnswer builds the reply to one query, or nil if it cannot parse it.
func dnsAnswer(q []byte, names map[string]netip.Addr) []byte {
	if len(q) < 12 {
		return nil
	}
	i := 12
	var labels []string
	for {
		if i >= len(q) {
			return nil
		}
		l := int(q[i])
		i++
		if l == 0 {
			break
		}
		if l&0xC0 != 0 || i+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i:i+l]))
		i += l
	}
	if i+4 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i:])
	i += 4
	name := strings.ToLower(strings.Join(labels, "."))

	addr, known := names[name]
	var rdata []byte
	switch {
	case known && qtype == 1 && addr.Is4():
		b := addr.As4()
		rdata = b[:]
	case known && qtype == 28 && addr.Is6():
		b := addr.As16()
		rdata = b[:]
	}
	flags := uint16(0x8000 | 0x0400 | 0x0080) // QR, AA, RA
	flags |= uint16(q[2]&0x01) << 8           // RD copied
	if !known {
		flags |= 3 // NXDOMAIN
	}
	var ancount uint16
	if rdata != nil {
		ancount = 1
	}
	out := make([]byte, 0, 64+len(q))
	out = append(out, q[0], q[1])
	out = binary.BigEndian.AppendUint16(out, flags)
	out = binary.BigEndian.AppendUint16(out, 1)
	out = binary.BigEndian.AppendUint16(out, ancount)
	out = binary.BigEndian.AppendUint16(out, 0)
	out = binary.BigEndian.AppendUint16(out, 0)
	out = append(out, q[12:i]...)
	if rdata != nil {
		out = append(out, 0xC0, 0x0C)
		out = binary.BigEndian.AppendUint16(out, qtype)
		out = binary.BigEndian.AppendUint16(out, 1)
		out = binary.BigEndian.AppendUint32(out, 60)
		out = binary.BigEndian.AppendUint16(out, uint16(len(rdata)))
		out = append(out, rdata...)
	}
	return out
}

// testNames are the names the fake DNS server knows.
var testNames = map[string]netip.Addr{
	"localhost":   netip.MustParseAddr("127.0.0.1"),
	"rebind.test": netip.MustParseAddr("127.0.0.2"),
}

// newTestClient returns a Client allowing the given prefixes and resolving
// names only through the loopback fake DNS server.
func newTestClient(t testing.TB, allow ...string) *Client {
	t.Helper()
	var prefixes []netip.Prefix
	for _, s := range allow {
		prefixes = append(prefixes, netip.MustParsePrefix(s))
	}
	c := newClient(Options{AllowTargets: prefixes}, startFakeDNS(t, testNames))
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// startServerOn starts an httptest server listening on addr (e.g.
// "127.0.0.2:0") and returns it with its accept counter.
func startServerOn(t testing.TB, addr string, h http.Handler) (*httptest.Server, *countingListener) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	cl := &countingListener{Listener: l}
	ts := httptest.NewUnstartedServer(h)
	ts.Listener.Close()
	ts.Listener = cl
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, cl
}
