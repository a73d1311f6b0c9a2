package outbound

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDoSuccess(t *testing.T) {
	type seen struct {
		Method, RequestURI, UserAgent, ContentType, WebhookID, Body string
		ContentLength                                               int64
		AcceptEncoding                                              []string
	}
	got := make(chan seen, 1)
	ts, _ := startServerOn(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{
			Method: r.Method, RequestURI: r.RequestURI, UserAgent: r.UserAgent(),
			ContentType: r.Header.Get("Content-Type"), WebhookID: r.Header.Get("Webhook-Id"),
			Body: string(b), ContentLength: r.ContentLength,
			AcceptEncoding: r.Header.Values("Accept-Encoding"),
		}
		w.Header().Set("X-Reply", "yes")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "accepted")
	}))
	c := newTestClient(t, "127.0.0.1/32")

	hdr := http.Header{"Content-Type": {"application/json"}, "Webhook-Id": {"msg_1"}}
	body := []byte(`{"type":"order.created"}`)
	resp, err := c.Do(context.Background(), Request{URL: ts.URL + "/hook?token=s3cret", Headers: hdr, Body: body})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}

	wantSeen := seen{
		Method: "POST", RequestURI: "/hook?token=s3cret", UserAgent: DefaultUserAgent,
		ContentType: "application/json", WebhookID: "msg_1", Body: string(body), ContentLength: int64(len(body)),
	}
	if diff := cmp.Diff(wantSeen, <-got); diff != "" {
		t.Errorf("server saw (-want +got):\n%s", diff)
	}
	type view struct {
		Status    int
		XReply    string
		Body      string
		Truncated bool
	}
	wantResp := view{Status: 201, XReply: "yes", Body: "accepted"}
	gotResp := view{Status: resp.Status, XReply: resp.Headers.Get("X-Reply"), Body: string(resp.Body), Truncated: resp.Truncated}
	if diff := cmp.Diff(wantResp, gotResp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	if resp.Duration <= 0 {
		t.Errorf("Duration = %v, want > 0", resp.Duration)
	}
	if diff := cmp.Diff(http.Header{"Content-Type": {"application/json"}, "Webhook-Id": {"msg_1"}}, hdr); diff != "" {
		t.Errorf("caller's headers were modified (-want +got):\n%s", diff)
	}
}

// TestDoHTTP2 checks that HTTP/2 is negotiated over TLS with the guarded
// dialer in place.
func TestDoHTTP2(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "HTTP/%d", r.ProtoMajor)
	}))
	ts.EnableHTTP2 = true
	ts.StartTLS()
	t.Cleanup(ts.Close)
	c := newTestClient(t, "127.0.0.1/32")
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	c.transport.TLSClientConfig.RootCAs = pool // before first use

	for range 2 {
		resp, err := c.Do(context.Background(), Request{URL: ts.URL, Body: []byte("{}")})
		if err != nil {
			t.Fatalf("Do: %v", err)
		}
		if got := string(resp.Body); got != "HTTP/2" {
			t.Errorf("server saw %s, want HTTP/2", got)
		}
	}
}

func TestDoCustomUserAgentKept(t *testing.T) {
	got := make(chan string, 1)
	ts, _ := startServerOn(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.UserAgent()
	}))
	c := newTestClient(t, "127.0.0.1/32")
	if _, err := c.Do(context.Background(), Request{URL: ts.URL, Headers: http.Header{"User-Agent": {"partner/2"}}}); err != nil {
		t.Fatalf("Do: %v", err)
	}
	if ua := <-got; ua != "partner/2" {
		t.Errorf("User-Agent = %q, want partner/2", ua)
	}
}

func TestDoBodyCap(t *testing.T) {
	tests := []struct {
		name          string
		size          int
		chunked       bool
		wantLen       int
		wantTruncated bool
	}{
		{name: "empty", size: 0, wantLen: 0},
		{name: "small", size: 10, wantLen: 10},
		{name: "exactly MaxBody", size: MaxBody, wantLen: MaxBody},
		{name: "exactly MaxBody chunked", size: MaxBody, chunked: true, wantLen: MaxBody},
		{name: "MaxBody+1", size: MaxBody + 1, wantLen: MaxBody, wantTruncated: true},
		{name: "200 KiB", size: 200 << 10, wantLen: MaxBody, wantTruncated: true},
		{name: "200 KiB chunked", size: 200 << 10, chunked: true, wantLen: MaxBody, wantTruncated: true},
		{name: "3 MiB", size: 3 << 20, wantLen: MaxBody, wantTruncated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := bytes.Repeat([]byte("0123456789abcdef"), tt.size/16+1)[:tt.size]
			ts, _ := startServerOn(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !tt.chunked {
					w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
				}
				for p := payload; len(p) > 0; {
					n := min(len(p), 4096)
					w.Write(p[:n])
					if tt.chunked {
						w.(http.Flusher).Flush()
					}
					p = p[n:]
				}
			}))
			c := newTestClient(t, "127.0.0.1/32")
			resp, err := c.Do(context.Background(), Request{URL: ts.URL})
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if len(resp.Body) != tt.wantLen || resp.Truncated != tt.wantTruncated {
				t.Errorf("len(Body), Truncated = %d, %v; want %d, %v", len(resp.Body), resp.Truncated, tt.wantLen, tt.wantTruncated)
			}
			if !bytes.Equal(resp.Body, payload[:len(resp.Body)]) {
				t.Errorf("Body is not a prefix of what the server sent")
			}
		})
	}
}

