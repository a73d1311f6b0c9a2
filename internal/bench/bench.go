// Package bench is `hookgate bench`: the end-to-end benchmark. It starts a
// gateway in-process on the configured database and Redis, local receivers,
// creates partners and endpoints through the API, posts Odoo-format bodies
// to the ingest URL from concurrent clients, and measures ingest and
// delivery; in the same run it measures a bare asynq-plus-HTTP baseline on
// the same receivers and reports the ratio.
package bench

import (
	"bytes"
	"database/sql"
	neturl "net/url"

	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	_ "github.com/jackc/pgx/v5/stdlib" // scratch database creation
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate/internal/app"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/crypto"
)

// Options size the run.
type Options struct {
	Events      int           // events in the throughput scenario (steady, 1 endpoint)
	Concurrency int           // concurrent ingest clients in the throughput scenario
	Rate        int           // events/s in the fixed-rate latency scenario
	RateFor     time.Duration // duration of the fixed-rate scenario
	Fanout      int           // endpoints in the fan-out scenario
	FanoutRuns  int           // events in the fan-out scenario
	MixedEvents int           // events in the mixed scenario
	Getenv      func(string) string
	Log         io.Writer // progress lines; nil discards
}

// Defaults finish in well under two minutes on a 2-core machine.
func Defaults() Options {
	return Options{Events: 5000, Concurrency: 32, Rate: 500, RateFor: 10 * time.Second,
		Fanout: 100, FanoutRuns: 10, MixedEvents: 2000}
}

// Result holds the figures; JSON keys are the published contract.
type Result struct {
	Database              string  `json:"database"`
	Events                int     `json:"events"`
	IngestRPS             float64 `json:"ingest_rps"`
	IngestP50ms           float64 `json:"ingest_p50_ms"`
	IngestP99ms           float64 `json:"ingest_p99_ms"`
	DeliveredPerS         float64 `json:"delivered_per_s"`
	E2EP50ms              float64 `json:"e2e_p50_ms"`
	E2EP99ms              float64 `json:"e2e_p99_ms"`
	BaselineDeliveredPerS float64 `json:"baseline_delivered_per_s"`
	Ratio                 float64 `json:"ratio"`
	SteadyRate            int     `json:"steady_rate"`
	SteadyIngestP50ms     float64 `json:"steady_ingest_p50_ms"`
	SteadyIngestP99ms     float64 `json:"steady_ingest_p99_ms"`
	SteadyE2EP50ms        float64 `json:"steady_e2e_p50_ms"`
	SteadyE2EP99ms        float64 `json:"steady_e2e_p99_ms"`
	FanoutEndpoints       int     `json:"fanout_endpoints"`
	FanoutCompleteP50ms   float64 `json:"fanout_complete_p50_ms"`
	FanoutCompleteMaxms   float64 `json:"fanout_complete_max_ms"`
	MixedFastE2EP99ms     float64 `json:"mixed_fast_e2e_p99_ms"`
	MixedSlowDelivered    int     `json:"mixed_slow_delivered"`
	PeakRSSMiB            float64 `json:"peak_rss_mib"`
	DurationS             float64 `json:"duration_s"`
}

const adminToken = "bench-admin-token-0123456789abcdef"

