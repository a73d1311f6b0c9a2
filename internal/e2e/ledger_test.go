package e2e

// Helpers shared by the fault and scale-out tests: an API client for
// gateways running as child processes, a receiver that tallies what it got
// per event, a producer that posts events and retries refusals with the
// same idempotency key (as a well-behaved source does), and readers of the
// delivery log.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/apptest"
)

// gatewayAPI is what the setup helpers need: *apptest.Gateway and
// *apiClient both have it.
type gatewayAPI interface {
	Do(method, path, token string, body any) apptest.Response
	Must(want int, method, path, token string, body any) apptest.Response
}

var (
	_ gatewayAPI = (*apptest.Gateway)(nil)
	_ gatewayAPI = (*apiClient)(nil)
)

// apiClient drives a gateway at URL (a child process). Like
// apptest.Gateway.Do, every answer is checked against openapi.yaml. Use it
// from the test goroutine only.
type apiClient struct {
	t    testing.TB
	URL  string
	HTTP *http.Client
}

func newAPIClient(t testing.TB, url string) *apiClient {
	return &apiClient{t: t, URL: url, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Do sends a request; body may be nil, []byte, string or a value to encode.
func (c *apiClient) Do(method, path, token string, body any) apptest.Response {
	c.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			c.t.Fatal(err)
		}
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = c.URL + path
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := apptest.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	if apptest.ResponseCheck != nil {
		apptest.ResponseCheck(c.t, req, raw, r)
	}
	return r
}

// Must sends a request and fails unless the status is want.
func (c *apiClient) Must(want int, method, path, token string, body any) apptest.Response {
	c.t.Helper()
	r := c.Do(method, path, token, body)
	if r.Status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// newPartnerVia creates an active partner with a key through any gateway.
func newPartnerVia(t testing.TB, g gatewayAPI, name string) apptest.Partner {
	t.Helper()
	p := g.Must(201, "POST", "/v1/admin/partners", apptest.AdminToken, map[string]any{
		"name": name, "email": strings.ToLower(strings.ReplaceAll(name, " ", "")) + "@example.com",
	}).Map(t)
	id := p["id"].(string)
	g.Must(200, "PATCH", "/v1/admin/partners/"+id, apptest.AdminToken, map[string]any{"status": "active"})
	k := g.Must(201, "POST", "/v1/admin/partners/"+id+"/api-keys", apptest.AdminToken, map[string]any{"name": "test"}).Map(t)
	return apptest.Partner{ID: id, Key: k["key"].(string)}
}

// newEndpointVia subscribes url to patterns; extra fields are merged in.
func newEndpointVia(t testing.TB, g gatewayAPI, p apptest.Partner, url string, patterns []string, extra map[string]any) apptest.Endpoint {
	t.Helper()
	body := map[string]any{"url": url, "event_types": patterns}
	for k, v := range extra {
		body[k] = v
	}
	e := g.Must(201, "POST", "/v1/endpoints", p.Key, body).Map(t)
	return apptest.Endpoint{ID: e["id"].(string), Secret: e["secret"].(string)}
}

// hookHit is one request a hookReceiver got.
type hookHit struct {
	Start, End time.Time
	// Finished is false when the handler saw the connection go away
	// before it answered (client timeout, killed sender).
	Finished bool
}

// hookReceiver is a local webhook receiver that tallies requests by
// webhook-id (the event id). behave writes the answer; nil answers 204.
type hookReceiver struct {
	URL      string
	srv      *httptest.Server
	behave   func(n int, w http.ResponseWriter, r *http.Request)
	mu       sync.Mutex
	n        int
	hits     map[string][]hookHit
	inflight atomic.Int64
}

func newHookReceiver(t testing.TB, behave func(n int, w http.ResponseWriter, r *http.Request)) *hookReceiver {
	t.Helper()
	rc := &hookReceiver{behave: behave, hits: map[string][]hookHit{}}
	rc.srv = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc.srv.Listener = ln
	rc.srv.Start()
	rc.URL = rc.srv.URL
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rc.inflight.Add(1)
	defer rc.inflight.Add(-1)
	_, _ = io.Copy(io.Discard, r.Body)
	id := r.Header.Get("webhook-id")
	rc.mu.Lock()
	rc.n++
	n := rc.n
	idx := len(rc.hits[id])
	rc.hits[id] = append(rc.hits[id], hookHit{Start: start})
	rc.mu.Unlock()
	if rc.behave != nil {
		rc.behave(n, w, r)
	} else {
		w.WriteHeader(http.StatusNoContent)
	}
	finished := r.Context().Err() == nil
	rc.mu.Lock()
	rc.hits[id][idx].End, rc.hits[id][idx].Finished = time.Now(), finished
	rc.mu.Unlock()
}

// total is the number of requests received.
func (rc *hookReceiver) total() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.n
}

// snapshot copies the hits per event id.
func (rc *hookReceiver) snapshot() map[string][]hookHit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make(map[string][]hookHit, len(rc.hits))
	for k, v := range rc.hits {
		out[k] = append([]hookHit(nil), v...)
	}
	return out
}

