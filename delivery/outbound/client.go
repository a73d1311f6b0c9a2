package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxBody is the number of response-body bytes kept in a [Response].
const MaxBody = 64 << 10

// Defaults applied by [New] and [Client.Do] to zero-valued settings.
const (
	// DefaultConnectTimeout bounds each TCP connect.
	DefaultConnectTimeout = 5 * time.Second
	// DefaultMaxIdleConnsPerHost is the keep-alive pool size per host.
	DefaultMaxIdleConnsPerHost = 64
	// DefaultUserAgent is sent when a request carries no User-Agent.
	DefaultUserAgent = "hookgate/1"
	// DefaultTimeout bounds a whole attempt (DESIGN.md §6).
	DefaultTimeout = 15 * time.Second
)

// maxDrain bounds how much of a response body beyond MaxBody is read and
// discarded so the connection can go back to the pool; a longer body costs
// the connection instead.
const maxDrain = 1 << 20

// Options configures a Client. The zero value is usable.
type Options struct {
	// AllowTargets lists prefixes exempt from the SSRF guard
	// (HOOKGATE_ALLOW_TARGETS, e.g. 127.0.0.0/8). IPv4-mapped IPv6
	// prefixes are treated as the IPv4 prefix they denote.
	AllowTargets []netip.Prefix
	// ConnectTimeout bounds each TCP connect; 0 means DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// MaxIdleConnsPerHost is the size of the keep-alive pool per host;
	// 0 means DefaultMaxIdleConnsPerHost.
	MaxIdleConnsPerHost int
	// UserAgent is sent when the request headers carry none; "" means
	// DefaultUserAgent.
	UserAgent string
}

// Client delivers webhooks. It is safe for concurrent use and should be
// shared: it holds the connection pool.
type Client struct {
	http      *http.Client
	transport *http.Transport
	guard     *guard
	userAgent []string
}

// New returns a Client configured by o.
func New(o Options) *Client {
	return newClient(o, nil)
}

// newClient is New with a resolver override for tests (nil means the
// default resolver).
func newClient(o Options, resolver *net.Resolver) *Client {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	g := newGuard(o.AllowTargets)
	dialer := &net.Dialer{
		Timeout:   o.ConnectTimeout,
		KeepAlive: 30 * time.Second,
		Resolver:  resolver,
		Control:   g.control,
	}
	t := &http.Transport{
		// No Proxy: a proxy would make the guard check the proxy's
		// address instead of the target's.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    10 * time.Second,
		MaxIdleConns:           0, // no global cap; IdleConnTimeout reaps them
		MaxIdleConnsPerHost:    o.MaxIdleConnsPerHost,
		IdleConnTimeout:        90 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		// Send exactly the headers we log: no implicit Accept-Encoding.
		DisableCompression: true,
	}
	return &Client{
		http: &http.Client{
			Transport: t,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		transport: t,
		guard:     g,
		userAgent: []string{o.UserAgent},
	}
}

// CloseIdleConnections closes pooled connections that are not in use; call it
// on shutdown.
func (c *Client) CloseIdleConnections() {
	c.transport.CloseIdleConnections()
}

// Request is one webhook POST.
type Request struct {
	// URL is the absolute http or https target.
	URL string
	// Headers are sent as given (content type and signature headers
	// included); they are not modified. A User-Agent is added if absent.
	Headers http.Header
	// Body is the request body.
	Body []byte
	// Timeout bounds the whole attempt, from DNS to the last body byte
	// read; 0 means DefaultTimeout.
	Timeout time.Duration
}

// Response is what came back from the endpoint.
type Response struct {
	// Status is the HTTP status code; 0 when no status was obtained.
	Status int
	// Headers are the response headers.
	Headers http.Header
	// Body holds the first MaxBody bytes of the response body.
	Body []byte
	// Truncated reports that Body is not the whole body: it was longer
	// than MaxBody, or reading it failed after the status arrived.
	Truncated bool
	// Duration is the time from sending to the end of reading Body (or to
	// the failure).
	Duration time.Duration
}

// Do POSTs r and reads the response. A non-nil error means no HTTP status was
// obtained; its class is ClassOf(err), and the Response still carries the
// Duration. A status of any value (including 3xx, 4xx, 5xx) is not an error:
// redirects are returned, never followed.
func (c *Client) Do(ctx context.Context, r Request) (Response, error) {
	start := time.Now()
	u, err := parseTarget(r.URL)
	if err != nil {
		return Response{}, err
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	// The URL is already parsed: build on an empty request rather than
	// parsing it a second time.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "", nil)
	if err != nil {
		return Response{}, fmt.Errorf("outbound: new request: %w", err)
	}
	req.URL = u
	req.Host = u.Host
	req.Header = c.header(r.Headers)
	req.ContentLength = int64(len(r.Body))
	if len(r.Body) > 0 {
		body := r.Body
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(body)), nil
		}
	} else {
		req.Body = http.NoBody
		req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return Response{Duration: time.Since(start)}, fmt.Errorf("outbound: POST %s: %w", redact(u), unwrapURLError(err))
	}
	defer resp.Body.Close()

	body, complete := readCapped(resp.Body, resp.ContentLength)
	if complete {
		// Leave the connection clean for reuse; bounded, and bounded in
		// time by ctx.
		_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	}
	truncated := len(body) > MaxBody || !complete
	if len(body) > MaxBody {
		body = body[:MaxBody:MaxBody]
	}
	return Response{
		Status:    resp.StatusCode,
		Headers:   resp.Header,
		Body:      body,
		Truncated: truncated,
		Duration:  time.Since(start),
	}, nil
}

// header returns the headers to send: h plus a User-Agent when h has none.
// h itself is never modified; value slices are shared, which is safe because
// the transport only reads them.
func (c *Client) header(h http.Header) http.Header {
	if len(h["User-Agent"]) > 0 {
		return h
	}
	out := make(http.Header, len(h)+1)
	maps.Copy(out, h)
	out["User-Agent"] = c.userAgent
	return out
}

// readCapped reads up to MaxBody+1 bytes of r. complete is false when a read
// failed before the body (or the cap) was reached.
func readCapped(r io.Reader, contentLength int64) (body []byte, complete bool) {
	size := 512
	if contentLength >= 0 {
		size = int(min(contentLength, MaxBody)) + 1
	}
	buf := make([]byte, 0, size)
	for len(buf) <= MaxBody {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), MaxBody+1)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, true
		}
		if err != nil {
			return buf, false
		}
	}
	return buf, true
}

// parseTarget parses and validates a target URL without looking at its host's
// addresses.
func parseTarget(raw string) (*url.URL, error) {
	invalid := func(reason string) error {
		return fmt.Errorf("outbound: %w: %s", ErrInvalidURL, reason)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, invalid(ue.Err.Error())
		}
		return nil, invalid("not a valid URL")
	}
	switch {
	case u.Scheme == "":
		return nil, invalid("must be an absolute URL such as https://example.com/webhook")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, invalid("scheme must be http or https")
	case u.Opaque != "":
		return nil, invalid("must be an absolute URL such as https://example.com/webhook")
	case u.User != nil:
		return nil, invalid("must not contain a user name or password")
	case u.Hostname() == "":
		return nil, invalid("host is missing")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, invalid("port must be between 1 and 65535")
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, invalid("port is empty")
	}
	return u, nil
}

// redact renders u without query or fragment, which may carry secrets.
func redact(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// unwrapURLError strips the *url.Error added by net/http, whose message
// repeats the full URL (query included).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
