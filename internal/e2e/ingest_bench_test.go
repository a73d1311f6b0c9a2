package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/apptest"
)

// BenchmarkIngestOdoo posts single Odoo bodies to the ingest URL of a
// gateway on PostgreSQL (with a subscribed endpoint, so fan-out and delivery
// run too) and reports the latency percentiles of the 202 answers.
//
//	go test -run '^$' -bench IngestOdoo -benchtime 2000x ./internal/e2e/
func BenchmarkIngestOdoo(b *testing.B) {
	g := apptest.Start(b, apptest.Options{})
	g.NoContractCheck = true
	rc := newReceiverB(b)
	p := g.NewPartner("Bench Partner")
	g.NewEndpoint(p, rc, []string{"*"}, nil)
	ingest := g.NewOdooSource("odoo-bench")
	tmpl := fixtureB(b, "01-sale-order-confirmed.json")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A distinct body each time, so deduplication does not short-cut.
		body := bytes.Replace(tmpl, []byte(`"client_order_ref": "WEB-100045"`), fmt.Appendf(nil, `"client_order_ref": "WEB-%d"`, i), 1)
		start := time.Now()
		resp, err := client.Post(ingest, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		lat = append(lat, time.Since(start))
		if resp.StatusCode != 202 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(pct(1), "max_ms")
}

func fixtureB(b *testing.B, name string) []byte {
	return apptest.Fixture(b, name)
}

func newReceiverB(b *testing.B) string {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })}
	ln := listenLocal(b)
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}