// delivered reports whether hs holds a request the receiver answered
// (one cut off by a timeout or a dead sender does not count).
func delivered(hs []hookHit) bool {
	for _, h := range hs {
		if h.Finished {
			return true
		}
	}
	return false
}

// missing counts the events of ids the receiver has not answered yet.
func (rc *hookReceiver) missing(ids []string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	m := 0
	for _, id := range ids {
		if !delivered(rc.hits[id]) {
			m++
		}
	}
	return m
}

// slow answers 204 after d, or gives up when the sender goes away.
func slow(d time.Duration) func(int, http.ResponseWriter, *http.Request) {
	return func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// producer posts canonical events (POST /v1/events with the admin token)
// to the gateways at bases, round-robin, conc at a time. A refused post
// (any answer but 202, or a transport error) is retried with the same
// idempotency key until accepted or until the deadline.
type producer struct {
	bases []string
	conc  int
	typ   string
	// pace, when set, is waited between two posts of one sender.
	pace time.Duration
}

// produced is what a producer run did.
type produced struct {
	ids      []string // accepted event ids, one per key
	posts    int      // requests sent
	refused  int      // posts not answered 202 (retried)
	firstErr time.Time
	lastErr  time.Time
	errs     map[string]int // refusal kinds
	took     time.Duration
	lost     int // keys never accepted before the deadline
}

// run posts n events. progress, when set, is incremented per accepted
// event. It is safe to call from any goroutine: it reports, never fails
// the test.
func (p producer) run(n int, deadline time.Duration, progress *atomic.Int64) produced {
	start := time.Now()
	stop := start.Add(deadline)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: p.conc}}
	defer client.CloseIdleConnections()
	var (
		next atomic.Int64
		mu   sync.Mutex
		res  = produced{errs: map[string]int{}}
		ids  = make([]string, n)
		wg   sync.WaitGroup
	)
	refuse := func(kind string) {
		mu.Lock()
		defer mu.Unlock()
		res.refused++
		res.errs[kind]++
		now := time.Now()
		if res.firstErr.IsZero() {
			res.firstErr = now
		}
		res.lastErr = now
	}
	for w := 0; w < p.conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				key := fmt.Sprintf("evt-%d-%d", start.UnixNano(), i)
				body, _ := json.Marshal(map[string]any{
					"type": p.typ, "idempotency_key": key,
					"data": map[string]any{"id": i + 1, "amount": float64(i) + 0.5},
				})
				base := p.bases[i%len(p.bases)]
				for attempt := 0; ; attempt++ {
					if time.Now().After(stop) {
						break
					}
					mu.Lock()
					res.posts++
					mu.Unlock()
					req, _ := http.NewRequest("POST", base+"/v1/events", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+apptest.AdminToken)
					resp, err := client.Do(req)
					if err != nil {
						refuse("transport")
						time.Sleep(100 * time.Millisecond)
						continue
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						refuse(strconv.Itoa(resp.StatusCode))
						time.Sleep(100 * time.Millisecond)
						continue
					}
					var out struct {
						ID string `json:"id"`
					}
					if json.Unmarshal(b, &out) != nil || out.ID == "" {
						refuse("bad body")
						continue
					}
					ids[i] = out.ID
					if progress != nil {
						progress.Add(1)
					}
					break
				}
				if p.pace > 0 {
					time.Sleep(p.pace)
				}
			}
		}()
	}
	wg.Wait()
	res.took = time.Since(start)
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "" {
			res.lost++
			continue
		}
		if !seen[id] {
			seen[id] = true
			res.ids = append(res.ids, id)
		}
	}
	return res
}