// TestDoConnectionReuse checks that a truncated body is drained so the
// connection returns to the pool, unless it is too long to drain.
func TestDoConnectionReuse(t *testing.T) {
	tests := []struct {
		name      string
		size      int
		wantConns int64
	}{
		{name: "small body", size: 100, wantConns: 1},
		{name: "200 KiB body is drained", size: 200 << 10, wantConns: 1},
		{name: "body beyond the drain limit closes the connection", size: MaxBody + maxDrain + 1<<20, wantConns: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := bytes.Repeat([]byte("x"), tt.size)
			var conns atomic.Int64
			ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Write(payload)
			}))
			ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			ts.Start()
			t.Cleanup(ts.Close)
			c := newTestClient(t, "127.0.0.1/32")
			for range 3 {
				if _, err := c.Do(context.Background(), Request{URL: ts.URL}); err != nil {
					t.Fatalf("Do: %v", err)
				}
			}
			if got := conns.Load(); got != tt.wantConns {
				t.Errorf("server saw %d connections, want %d", got, tt.wantConns)
			}
		})
	}
}

func TestDoRedirectNotFollowed(t *testing.T) {
	var targetHits atomic.Int64
	target, _ := startServerOn(t, "127.0.0.1:0", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		targetHits.Add(1)
	}))
	redirector, _ := startServerOn(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/elsewhere", http.StatusFound)
	}))
	c := newTestClient(t, "127.0.0.1/32")
	resp, err := c.Do(context.Background(), Request{URL: redirector.URL, Body: []byte("{}")})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if resp.Status != http.StatusFound {
		t.Errorf("Status = %d, want 302", resp.Status)
	}
	if got, want := resp.Headers.Get("Location"), target.URL+"/elsewhere"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if n := targetHits.Load(); n != 0 {
		t.Errorf("redirect target was hit %d times", n)
	}
}

// TestDoErrors checks the class of each way an attempt can fail without a
// status. Every target is on loopback; names go to the fake DNS server.
func TestDoErrors(t *testing.T) {
	release := make(chan struct{})
	slow, _ := startServerOn(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The server notices a client hang-up only once the body is read.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	reset, _ := startServerOn(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		if err := conn.(*net.TCPConn).SetLinger(0); err != nil {
			t.Errorf("SetLinger: %v", err)
		}
		conn.Close()
	}))
	tlsServer := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tlsServer.Config.ErrorLog = log.New(io.Discard, "", 0) // the expected handshake failure
	tlsServer.StartTLS()
	t.Cleanup(tlsServer.Close)
	plain, _ := startServerOn(t, "127.0.0.1:0", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().(*net.TCPAddr).Port
	l.Close()

	tests := []struct {
		name    string
		url     string
		timeout time.Duration
		want    Class
		wantIs  error
	}{
		{name: "timeout", url: slow.URL, timeout: 200 * time.Millisecond, want: ClassTimeout, wantIs: context.DeadlineExceeded},
		{name: "connection refused", url: fmt.Sprintf("http://127.0.0.1:%d/", closedPort), want: ClassConnectionRefused},
		{name: "connection reset", url: reset.URL, want: ClassConnectionReset},
		{name: "untrusted certificate", url: tlsServer.URL, want: ClassTLS},
		{name: "https to a plain HTTP server", url: strings.Replace(plain.URL, "http:", "https:", 1), want: ClassTLS},
		{name: "dns nxdomain", url: "http://nonexistent.invalid/hook", want: ClassDNS},
		{name: "blocked literal", url: "http://127.0.0.2:9/", want: ClassBlockedTarget, wantIs: ErrBlockedTarget},
		{name: "invalid url", url: "ftp://127.0.0.1/", want: ClassInvalidURL, wantIs: ErrInvalidURL},
		{name: "userinfo", url: "http://u:p@127.0.0.1/", want: ClassInvalidURL, wantIs: ErrInvalidURL},
	}
	c := newTestClient(t, "127.0.0.1/32")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.Do(context.Background(), Request{URL: tt.url, Body: []byte("{}"), Timeout: tt.timeout})
			if err == nil {
				t.Fatalf("Do: got status %d, want an error", resp.Status)
			}
			t.Logf("error: %v", err)
			if got := ClassOf(err); got != tt.want {
				t.Errorf("ClassOf(%v) = %q, want %q", err, got, tt.want)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			if resp.Status != 0 {
				t.Errorf("Status = %d with an error", resp.Status)
			}
		})
	}
}

