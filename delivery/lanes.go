package delivery

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate/internal/ids"
)

// Lanes give every endpoint its own in-process queue served by a few
// runner goroutines, while the endpoint's concurrency cap (a Redis lease
// set shared by every worker) bounds its requests in flight.
//
// The asynq task stays active, its handler waiting, until the lane has made
// the attempt: the task's result (success, a retry for later, a wait) is
// the attempt's result, a crash returns it to the queue when its lease runs
// out, and the sweeper cannot enqueue a second copy meanwhile (the task id
// is still taken). Waiting handlers are cheap goroutines; the queue worker
// pool is sized far above the HTTP concurrency for that reason, and each
// lane holds a bounded number of waiting attempts, beyond which tasks are
// turned back for later — so a slow endpoint occupies at most its lane's
// share of the pool and never delays other partners.
type lanes struct {
	w          *Worker
	perLane    int           // runner goroutines per endpoint (a multiple of the cap)
	buffer     int           // hard cap of waiting attempts per endpoint
	minQueue   int           // waiting attempts always admitted
	global     chan struct{} // requests in flight per process
	quit       chan struct{}
	wg         sync.WaitGroup
	mu         sync.Mutex
	m          map[string]*lane
	stopped    bool
	idleExpiry time.Duration
}

type lane struct {
	ch      chan *laneItem
	running int
	// avgNanos is a moving average of how long a runner takes per attempt
	// (slot wait included): with the queue length and the runners it tells
	// how long a new attempt would wait.
	avgNanos atomic.Int64
}

// maxLaneWait is how long an attempt may expect to wait in its lane before
// its task is turned back to the queue instead: a fast endpoint's lane
// holds thousands of attempts (they drain in moments), a slow endpoint's
// only a few, so it never ties up the worker's task pool.
const maxLaneWait = 5 * time.Second

// admits reports whether one more attempt fits the lane.
func (l *lane) admits(minQueue int) bool {
	n := len(l.ch)
	if n < minQueue {
		return true
	}
	if n >= cap(l.ch) {
		return false
	}
	avg := time.Duration(l.avgNanos.Load())
	runners := max(l.running, 1)
	return avg > 0 && time.Duration(n)*avg/time.Duration(runners) < maxLaneWait
}

// observe folds one attempt's duration into the moving average.
func (l *lane) observe(d time.Duration) {
	old := l.avgNanos.Load()
	if old == 0 {
		l.avgNanos.Store(int64(d))
		return
	}
	l.avgNanos.Store(old + (int64(d)-old)/16)
}

// laneItem is one attempt waiting in a lane for its task's handler.
type laneItem struct {
	p         attemptPayload
	done      chan error // receives the attempt's result
	abandoned atomic.Bool
}

func newLanes(w *Worker, perLane, global int) *lanes {
	return &lanes{
		// More runners than slots: while one runner's request holds a
		// slot, others read the delivery or write its outcome.
		w: w, perLane: 4 * perLane, buffer: 8192, minQueue: 64, global: make(chan struct{}, global),
		quit: make(chan struct{}), m: make(map[string]*lane), idleExpiry: 30 * time.Second,
	}
}

// do runs p on its endpoint's lane and waits for the result. A full lane
// or a stopping worker answers with a wait, so asynq tries again later
// without counting a failure.
func (ls *lanes) do(ctx context.Context, p attemptPayload) error {
	it := &laneItem{p: p, done: make(chan error, 1)}
	if !ls.submit(it) {
		return &waitError{Delay: jitter(2*time.Second, 0.5), Reason: "endpoint backlog full"}
	}
	select {
	case err := <-it.done:
		return err
	case <-ctx.Done():
		it.abandoned.Store(true) // the runner skips it
		return ctx.Err()
	}
}

func (ls *lanes) submit(it *laneItem) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.stopped {
		return false
	}
	l, ok := ls.m[it.p.EndpointID]
	if !ok {
		l = &lane{ch: make(chan *laneItem, ls.buffer)}
		ls.m[it.p.EndpointID] = l
	}
	if !l.admits(ls.minQueue) {
		return false
	}
	select {
	case l.ch <- it:
	default:
		return false
	}
	if l.running < ls.perLane && (l.running == 0 || len(l.ch) > 0) {
		l.running++
		ls.wg.Add(1)
		go ls.run(it.p.EndpointID, l)
	}
	return true
}

