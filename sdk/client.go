package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults used by NewClient unless an Option says otherwise.
const (
	// DefaultUserAgent is sent as User-Agent unless WithUserAgent replaces it.
	DefaultUserAgent = "hookgate-go-sdk/1"
	// DefaultRetries is how many times an idempotent request is retried
	// after a retryable failure (so at most DefaultRetries+1 attempts).
	DefaultRetries = 3
	// DefaultMinBackoff is the delay before the first retry (before jitter).
	DefaultMinBackoff = 250 * time.Millisecond
	// DefaultMaxBackoff caps the exponential backoff between retries.
	DefaultMaxBackoff = 10 * time.Second
	// DefaultTimeout bounds each attempt of a call unless WithTimeout says
	// otherwise; streamed exports are bounded by the caller's context only.
	DefaultTimeout = 30 * time.Second
	// MaxRetryAfter caps how long a Retry-After header can make the client
	// wait before a retry.
	MaxRetryAfter = 5 * time.Minute

	// maxErrorBody bounds how much of an error response is read.
	maxErrorBody = 1 << 20
	// maxResponseBody bounds how much of a success response is read.
	maxResponseBody = 64 << 20
)

// Client calls the hookgate API. Create one with NewClient and share it: it
// is safe for concurrent use. Every method takes a context, which bounds the
// whole call including retries.
type Client struct {
	baseURL    string
	token      string
	http       *http.Client
	userAgent  string
	maxRetries int
	minBackoff time.Duration
	maxBackoff time.Duration
	timeout    time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests through hc (for a custom
// transport, proxy or timeout). A nil hc keeps the default.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// WithTimeout bounds each attempt of a call (default DefaultTimeout); an
// attempt that times out counts as a network error and is retried when the
// call is idempotent. 0 leaves only the context's deadline. It does not
// apply to ExportDeliveries, whose stream may take as long as the context
// allows.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) { c.timeout = max(d, 0) }
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// WithRetries sets how many times a retryable request is retried (0 turns
// retries off). Negative values count as 0.
func WithRetries(n int) Option {
	return func(c *Client) { c.maxRetries = max(n, 0) }
}

// WithBackoff sets the delay before the first retry and the cap of the
// exponential backoff. Each delay is drawn at random between half and all of
// min·2^n (capped at max), so that many clients do not retry in step.
func WithBackoff(minDelay, maxDelay time.Duration) Option {
	return func(c *Client) {
		if minDelay > 0 {
			c.minBackoff = minDelay
		}
		if maxDelay > 0 {
			c.maxBackoff = maxDelay
		}
		if c.maxBackoff < c.minBackoff {
			c.maxBackoff = c.minBackoff
		}
	}
}

// NewClient returns a client for the hookgate API at baseURL (such as
// "https://hookgate.example.com") that authenticates with token: a partner
// or admin API key ("hg_…"), a source key, or an access token from Login.
// token may be empty for the public operations (Signup, Login, Health).
func NewClient(baseURL, token string, opts ...Option) *Client {
	c := &Client{
		baseURL:    strings.TrimRight(strings.TrimSpace(baseURL), "/"),
		token:      token,
		http:       &http.Client{Transport: defaultTransport()},
		userAgent:  DefaultUserAgent,
		maxRetries: DefaultRetries,
		minBackoff: DefaultMinBackoff,
		maxBackoff: DefaultMaxBackoff,
		timeout:    DefaultTimeout,
	}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// defaultTransport is http.DefaultTransport with a bound on the wait for
// response headers, so that a stalled server cannot hang a stream.
func defaultTransport() http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport
	}
	t = t.Clone()
	t.ResponseHeaderTimeout = DefaultTimeout
	return t
}

// WithToken returns a copy of the client that authenticates with token
// instead, sharing the HTTP client and options; for example with the
// access token Login returns.
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.token = token
	return &cp
}

// BaseURL returns the API address the client calls.
func (c *Client) BaseURL() string { return c.baseURL }

// request describes one API call.
type request struct {
	method string
	path   string // already escaped
	query  url.Values
	body   any // encoded as JSON unless nil; []byte is sent as is
	header http.Header
	// retry marks the call as safe to repeat: idempotent methods, and POSTs
	// made idempotent by a key.
	retry bool
	// public calls send no Authorization header.
	public bool
}

// get builds a GET request, which is retried.
func get(path string, q url.Values) request {
	return request{method: http.MethodGet, path: path, query: q, retry: true}
}

