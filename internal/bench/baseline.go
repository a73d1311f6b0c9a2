package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"
)

const baselineQueue = "bench_baseline"

// baseline measures the bare pipeline hookgate is built on: asynq enqueue →
// worker → HTTP POST to the same receiver, with no gateway logic (no
// database, no signing, no routing). It uses the gateway's Redis and worker
// settings, in its own queue.
func baseline(ctx context.Context, rdb redis.UniversalClient, rc *receiver, n, concurrency int) (float64, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}, Timeout: 15 * time.Second}
	body := orderBody("baseline", 0)
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency: concurrency, Queues: map[string]int{baselineQueue: 1},
		TaskCheckInterval: 20 * time.Millisecond, LogLevel: asynq.ErrorLevel,
	})
	var firstErr error
	var once sync.Once
	h := asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, rc.url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Bench-Id", string(t.Payload()))
		resp, err := client.Do(req)
		if err != nil {
			once.Do(func() { firstErr = err })
			return err
		}
		resp.Body.Close()
		return nil
	})
	if err := srv.Start(h); err != nil {
		return 0, err
	}
	defer srv.Shutdown()
	ac := asynq.NewClientFromRedisClient(rdb)
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := 0; i < n; i++ {
		g.Go(func() error {
			_, err := ac.EnqueueContext(gctx, asynq.NewTask("bench:post", fmt.Appendf(nil, "b%d", i)), asynq.Queue(baselineQueue))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	if !rc.waitFor(n, time.Now().Add(60*time.Second)) {
		return 0, fmt.Errorf("only %d of %d delivered (%v)", rc.count(), n, firstErr)
	}
	arr := rc.arrivals()
	var last time.Time
	for _, a := range arr {
		if a.After(last) {
			last = a
		}
	}
	return float64(n) / last.Sub(start).Seconds(), nil
}