// logDelivery is a delivery as the log lists it.
type logDelivery struct {
	ID         string `json:"id"`
	EventID    string `json:"event_id"`
	EndpointID string `json:"endpoint_id"`
	Status     string `json:"status"`
	Attempts   int    `json:"attempts"`
	LastError  string `json:"last_error"`
}

// logAttempt is an attempt as the log lists it.
type logAttempt struct {
	ID         string    `json:"id"`
	DeliveryID string    `json:"delivery_id"`
	Number     int       `json:"number"`
	Trigger    string    `json:"trigger"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS float64   `json:"duration_ms"`
	ErrorClass string    `json:"error_class"`
	Error      string    `json:"error"`
	Response   *struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	} `json:"response"`
}

// logReader reads a partner's delivery log in bulk, concurrently, without
// the contract check (the contract of these routes is checked by the
// tests that call them through apptest).
type logReader struct {
	base string
	key  string
	http *http.Client
}

func newLogReader(base, key string) *logReader {
	return &logReader{base: base, key: key, http: &http.Client{
		Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8},
	}}
}

// get reads one page; a 429 is waited out as its Retry-After says (a few
// times at most).
func (l *logReader) get(path string, v any) error {
	for try := 0; ; try++ {
		req, _ := http.NewRequest("GET", l.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+l.key)
		resp, err := l.http.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && try < 5 {
			secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(secs, 1)) * time.Second)
			continue
		}
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return json.Unmarshal(b, v)
	}
}

// deliveries lists every delivery of the partner (all pages).
func (l *logReader) deliveries(t testing.TB) []logDelivery {
	t.Helper()
	var all []logDelivery
	cursor := ""
	for {
		var page struct {
			Data       []logDelivery `json:"data"`
			NextCursor *string       `json:"next_cursor"`
		}
		path := "/v1/deliveries?limit=200"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := l.get(path, &page); err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Data...)
		if page.NextCursor == nil || *page.NextCursor == "" {
			return all
		}
		cursor = *page.NextCursor
	}
}

// attempts reads the attempt log of each delivery, conc at a time, sorted
// by attempt number.
func (l *logReader) attempts(t testing.TB, ds []logDelivery, conc int) map[string][]logAttempt {
	t.Helper()
	out := make(map[string][]logAttempt, len(ds))
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		next atomic.Int64
		errs []error
	)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ds) {
					return
				}
				var page struct {
					Data []logAttempt `json:"data"`
				}
				err := l.get("/v1/deliveries/"+ds[i].ID+"/attempts", &page)
				sort.Slice(page.Data, func(a, b int) bool { return page.Data[a].Number < page.Data[b].Number })
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				out[ds[i].ID] = page.Data
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d attempt log reads failed, first: %v", len(errs), errs[0])
	}
	return out
}

// accounting compares what receivers saw with what the log says.
type accounting struct {
	events      int // accepted events
	deliveries  int // deliveries in the log
	succeeded   int
	hits        int // requests the receivers got
	duplicates  int // requests beyond the first per (event, endpoint)
	attempts    int // attempts in the log
	unlogged    int // receiver hits with no attempt in the log
	missing     int // (event, endpoint) pairs the receiver never answered
	dupPairs    []string
	notLoggedOK []string // deliveries whose hits are fewer than logged attempts
	// dupDeliveries are the deliveries a receiver got more than once.
	dupDeliveries []logDelivery
	// resent lists deliveries with more than one successful attempt in the
	// log: attempted again although already delivered (with attempt rows
	// only).
	resent []string
}

func (a accounting) String() string {
	return fmt.Sprintf("events accepted %d, deliveries %d (succeeded %d), receiver hits %d, duplicates %d, attempts logged %d, hits not in the log %d, missing %d, delivered again after success %d",
		a.events, a.deliveries, a.succeeded, a.hits, a.duplicates, a.attempts, a.unlogged, a.missing, len(a.resent))
}

// account matches the log against the receivers (by endpoint id). A
// delivery's attempts are its rows in atts when present there, else its
// attempt counter (atts may be nil).
func account(events []string, ds []logDelivery, atts map[string][]logAttempt, rcv map[string]*hookReceiver) accounting {
	a := accounting{events: len(events), deliveries: len(ds)}
	snaps := map[string]map[string][]hookHit{}
	for ep, rc := range rcv {
		snaps[ep] = rc.snapshot()
		for _, hs := range snaps[ep] {
			a.hits += len(hs)
		}
	}
	for _, d := range ds {
		if d.Status == "succeeded" {
			a.succeeded++
		}
		logged := d.Attempts
		if as, ok := atts[d.ID]; ok {
			logged = len(as)
			ok := 0
			for _, at := range as {
				if at.ErrorClass == "" && at.Response != nil && at.Response.Status/100 == 2 {
					ok++
				}
			}
			if ok > 1 {
				a.resent = append(a.resent, fmt.Sprintf("%s: %d successful attempts of %d", d.ID, ok, logged))
			}
		}
		a.attempts += logged
		hs := snaps[d.EndpointID][d.EventID]
		got := len(hs)
		if !delivered(hs) {
			a.missing++
		}
		if got > 1 {
			a.dupDeliveries = append(a.dupDeliveries, d)
			a.duplicates += got - 1
			a.dupPairs = append(a.dupPairs, fmt.Sprintf("%s→%s ×%d (logged %d)", d.EventID, d.EndpointID, got, logged))
		}
		if got > logged {
			a.unlogged += got - logged
		}
		if got < logged {
			a.notLoggedOK = append(a.notLoggedOK, fmt.Sprintf("%s: %d attempts logged, receiver got %d", d.ID, logged, got))
		}
	}
	return a
}

// checkNoResend fails the test for every delivery attempted again after
// it had succeeded.
func (a accounting) checkNoResend(t testing.TB) {
	t.Helper()
	if len(a.resent) > 0 {
		t.Errorf("%d deliveries were sent again after a successful attempt: %v", len(a.resent), first(a.resent, 5))
	}
}

// waitAll waits until every receiver has every event, reporting progress;
// it returns how long it took.
func waitAll(t testing.TB, timeout time.Duration, ids []string, rcv ...*hookReceiver) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		m := 0
		for _, rc := range rcv {
			m += rc.missing(ids)
		}
		if m == 0 {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %d of %d deliveries never arrived", timeout, m, len(ids)*len(rcv))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitQuiet waits until the receivers have had no new request and none in
// flight for quiet (at most limit), so the log is read after the last
// attempt: a late duplicate is then counted, not missed.
func waitQuiet(t testing.TB, quiet, limit time.Duration, rcv ...*hookReceiver) {
	t.Helper()
	state := func() (int, int64) {
		n, f := 0, int64(0)
		for _, rc := range rcv {
			n += rc.total()
			f += rc.inflight.Load()
		}
		return n, f
	}
	deadline := time.Now().Add(limit)
	last, _ := state()
	since := time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		n, f := state()
		if n != last || f != 0 {
			last, since = n, time.Now()
			continue
		}
		if time.Since(since) >= quiet {
			return
		}
	}
	t.Logf("receivers still busy after %s (%d requests so far)", limit, last)
}