// Run executes every scenario.
func Run(ctx context.Context, o Options) (Result, error) {
	start := time.Now()
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	env := map[string]string{}
	// The gateway under test takes the caller's settings (tuning knobs such
	// as HOOKGATE_ENDPOINT_CONCURRENCY included); the bench sets only what
	// it must (address, tokens, allow-list, log level).
	for _, k := range []string{"DATABASE_URL", "REDIS_URL", "HOOKGATE_DATA_DIR", "HOOKGATE_MASTER_KEY",
		"HOOKGATE_WORKER_CONCURRENCY", "HOOKGATE_QUEUE_CONCURRENCY", "HOOKGATE_ENDPOINT_CONCURRENCY",
		"HOOKGATE_DB_MAX_CONNS", "HOOKGATE_DELIVERY_TIMEOUT"} {
		if v := getenv(k); v != "" {
			env[k] = v
		}
	}
	dataDir := env["HOOKGATE_DATA_DIR"]
	if dataDir == "" {
		dataDir = "./data"
	}
	benchDir := filepath.Join(dataDir, "bench")
	if env["DATABASE_URL"] == "" {
		// A fresh SQLite file per run under the data dir.
		_ = os.RemoveAll(benchDir)
	}
	env["HOOKGATE_DATA_DIR"] = benchDir
	if env["REDIS_URL"] == "" {
		// Keep the benchmark's queues away from a development gateway on db 0.
		env["REDIS_URL"] = "redis://127.0.0.1:6379/15"
	}
	if u := env["DATABASE_URL"]; strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		fresh, drop, err := freshPostgres(ctx, u)
		if err != nil {
			return Result{}, fmt.Errorf("create a scratch database next to DATABASE_URL: %w", err)
		}
		defer drop()
		env["DATABASE_URL"] = fresh
	}
	env["HOOKGATE_ADDR"] = "127.0.0.1:0"
	env["HOOKGATE_ADMIN_TOKEN"] = adminToken
	env["HOOKGATE_ALLOW_TARGETS"] = "127.0.0.1/32"
	env["HOOKGATE_LOG_LEVEL"] = "error"
	if v := getenv("HOOKGATE_LOG_LEVEL"); v != "" {
		env["HOOKGATE_LOG_LEVEL"] = v
	}
	if env["HOOKGATE_MASTER_KEY"] == "" {
		env["HOOKGATE_MASTER_KEY"] = b64(crypto.GenerateKey())
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		return Result{}, err
	}
	log := app.NewLogger(os.Stderr, cfg.LogLevel, cfg.LogFormat)
	gw, err := app.Build(ctx, cfg, app.ModeServe, log)
	if err != nil {
		return Result{}, err
	}
	if err := gw.Start(ctx); err != nil {
		gw.Shutdown(context.Background())
		return Result{}, err
	}
	defer gw.Shutdown(context.Background())
	res := Result{Database: "sqlite", FanoutEndpoints: o.Fanout, SteadyRate: o.Rate}
	if cfg.IsPostgres() {
		res.Database = "postgresql"
	}
	b := &bencher{base: "http://" + gw.Addr(), client: &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}, Timeout: 30 * time.Second,
	}}
	logf("hookgate bench: gateway on %s (%s), redis %s", b.base, res.Database, cfg.RedisURL)

	// Bare baseline: the same receiver fed by asynq enqueue → HTTP POST.
	base, err := newReceiver(0)
	if err != nil {
		return res, err
	}
	defer base.close()
	res.BaselineDeliveredPerS, err = baseline(ctx, gw.Redis, base, o.Events, cfg.WorkerConcurrency)
	if err != nil {
		return res, fmt.Errorf("baseline: %w", err)
	}
	logf("baseline: %.0f delivered/s", res.BaselineDeliveredPerS)

	ingest, err := b.source()
	if err != nil {
		return res, err
	}
	// Throughput: N events, 1 endpoint, C concurrent clients.
	one, err := newReceiver(0)
	if err != nil {
		return res, err
	}
	defer one.close()
	p, err := b.partner("steady")
	if err != nil {
		return res, err
	}
	if err := b.endpoint(p, one.url, []string{"order.confirmed"}); err != nil {
		return res, err
	}
	logf("throughput: %d events from %d clients", o.Events, o.Concurrency)
	sent, ingLat, ingDur, err := b.post(ctx, ingest, "tp", o.Events, o.Concurrency, 0)
	if err != nil {
		return res, err
	}
	if !one.waitFor(len(sent), time.Now().Add(60*time.Second)) {
		return res, fmt.Errorf("throughput: only %d of %d events delivered within 60s", one.count(), len(sent))
	}
	arr := one.arrivals()
	res.Events = len(sent)
	res.IngestRPS = float64(len(sent)) / ingDur.Seconds()
	res.IngestP50ms, res.IngestP99ms = pct(ingLat, 0.5), pct(ingLat, 0.99)
	first, last := spanOf(sent, arr)
	res.DeliveredPerS = float64(len(sent)) / last.Sub(first).Seconds()
	e2e := e2eOf(sent, arr)
	res.E2EP50ms, res.E2EP99ms = pct(e2e, 0.5), pct(e2e, 0.99)
	if res.BaselineDeliveredPerS > 0 {
		res.Ratio = res.DeliveredPerS / res.BaselineDeliveredPerS
	}
	logf("throughput: ingest %.0f/s p99 %.1fms, delivered %.0f/s, e2e p50 %.1fms p99 %.1fms", res.IngestRPS, res.IngestP99ms, res.DeliveredPerS, res.E2EP50ms, res.E2EP99ms)

	// Fixed rate: latency at a steady R events/s.
	one.reset()
	n := int(float64(o.Rate) * o.RateFor.Seconds())
	logf("steady: %d events/s for %s", o.Rate, o.RateFor)
	sent, ingLat, _, err = b.post(ctx, ingest, "st", n, 64, o.Rate)
	if err != nil {
		return res, err
	}
	if !one.waitFor(len(sent), time.Now().Add(60*time.Second)) {
		return res, fmt.Errorf("steady: only %d of %d delivered", one.count(), len(sent))
	}
	e2e = e2eOf(sent, one.arrivals())
	res.SteadyIngestP50ms, res.SteadyIngestP99ms = pct(ingLat, 0.5), pct(ingLat, 0.99)
	res.SteadyE2EP50ms, res.SteadyE2EP99ms = pct(e2e, 0.5), pct(e2e, 0.99)
	logf("steady: ingest p50 %.1fms p99 %.1fms, e2e p50 %.1fms p99 %.1fms", res.SteadyIngestP50ms, res.SteadyIngestP99ms, res.SteadyE2EP50ms, res.SteadyE2EP99ms)

	// Fan-out: one event type to many endpoints.
	fan, err := newReceiver(0)
	if err != nil {
		return res, err
	}
	defer fan.close()
	for i := 0; i < o.Fanout; i++ {
		if i%10 == 0 {
			if p, err = b.partner(fmt.Sprintf("fanout-%d", i/10)); err != nil {
				return res, err
			}
		}
		if err := b.endpoint(p, fmt.Sprintf("%s?ep=%d", fan.url, i), []string{"inventory.adjusted"}); err != nil {
			return res, err
		}
	}
	var fanTimes []time.Duration
	for run := 0; run < o.FanoutRuns; run++ {
		fan.reset()
		t0 := time.Now()
		body := quantBody(run)
		if _, _, err := b.postOne(ingest, body); err != nil {
			return res, err
		}
		if !fan.waitForTotal(o.Fanout, time.Now().Add(30*time.Second)) {
			return res, fmt.Errorf("fan-out: %d of %d endpoints reached", fan.totalCount(), o.Fanout)
		}
		fanTimes = append(fanTimes, time.Since(t0))
	}
	res.FanoutCompleteP50ms, res.FanoutCompleteMaxms = pct(fanTimes, 0.5), pct(fanTimes, 1)
	logf("fan-out to %d endpoints: p50 %.1fms, max %.1fms", o.Fanout, res.FanoutCompleteP50ms, res.FanoutCompleteMaxms)

	// Mixed: 10 partners, one of them slow (2 s per request).
	fast, err := newReceiver(0)
	if err != nil {
		return res, err
	}
	defer fast.close()
	slow, err := newReceiver(2 * time.Second)
	if err != nil {
		return res, err
	}
	defer slow.close()
	for i := 0; i < 10; i++ {
		p, err := b.partner(fmt.Sprintf("mixed-%d", i))
		if err != nil {
			return res, err
		}
		url := fast.url
		if i == 0 {
			url = slow.url
		}
		if err := b.endpoint(p, fmt.Sprintf("%s?p=%d", url, i), []string{"payment.received"}); err != nil {
			return res, err
		}
	}
	logf("mixed: %d events to 10 partners, one slow", o.MixedEvents)
	// 100 events/s to 10 partners: 1,000 deliveries/s, within capacity, so
	// the figure shows isolation rather than overload.
	sent, _, _, err = b.postPayments(ctx, ingest, o.MixedEvents, 32, 100)
	if err != nil {
		return res, err
	}
	if !fast.waitForTotal(len(sent)*9, time.Now().Add(60*time.Second)) {
		return res, fmt.Errorf("mixed: fast partners got %d of %d", fast.totalCount(), len(sent)*9)
	}
	res.MixedFastE2EP99ms = pct(e2eOf(sent, fast.arrivals()), 0.99)
	res.MixedSlowDelivered = slow.totalCount()
	logf("mixed: fast partners e2e p99 %.1fms while the slow one received %d", res.MixedFastE2EP99ms, res.MixedSlowDelivered)

	res.PeakRSSMiB = peakRSS()
	res.DurationS = time.Since(start).Seconds()
	return res, nil
}

