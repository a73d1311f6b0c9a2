package delivery

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Limits holds the per-endpoint controls shared by every worker process
// through Redis: a GCRA rate limit (go-redis/redis_rate) and a concurrency
// cap (a lease set, so a killed worker's slot expires by itself).
//
// A worker that finds an endpoint at its cap waits for a slot only while
// few others wait for the same endpoint (MaxWaiters); beyond that it gives
// the task back to the queue for later. So a hanging endpoint holds at most
// cap + MaxWaiters workers, and a fast endpoint at its cap keeps its slots
// busy without round trips through the queue.
type Limits struct {
	rdb        redis.UniversalClient
	rate       *redis_rate.Limiter
	maxConc    int
	lease      time.Duration
	maxWaiters int
	maxWait    time.Duration

	mu    sync.Mutex
	local map[string]*endpointGate
}

// endpointGate coordinates this process's workers for one endpoint.
type endpointGate struct {
	waiters int
	freed   chan struct{} // signalled when a local holder releases
}

// NewLimits returns limits with the given in-flight cap per endpoint; lease
// bounds how long a slot is held by a worker that died.
func NewLimits(rdb redis.UniversalClient, maxConcurrent int, lease time.Duration) *Limits {
	return &Limits{
		rdb: rdb, rate: redis_rate.NewLimiter(rdb), maxConc: maxConcurrent, lease: lease,
		maxWaiters: max(2, maxConcurrent/2), maxWait: 2 * time.Second,
		local: make(map[string]*endpointGate),
	}
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

func (l *Limits) gate(endpointID string) *endpointGate {
	l.mu.Lock()
	defer l.mu.Unlock()
	g, ok := l.local[endpointID]
	if !ok {
		// One wake-up per freed slot: a release that finds no waiter leaves
		// its token for the next one, so no freed slot sits idle until a poll.
		g = &endpointGate{freed: make(chan struct{}, l.maxConc)}
		l.local[endpointID] = g
	}
	return g
}

func (l *Limits) tryAcquire(ctx context.Context, endpointID, token string) (bool, error) {
	now := time.Now()
	n, err := acquireScript.Run(ctx, l.rdb, []string{"hookgate:inflight:" + endpointID},
		now.UnixMilli(), now.Add(l.lease).UnixMilli(), l.maxConc, token, l.lease.Milliseconds()+1000).Int()
	if err != nil {
		return false, fmt.Errorf("delivery: concurrency slot: %w", err)
	}
	return n == 1, nil
}

// Acquire takes an in-flight slot for the endpoint; token identifies the
// holder. It waits a bounded time when the endpoint is at its cap and few
// workers wait already; false means "give the task back for later".
func (l *Limits) Acquire(ctx context.Context, endpointID, token string) (bool, error) {
	ok, err := l.tryAcquire(ctx, endpointID, token)
	if ok || err != nil {
		return ok, err
	}
	g := l.gate(endpointID)
	l.mu.Lock()
	if g.waiters >= l.maxWaiters {
		l.mu.Unlock()
		return false, nil
	}
	g.waiters++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		g.waiters--
		l.mu.Unlock()
	}()
	deadline := time.NewTimer(l.maxWait)
	defer deadline.Stop()
	poll := time.NewTicker(20 * time.Millisecond) // holders in other processes
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-deadline.C:
			return false, nil
		case <-g.freed:
		case <-poll.C:
		}
		if ok, err := l.tryAcquire(ctx, endpointID, token); ok || err != nil {
			return ok, err
		}
	}
}

// Release frees the slot taken by token and wakes one local waiter. also,
// when set, adds commands to the same pipelined round trip.
func (l *Limits) Release(ctx context.Context, endpointID, token string, also func(redis.Pipeliner)) {
	ctx = context.WithoutCancel(ctx)
	pipe := l.rdb.Pipeline()
	pipe.ZRem(ctx, "hookgate:inflight:"+endpointID, token)
	if also != nil {
		also(pipe)
	}
	_, _ = pipe.Exec(ctx)
	g := l.gate(endpointID)
	select {
	case g.freed <- struct{}{}:
	default:
	}
}

// InFlight reports the endpoint's occupied slots (for stats and tests).
func (l *Limits) InFlight(ctx context.Context, endpointID string) (int, error) {
	n, err := l.rdb.ZCount(ctx, "hookgate:inflight:"+endpointID,
		strconv.FormatInt(time.Now().UnixMilli(), 10), "+inf").Result()
	return int(n), err
}

// errStopping is returned by AcquireWait when the worker stops.
var errStopping = errors.New("delivery: stopping")

// AcquireWait takes a slot, waiting as long as it takes (a lane runner, not
// a queue worker, does the waiting); it gives up when quit closes.
func (l *Limits) AcquireWait(ctx context.Context, endpointID, token string, quit <-chan struct{}) error {
	g := l.gate(endpointID)
	poll := time.NewTicker(20 * time.Millisecond) // holders in other processes
	defer poll.Stop()
	for {
		ok, err := l.tryAcquire(ctx, endpointID, token)
		if err != nil || ok {
			return err
		}
		select {
		case <-quit:
			return errStopping
		case <-ctx.Done():
			return ctx.Err()
		case <-g.freed:
		case <-poll.C:
		}
	}
}

// waitFreed waits until a slot of the endpoint may have been freed: a local
// holder released one, or a short poll interval passed (holders in other
// processes).
func (l *Limits) waitFreed(ctx context.Context, endpointID string, quit <-chan struct{}) error {
	g := l.gate(endpointID)
	t := time.NewTimer(20 * time.Millisecond)
	defer t.Stop()
	select {
	case <-quit:
		return errStopping
	case <-ctx.Done():
		return ctx.Err()
	case <-g.freed:
	case <-t.C:
	}
	return nil
}