// del builds a DELETE request, which is retried.
func del(path string) request {
	return request{method: http.MethodDelete, path: path, retry: true}
}

// post builds a POST request, which is not retried.
func post(path string, body any) request {
	return request{method: http.MethodPost, path: path, body: body}
}

// patch builds a PATCH request, which is not retried.
func patch(path string, body any) request {
	return request{method: http.MethodPatch, path: path, body: body}
}

// pathf builds a path, escaping each argument as one path segment.
func pathf(format string, ids ...string) string {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = url.PathEscape(id)
	}
	return fmt.Sprintf(format, args...)
}

// do sends req, retrying when that is safe, and decodes a 2xx JSON answer
// into out (unless out is nil; a *[]byte gets the raw body and a
// *io.ReadCloser the unread stream). Any other answer becomes an *APIError.
func (c *Client) do(ctx context.Context, req request, out any) error {
	op := req.method + " " + req.path
	var body []byte
	switch b := req.body.(type) {
	case nil:
	case []byte:
		body = b
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return fmt.Errorf("sdk: %s: encode request: %w", op, err)
		}
		body = enc
	}
	u := c.baseURL + req.path
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
	}
	for attempt := 0; ; attempt++ {
		wait, err := c.once(ctx, req, u, body, out)
		if err == nil {
			return nil
		}
		if !req.retry || attempt >= c.maxRetries || !retryable(ctx, err) {
			return wrapOp(op, err)
		}
		if wait <= 0 {
			wait = c.backoff(attempt)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			// Waiting would outlive the caller's deadline: report the
			// failure now rather than a bare deadline error later.
			return wrapOp(op, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("sdk: %s: %w (while waiting to retry after: %w)", op, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// wrapOp prefixes err with the operation; an *APIError is returned as it
// is (it names the request path itself).
func wrapOp(op string, err error) error {
	if ae, ok := err.(*APIError); ok {
		return ae
	}
	return fmt.Errorf("sdk: %s: %w", op, err)
}

// once makes one HTTP request. wait is the server's Retry-After, if any.
func (c *Client) once(ctx context.Context, req request, u string, body []byte, out any) (wait time.Duration, err error) {
	if _, streaming := out.(*io.ReadCloser); !streaming && c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u, rd)
	if err != nil {
		return 0, err
	}
	for k, vs := range req.header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	if hr.Header.Get("Accept") == "" {
		hr.Header.Set("Accept", "application/json, application/problem+json")
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if c.userAgent != "" {
		hr.Header.Set("User-Agent", c.userAgent)
	}
	if c.token != "" && !req.public {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		return 0, err
	}
	if rc, ok := out.(*io.ReadCloser); ok && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		*rc = resp.Body // the caller reads and closes the stream
		return 0, nil
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		ae := parseAPIError(resp, raw)
		return ae.RetryAfter, ae
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return 0, nil
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return 0, fmt.Errorf("read response: %w", err)
	}
	if b, ok := out.(*[]byte); ok {
		*b = raw
		return 0, nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		// A 2xx answer that is not what the API documents: retrying will
		// not help, so this is not a network error.
		return 0, &decodeError{status: resp.StatusCode, err: err}
	}
	return 0, nil
}

// stream sends req like do and hands over the body of a 2xx answer
// unread; the caller must close it. Retries happen only before a body is
// handed over.
func (c *Client) stream(ctx context.Context, req request) (io.ReadCloser, error) {
	var rc io.ReadCloser
	if err := c.do(ctx, req, &rc); err != nil {
		return nil, err
	}
	return rc, nil
}

// decodeError is a 2xx response whose body is not the documented JSON.
type decodeError struct {
	status int
	err    error
}

// Error says which response could not be decoded.
func (e *decodeError) Error() string {
	return fmt.Sprintf("decode %d response: %v", e.status, e.err)
}

// Unwrap returns the JSON error.
func (e *decodeError) Unwrap() error { return e.err }

// retryable reports whether a failed attempt may be repeated: a 429, 502,
// 503 or 504 answer, or a network error that is not the caller's own
// cancellation.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		switch ae.Status {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var de *decodeError
	if errors.As(err, &de) {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}

// backoff returns the jittered delay before retry number attempt+1.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.minBackoff
	for i := 0; i < attempt && d < c.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.maxBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), MaxRetryAfter)
}

// Ptr returns a pointer to v, for the optional fields of update requests:
// sdk.EndpointUpdate{Description: sdk.Ptr("orders feed")}.
func Ptr[T any](v T) *T { return &v }