func TestDoTimeoutCoversBody(t *testing.T) {
	release := make(chan struct{})
	ts, _ := startServerOn(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	c := newTestClient(t, "127.0.0.1/32")
	start := time.Now()
	resp, err := c.Do(context.Background(), Request{URL: ts.URL, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatalf("Do: %v (a status was obtained, so no error is expected)", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Do took %v despite a 300ms timeout", elapsed)
	}
	type view struct {
		Status    int
		Body      string
		Truncated bool
	}
	if diff := cmp.Diff(view{Status: 202, Body: "partial", Truncated: true}, view{resp.Status, string(resp.Body), resp.Truncated}); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

// TestDoBlockedTargetSendsNothing checks that a refused address is refused
// before connect(2): the server bound there never accepts a connection. The
// allowed request sent afterwards proves the server was reachable and, the
// accept queue being FIFO, that no earlier connection is pending.
func TestDoBlockedTargetSendsNothing(t *testing.T) {
	var hits atomic.Int64
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) })
	tests := []struct {
		name    string
		bind    string
		url     func(port string) string
		blocked []string // allow list of the client that must be refused
		allowed []string // allow list of the client that then succeeds
	}{
		{
			name:    "literal 127.0.0.2 with 127.0.0.1 allowed",
			bind:    "127.0.0.2:0",
			url:     func(p string) string { return "http://127.0.0.2:" + p + "/hook" },
			blocked: []string{"127.0.0.1/32"},
			allowed: []string{"127.0.0.2/32"},
		},
		{
			name:    "IPv4-mapped literal",
			bind:    "127.0.0.2:0",
			url:     func(p string) string { return "http://[::ffff:127.0.0.2]:" + p + "/hook" },
			blocked: []string{"127.0.0.1/32", "::1/128"},
			allowed: []string{"::ffff:127.0.0.2/128"},
		},
		{
			name:    "name resolving to a blocked address",
			bind:    "127.0.0.2:0",
			url:     func(p string) string { return "http://rebind.test:" + p + "/hook" },
			blocked: []string{"127.0.0.1/32"},
			allowed: []string{"127.0.0.0/8"},
		},
		{
			name:    "localhost without allow list",
			bind:    "127.0.0.1:0",
			url:     func(p string) string { return "http://localhost:" + p + "/hook" },
			blocked: nil,
			allowed: []string{"127.0.0.0/8", "::1/128"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits.Store(0)
			ts, cl := startServerOn(t, tt.bind, h)
			_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
			target := tt.url(port)

			_, err := newTestClient(t, tt.blocked...).Do(context.Background(), Request{URL: target, Body: []byte("{}")})
			if !errors.Is(err, ErrBlockedTarget) || ClassOf(err) != ClassBlockedTarget {
				t.Fatalf("Do = %v (class %q), want ErrBlockedTarget", err, ClassOf(err))
			}
			resp, err := newTestClient(t, tt.allowed...).Do(context.Background(), Request{URL: target, Body: []byte("{}")})
			if err != nil || resp.Status != http.StatusOK {
				t.Fatalf("allowed Do = %d, %v; want 200", resp.Status, err)
			}
			if got := [2]int64{cl.accepted.Load(), hits.Load()}; got != [2]int64{1, 1} {
				t.Errorf("server accepted %d connections and %d requests, want 1 and 1 (the allowed one)", got[0], got[1])
			}
		})
	}
}

func TestClassOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{name: "nil", err: nil, want: ClassNone},
		{name: "blocked", err: fmt.Errorf("dial: %w", ErrBlockedTarget), want: ClassBlockedTarget},
		{name: "invalid url", err: fmt.Errorf("x: %w", ErrInvalidURL), want: ClassInvalidURL},
		{name: "deadline", err: fmt.Errorf("x: %w", context.DeadlineExceeded), want: ClassTimeout},
		{name: "dns", err: &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}, want: ClassDNS},
		{name: "unexpected EOF", err: fmt.Errorf("x: %w", io.ErrUnexpectedEOF), want: ClassConnectionReset},
		{name: "cancelled", err: fmt.Errorf("x: %w", context.Canceled), want: ClassNetwork},
		{name: "other", err: errors.New("something else"), want: ClassNetwork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClassOf(tt.err); got != tt.want {
				t.Errorf("ClassOf(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestDoErrorOmitsQuery(t *testing.T) {
	c := newTestClient(t)
	_, err := c.Do(context.Background(), Request{URL: "http://127.0.0.2:9/hook?token=s3cret"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Do error = %v, want an error without the query string", err)
	}
}
