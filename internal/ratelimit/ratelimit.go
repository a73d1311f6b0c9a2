package ratelimit

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Limit is a bucket: Rate events per Period, up to Burst at once.
type Limit struct {
	Rate   int
	Burst  int
	Period time.Duration
}

// PerSecond returns rate per second with the given burst (0: 2×rate).
func PerSecond(rate, burst int) Limit {
	if burst <= 0 {
		burst = 2 * rate
	}
	return Limit{Rate: rate, Burst: burst, Period: time.Second}
}

// PerMinute returns rate per minute with a burst of rate.
func PerMinute(rate int) Limit { return Limit{Rate: rate, Burst: rate, Period: time.Minute} }

// PerHour returns rate per hour with a burst of rate.
func PerHour(rate int) Limit { return Limit{Rate: rate, Burst: rate, Period: time.Hour} }

// IsZero reports whether l limits nothing.
func (l Limit) IsZero() bool { return l.Rate <= 0 || l.Period <= 0 }

func (l Limit) gcra() redis_rate.Limit {
	return redis_rate.Limit{Rate: l.Rate, Burst: max(1, l.Burst), Period: l.Period}
}

// Decision is the state of a bucket after a request.
type Decision struct {
	Allowed    bool
	Limit      int           // the bucket's size (burst)
	Remaining  int           // events still allowed at once
	RetryAfter time.Duration // when not allowed: how long until one is
	ResetAfter time.Duration // until the bucket is full again
}

// Limiter takes events from named buckets in Redis.
type Limiter struct {
	rl     *redis_rate.Limiter
	prefix string
}

// New returns a limiter whose keys start with hookgate:rl:.
func New(rdb redis.UniversalClient) *Limiter {
	return &Limiter{rl: redis_rate.NewLimiter(rdb), prefix: "hookgate:rl:"}
}

// Take takes one event from bucket key.
func (l *Limiter) Take(ctx context.Context, key string, lim Limit) (Decision, error) {
	if lim.IsZero() {
		return Decision{Allowed: true}, nil
	}
	res, err := l.rl.Allow(ctx, l.prefix+key, lim.gcra())
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: %w", err)
	}
	g := lim.gcra()
	d := Decision{Allowed: res.Allowed > 0, Limit: g.Burst, Remaining: remaining(g, res.ResetAfter),
		RetryAfter: res.RetryAfter, ResetAfter: res.ResetAfter}
	if !d.Allowed && d.RetryAfter <= 0 {
		d.RetryAfter = time.Millisecond
	}
	if d.Allowed {
		d.RetryAfter = 0
	}
	return d, nil
}

// Peek reports whether bucket key has an event left, without taking it.
func (l *Limiter) Peek(ctx context.Context, key string, lim Limit) (Decision, error) {
	if lim.IsZero() {
		return Decision{Allowed: true}, nil
	}
	g := lim.gcra()
	res, err := l.rl.AllowN(ctx, l.prefix+key, g, 0)
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: %w", err)
	}
	left := remaining(g, res.ResetAfter)
	d := Decision{Allowed: left >= 1, Limit: g.Burst, Remaining: left, ResetAfter: res.ResetAfter}
	if !d.Allowed {
		// One event is free again when the bucket has drained by one
		// emission interval below full.
		interval := g.Period / time.Duration(g.Rate)
		d.RetryAfter = max(time.Millisecond, res.ResetAfter-time.Duration(g.Burst-1)*interval)
		if res.RetryAfter > 0 {
			d.RetryAfter = max(d.RetryAfter, res.RetryAfter)
		}
	}
	return d, nil
}

// remaining derives the events left from the time until the bucket is full
// (redis_rate's own count truncates a float, and is often one short).
func remaining(g redis_rate.Limit, resetAfter time.Duration) int {
	interval := float64(g.Period) / float64(g.Rate)
	used := int(math.Ceil(float64(resetAfter)/interval - 1e-6))
	return min(g.Burst, max(0, g.Burst-used))
}

// Reset empties bucket key.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := l.rl.Reset(ctx, l.prefix+key); err != nil {
		return fmt.Errorf("ratelimit: %w", err)
	}
	return nil
}
