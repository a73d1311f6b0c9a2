package bench

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testenv"
)

// TestBenchRunsEveryScenario runs `hookgate bench` at a tiny size on real
// PostgreSQL and Redis and checks that every published figure is there and
// plausible. (The figures themselves are measured with the command, not in
// tests.)
func TestBenchRunsEveryScenario(t *testing.T) {
	env := map[string]string{
		"DATABASE_URL":      testenv.Postgres(t),
		"REDIS_URL":         testenv.Redis(t),
		"HOOKGATE_DATA_DIR": t.TempDir(),
	}
	o := Options{Events: 200, Concurrency: 8, Rate: 100, RateFor: time.Second, Fanout: 10, FanoutRuns: 2, MixedEvents: 50,
		Getenv: func(k string) string { return env[k] }}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, k := range []string{"ingest_rps", "ingest_p50_ms", "ingest_p99_ms", "delivered_per_s", "e2e_p50_ms", "e2e_p99_ms",
		"baseline_delivered_per_s", "ratio", "peak_rss_mib", "steady_e2e_p99_ms", "fanout_complete_max_ms", "mixed_fast_e2e_p99_ms"} {
		v, ok := m[k].(float64)
		if !ok || v <= 0 {
			t.Errorf("%s = %v, want a positive figure", k, m[k])
		}
	}
	if res.Events != 200 || res.Database != "postgresql" || res.FanoutEndpoints != 10 {
		t.Errorf("result: %+v", res)
	}
	if res.IngestP99ms < res.IngestP50ms || res.E2EP99ms < res.E2EP50ms {
		t.Errorf("percentiles out of order: %+v", res)
	}
}
