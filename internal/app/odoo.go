package app

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/crypto"
	"github.com/hookgate/hookgate/internal/metrics"
	"github.com/hookgate/hookgate/internal/service"
)

// odooDeps configures the service's Odoo connector. Odoo is called through
// a plain HTTP client, not the SSRF-guarded one partners' webhooks use:
// Odoo is the retailer's own system, set up by an admin, and usually
// reachable only on a private address.
func odooDeps(cfg config.Config, creds *service.CredentialIndex, m *metrics.Metrics) service.OdooDeps {
	return service.OdooDeps{
		HTTP: &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second},
		},
		ReconcileInterval: cfg.ReconcileInterval,
		ConfirmWindow:     cfg.OdooConfirmWindow,
		Credentials:       creds,
		Lag:               func(source string, s float64) { m.ReconcileLag.WithLabelValues(source).Set(s) },
	}
}

// reconcileLoop runs the Odoo sources' reconciliation in worker processes.
// Every tick it asks which sources are due; a Redis lock per source lets
// one process at a time reconcile it, however many workers run. At most
// four sources are reconciled at once per process.
type reconcileLoop struct {
	svc  *service.Service
	rdb  redis.UniversalClient
	log  *slog.Logger
	tick time.Duration
	// maxRun bounds one run (and the lock's life if the process dies).
	maxRun time.Duration
}

// unlockScript deletes a lock only if it still holds our token.
var unlockScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// run ticks until ctx ends, then waits for the runs in flight.
func (l *reconcileLoop) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, 4)
	running := map[string]bool{}
	var mu sync.Mutex
	t := time.NewTicker(l.tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		due, err := l.svc.DueReconciles(ctx)
		if err != nil {
			if ctx.Err() == nil {
				l.log.WarnContext(ctx, "reconciliation: cannot list due sources", "error", err)
			}
			continue
		}
		for _, id := range due {
			mu.Lock()
			busy := running[id]
			mu.Unlock()
			if busy {
				continue
			}
			select {
			case sem <- struct{}{}:
			default:
				continue // all slots busy: next tick
			}
			token := crypto.RandomToken(12)
			key := "hookgate:reconcile:" + id
			ok, err := l.rdb.SetNX(ctx, key, token, l.maxRun+time.Minute).Result()
			if err != nil || !ok {
				<-sem
				continue // another process is reconciling this source
			}
			mu.Lock()
			running[id] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				defer func() {
					_ = unlockScript.Run(context.WithoutCancel(ctx), l.rdb, []string{key}, token).Err()
					mu.Lock()
					delete(running, id)
					mu.Unlock()
				}()
				rctx, cancel := context.WithTimeout(ctx, l.maxRun)
				defer cancel()
				if _, err := l.svc.ReconcileSource(rctx, id); err != nil && ctx.Err() == nil {
					l.log.WarnContext(ctx, "reconciliation failed; the next run retries from the same watermark",
						"source_id", id, "error", err)
				}
			}()
		}
	}
}
