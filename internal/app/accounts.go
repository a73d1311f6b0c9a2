package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/internal/auth"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/ratelimit"
	"github.com/hookgate/hookgate/internal/service"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/server"
)

// The limiter and the releaser serve the service and the server through
// small interfaces declared there.
var (
	_ service.Throttle     = (*ratelimit.Limiter)(nil)
	_ server.APILimiter    = (*ratelimit.Limiter)(nil)
	_ service.QuotaControl = (*delivery.QuotaReleaser)(nil)
)

// accounts are the credential and entitlement parts: password hashing,
// access tokens, the shared limiter (API rate limits, login throttle) and
// the monthly quota gate with its releaser.
type accounts struct {
	hasher   *auth.Hasher
	tokens   *auth.Tokens
	limiter  *ratelimit.Limiter
	quota    *delivery.RedisQuota
	releaser *delivery.QuotaReleaser
}

func buildAccounts(cfg config.Config, masterKey []byte, st *store.Store, rdb redis.UniversalClient,
	enq *delivery.Enqueuer, log *slog.Logger) (accounts, error) {
	var a accounts
	var err error
	if a.hasher, err = auth.NewHasher(nil, 4); err != nil {
		return a, err
	}
	// The JWT key is configured, or derived from the master key so that
	// every process of a deployment agrees without another secret.
	key := cfg.JWTSecret
	if len(key) == 0 {
		key = auth.DeriveKey(masterKey)
	}
	if a.tokens, err = auth.NewTokens(key, auth.AccessTokenTTL, nil); err != nil {
		return a, err
	}
	a.limiter = ratelimit.New(rdb)
	a.quota = delivery.NewRedisQuota(rdb, st)
	a.releaser = &delivery.QuotaReleaser{Store: st, Quota: a.quota, Enqueuer: enq, Redis: rdb, Log: log}
	return a, nil
}

func (a accounts) rateLimits(cfg config.Config) server.RateLimits {
	return server.RateLimits{
		Limiter:    a.limiter,
		PerKey:     ratelimit.PerSecond(cfg.APIRatePerKey.PerSecond, cfg.APIRatePerKey.Burst),
		PerAddress: ratelimit.PerSecond(cfg.APIRatePerAddress.PerSecond, cfg.APIRatePerAddress.Burst),
	}
}

func trustedProxies(cfg config.Config) []string {
	out := make([]string, len(cfg.TrustedProxies))
	for i, p := range cfg.TrustedProxies {
		out[i] = p.String()
	}
	return out
}

// pruneSessions deletes, every interval, sessions that expired or were
// revoked more than a week ago.
func (a *App) pruneSessions(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n, err := a.Store.PruneSessions(ctx, time.Now().Add(-7*24*time.Hour))
		if err != nil && ctx.Err() == nil {
			a.Log.WarnContext(ctx, "pruning sessions failed", "error", err)
		}
		if n > 0 {
			a.Log.InfoContext(ctx, "old sessions pruned", "count", n)
		}
	}
}
