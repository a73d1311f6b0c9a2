package delivery

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Limits holds the per-endpoint controls shared by every worker process
// through Redis: a GCRA rate limit (go-redis/redis_rate) and a concurrency
// cap (a lease set, so a killed worker's slot expires by itself).
type Limits struct {
	rdb     redis.UniversalClient
	rate    *redis_rate.Limiter
	maxConc int
	lease   time.Duration
}

// NewLimits returns limits with the given in-flight cap per endpoint; lease
// bounds how long a slot is held by a worker that died.
func NewLimits(rdb redis.UniversalClient, maxConcurrent int, lease time.Duration) *Limits {
	return &Limits{rdb: rdb, rate: redis_rate.NewLimiter(rdb), maxConc: maxConcurrent, lease: lease}
}

// Allow takes one token from the endpoint's bucket of perSecond; when none
// is left it returns false and how long to wait.
func (l *Limits) Allow(ctx context.Context, endpointID string, perSecond int) (bool, time.Duration, error) {
	if perSecond <= 0 {
		return true, 0, nil
	}
	res, err := l.rate.Allow(ctx, "hookgate:rate:"+endpointID, redis_rate.PerSecond(perSecond))
	if err != nil {
		return false, 0, fmt.Errorf("delivery: rate limit: %w", err)
	}
	if res.Allowed > 0 {
		return true, 0, nil
	}
	return false, max(res.RetryAfter, time.Millisecond), nil
}

// acquireScript: drop expired leases, then take a slot if one is free.
var acquireScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0`)

// Acquire takes an in-flight slot for the endpoint; token identifies the
// holder. It returns false when the endpoint already has its cap in flight.
func (l *Limits) Acquire(ctx context.Context, endpointID, token string) (bool, error) {
	now := time.Now()
	n, err := acquireScript.Run(ctx, l.rdb, []string{"hookgate:inflight:" + endpointID},
		now.UnixMilli(), now.Add(l.lease).UnixMilli(), l.maxConc, token, l.lease.Milliseconds()+1000).Int()
	if err != nil {
		return false, fmt.Errorf("delivery: concurrency slot: %w", err)
	}
	return n == 1, nil
}

// Release frees the slot taken by token.
func (l *Limits) Release(ctx context.Context, endpointID, token string) {
	l.rdb.ZRem(context.WithoutCancel(ctx), "hookgate:inflight:"+endpointID, token)
}

// InFlight reports the endpoint's occupied slots (for stats and tests).
func (l *Limits) InFlight(ctx context.Context, endpointID string) (int, error) {
	n, err := l.rdb.ZCount(ctx, "hookgate:inflight:"+endpointID,
		strconv.FormatInt(time.Now().UnixMilli(), 10), "+inf").Result()
	return int(n), err
}