type bencher struct {
	base   string
	client *http.Client
}

func (b *bencher) call(method, path string, in, out any) error {
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(method, b.base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminTokenOr(path, in))
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, rb)
	}
	if out != nil {
		return json.Unmarshal(rb, out)
	}
	return nil
}

// keyed carries a partner key through call.
type keyed struct {
	key  string
	body any
}

func (k keyed) MarshalJSON() ([]byte, error) { return json.Marshal(k.body) }

func adminTokenOr(_ string, in any) string {
	if k, ok := in.(keyed); ok {
		return k.key
	}
	return adminToken
}

func (b *bencher) source() (string, error) {
	var s struct {
		IngestURL string `json:"ingest_url"`
	}
	err := b.call("POST", "/v1/admin/sources", map[string]any{"name": "odoo-bench-" + time.Now().Format("150405.000"), "kind": "odoo"}, &s)
	return s.IngestURL, err
}

func (b *bencher) partner(name string) (string, error) {
	var p struct {
		ID string `json:"id"`
	}
	if err := b.call("POST", "/v1/admin/partners", map[string]any{"name": name, "email": "bench@example.com", "status": "active"}, &p); err != nil {
		return "", err
	}
	var k struct {
		Key string `json:"key"`
	}
	err := b.call("POST", "/v1/admin/partners/"+p.ID+"/api-keys", map[string]any{"name": "bench"}, &k)
	return k.Key, err
}