// run serves one lane until it has been idle for a while or lanes stop.
func (ls *lanes) run(endpointID string, l *lane) {
	defer ls.wg.Done()
	idle := time.NewTimer(ls.idleExpiry)
	defer idle.Stop()
	for {
		select {
		case it := <-l.ch:
			if !it.abandoned.Load() {
				start := time.Now()
				it.done <- ls.attempt(endpointID, it.p)
				l.observe(time.Since(start))
			}
			if !idle.Stop() {
				select {
				case <-idle.C:
				default:
				}
			}
			idle.Reset(ls.idleExpiry)
		case <-idle.C:
			ls.mu.Lock()
			if len(l.ch) > 0 { // work arrived meanwhile
				ls.mu.Unlock()
				idle.Reset(ls.idleExpiry)
				continue
			}
			l.running--
			if l.running == 0 {
				delete(ls.m, endpointID)
			}
			ls.mu.Unlock()
			return
		case <-ls.quit:
			ls.mu.Lock()
			l.running--
			ls.mu.Unlock()
			return
		}
	}
}

// errStoppingWait turns a stopping worker's unstarted attempts back to the
// queue without counting a failure.
var errStoppingWait = &waitError{Delay: 0, Reason: "worker stopping"}

// attempt waits for the endpoint's rate limit and a concurrency slot
// (waiting consumes no attempt), then makes the attempt.
func (ls *lanes) attempt(endpointID string, p attemptPayload) error {
	w := ls.w
	ctx := context.Background()
	rt, ok := w.d.Routes.Get(endpointID)
	if !ok {
		return w.attempt(ctx, p, nil)
	}
	ep := rt.Endpoint
	rate := ep.RateLimitPerSecond
	if q := rt.Quota.MaxRatePerSecond; q > 0 && (rate == 0 || rate > q) {
		rate = q
	}
	for {
		okRate, wait, err := w.d.Limits.Allow(ctx, ep.ID, rate)
		if err != nil {
			return err
		}
		if okRate {
			break
		}
		if wait > 2*time.Second {
			// A long wait is better spent in the queue than in a lane.
			return &waitError{Delay: wait, Reason: "rate limited"}
		}
		select {
		case <-time.After(wait):
		case <-ls.quit:
			return errStoppingWait
		}
	}
	// The slot (and a process-wide permit) is taken right before the HTTP
	// request and given back as soon as the response is in, so database
	// work on either side overlaps other runners' requests.
	slot := func(ctx context.Context, rt *Route) (*slotLease, error) {
		token := ids.New("lease")
		for {
			// The process-wide permit first, then the endpoint's slot
			// without waiting: a runner never holds a slot it cannot use
			// at once, and never holds a permit while it waits.
			select {
			case ls.global <- struct{}{}:
			case <-ls.quit:
				return nil, errStoppingWait
			}
			ok, err := w.d.Limits.tryAcquire(ctx, rt.Endpoint.ID, token)
			if err != nil {
				<-ls.global
				return nil, err
			}
			if ok {
				return &slotLease{w: w, ctx: ctx, endpointID: rt.Endpoint.ID, token: token,
					onRelease: func() { <-ls.global }}, nil
			}
			<-ls.global
			if err := w.d.Limits.waitFreed(ctx, rt.Endpoint.ID, ls.quit); err != nil {
				if errors.Is(err, errStopping) {
					return nil, errStoppingWait
				}
				return nil, err
			}
		}
	}
	return w.attempt(ctx, p, slot)
}

// beginStop stops taking work: waiting attempts are answered with a wait
// (their tasks go back to the queue) and runners finish the attempt in hand.
func (ls *lanes) beginStop() {
	ls.mu.Lock()
	if ls.stopped {
		ls.mu.Unlock()
		return
	}
	ls.stopped = true
	close(ls.quit)
	var waiting []*laneItem
	for _, l := range ls.m {
	drain:
		for {
			select {
			case it := <-l.ch:
				waiting = append(waiting, it)
			default:
				break drain
			}
		}
	}
	ls.mu.Unlock()
	for _, it := range waiting {
		it.done <- errStoppingWait
	}
}

// wait blocks until every runner has finished, or ctx ends.
func (ls *lanes) wait(ctx context.Context) {
	done := make(chan struct{})
	go func() { ls.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