func (b *bencher) endpoint(key, url string, types []string) error {
	return b.call("POST", "/v1/endpoints", keyed{key, map[string]any{"url": url, "event_types": types}}, nil)
}

// sentEvent is one accepted event and when its POST started.
type sentEvent struct {
	id string
	at time.Time
}

// orderBody is fixture 01 with a distinct order reference, as Odoo would
// send for different orders.
func orderBody(tag string, i int) []byte {
	// Distinct record ids and write dates per scenario: the connector
	// deduplicates changes by model, id and write_date.
	id := i + 1 + 1000000*len(tag)*int(tag[0])
	ts := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC).Add(time.Duration(id) * time.Second).Format("2006-01-02 15:04:05")
	return []byte(fmt.Sprintf(`{"_action": "Gateway: order confirmed(#41)", "_id": %d, "_model": "sale.order", "amount_tax": 18.75, "amount_total": 143.75, "amount_untaxed": 125.0, "client_order_ref": "WEB-%s-%d", "commitment_date": false, "company_id": 1, "currency_id": 2, "date_order": "2025-03-14 09:41:07", "delivery_status": "pending", "id": %d, "invoice_status": "to invoice", "locked": false, "name": "S%05d", "order_line": [3415, 3416, 3417], "origin": false, "partner_id": 58, "partner_invoice_id": 58, "partner_shipping_id": 59, "picking_ids": [57], "state": "sale", "team_id": 1, "user_id": 6, "write_date": "%s.912345"}`,
		id, tag, i, id, id, ts))
}

func quantBody(i int) []byte {
	return []byte(fmt.Sprintf(`{"_action": "Gateway: stock level changed(#44)", "_id": %d, "_model": "stock.quant", "available_quantity": 15.0, "company_id": 1, "id": %d, "in_date": "2025-02-20 10:15:00", "location_id": 8, "lot_id": false, "owner_id": false, "package_id": false, "product_id": 41, "product_uom_id": 1, "quantity": %d.0, "reserved_quantity": 2.0, "write_date": "2025-03-15 14:%02d:%02d.377120"}`,
		933+i, 933+i, 17+i, (i/60)%60, i%60))
}

func paymentBody(i int) []byte {
	ts := time.Date(2025, 3, 18, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format("2006-01-02 15:04:05")
	return []byte(fmt.Sprintf(`{"_action": "Gateway: payment received(#52)", "_id": %d, "_model": "account.payment", "amount": 143.75, "company_id": 1, "currency_id": 2, "date": "2025-03-18", "id": %d, "is_matched": false, "is_reconciled": true, "journal_id": 7, "memo": "INV/2025/%05d", "move_id": 415, "name": "PBNK1/2025/%05d", "partner_id": 58, "partner_type": "customer", "payment_method_line_id": 3, "payment_type": "inbound", "reconciled_invoice_ids": [311], "state": "in_process", "write_date": "%s.830216"}`,
		1000+i, 1000+i, i, i, ts))
}

func (b *bencher) postOne(url string, body []byte) (string, time.Duration, error) {
	t0 := time.Now()
	resp, err := b.client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	var out struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	rb, _ := io.ReadAll(resp.Body)
	d := time.Since(t0)
	if resp.StatusCode != http.StatusAccepted {
		return "", d, fmt.Errorf("ingest: %d %s", resp.StatusCode, rb)
	}
	// "duplicate" is a correct answer too: an HTTP client may resend a POST
	// whose connection closed before the answer arrived.
	if err := json.Unmarshal(rb, &out); err != nil || (out.Status != "accepted" && out.Status != "duplicate") {
		return "", d, fmt.Errorf("ingest: unexpected answer %s", rb)
	}
	return out.ID, d, nil
}

func (b *bencher) post(ctx context.Context, url, tag string, n, conc, rate int) ([]sentEvent, []time.Duration, time.Duration, error) {
	return b.postBodies(ctx, url, n, conc, rate, func(i int) []byte { return orderBody(tag, i) })
}

func (b *bencher) postPayments(ctx context.Context, url string, n, conc, rate int) ([]sentEvent, []time.Duration, time.Duration, error) {
	return b.postBodies(ctx, url, n, conc, rate, paymentBody)
}

// postBodies posts n bodies from conc clients, paced at rate per second
// (0: as fast as possible).
func (b *bencher) postBodies(ctx context.Context, url string, n, conc, rate int, body func(int) []byte) ([]sentEvent, []time.Duration, time.Duration, error) {
	sent := make([]sentEvent, n)
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if rate > 0 {
					due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
				}
				t0 := time.Now()
				id, d, err := b.postOne(url, body(i))
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				sent[i], lat[i] = sentEvent{id: id, at: t0}, d
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, nil, 0, firstErr
	}
	return sent, lat, time.Since(start), ctx.Err()
}

func spanOf(sent []sentEvent, arr map[pair]time.Time) (time.Time, time.Time) {
	first := sent[0].at
	var last time.Time
	for _, s := range sent {
		if s.at.Before(first) {
			first = s.at
		}
	}
	for _, a := range arr {
		if a.After(last) {
			last = a
		}
	}
	return first, last
}

// e2eOf is the ingest-to-receipt latency of every (event, endpoint) pair.
func e2eOf(sent []sentEvent, arr map[pair]time.Time) []time.Duration {
	at := make(map[string]time.Time, len(sent))
	for _, s := range sent {
		at[s.id] = s.at
	}
	out := make([]time.Duration, 0, len(arr))
	for p, a := range arr {
		if t0, ok := at[p.id]; ok {
			out = append(out, a.Sub(t0))
		}
	}
	return out
}

func pct(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := min(len(s)-1, int(q*float64(len(s))))
	return float64(s[i].Microseconds()) / 1000
}

// peakRSS is VmHWM from /proc/self/status, in MiB.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// freshPostgres creates an empty database on the server of url, so every
// run starts from the same state, and returns its URL and a drop function.
func freshPostgres(ctx context.Context, url string) (string, func(), error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("hookgate_bench_%d", time.Now().UnixNano())
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", nil, err
	}
	u, err := neturl.Parse(url)
	if err != nil {
		db.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		_, _ = db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		db.Close()
	}
	return u.String(), drop, nil
}
