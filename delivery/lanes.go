package delivery

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
)

// Lanes give every endpoint its own in-process queue served by at most
// its concurrency cap of goroutines. An asynq worker hands a task to the
// endpoint's lane and returns at once, so a slow or throttled endpoint never
// holds the workers that other partners' deliveries need, and a fast
// endpoint at its cap reuses each freed slot immediately instead of bouncing
// tasks through the queue.
//
// Durability: the database is the system of record. A task handed to a lane
// is acknowledged to asynq; if the process dies before the attempt is
// recorded, the delivery is still pending in the database and the sweeper
// enqueues it again. Retries of lane-run attempts are enqueued as new tasks
// (task id = delivery id) for their due time. On a graceful stop, attempts
// still waiting in a lane go back to the queue.
type lanes struct {
	w          *Worker
	perLane    int           // runner goroutines per endpoint (a multiple of the cap)
	buffer     int           // waiting attempts per endpoint before tasks bounce
	global     chan struct{} // in-flight attempts per process
	quit       chan struct{}
	wg         sync.WaitGroup
	mu         sync.Mutex
	m          map[string]*lane
	stopped    bool
	idleExpiry time.Duration
}

type lane struct {
	ch      chan attemptPayload
	running int
}

func newLanes(w *Worker, perLane, global int) *lanes {
	return &lanes{
		// More runners than slots: while one runner's request holds a
		// slot, others read the delivery or write its outcome.
		w: w, perLane: 4 * perLane, buffer: 4096, global: make(chan struct{}, global),
		quit: make(chan struct{}), m: make(map[string]*lane), idleExpiry: 30 * time.Second,
	}
}

// submit queues p on its endpoint's lane; false when the lane is full or
// stopping (the caller asks asynq to try again later).
func (ls *lanes) submit(p attemptPayload) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.stopped {
		return false
	}
	l, ok := ls.m[p.EndpointID]
	if !ok {
		l = &lane{ch: make(chan attemptPayload, ls.buffer)}
		ls.m[p.EndpointID] = l
	}
	select {
	case l.ch <- p:
	default:
		return false
	}
	// Start another runner when work waits and the cap allows.
	if l.running < ls.perLane && (l.running == 0 || len(l.ch) > 0) {
		l.running++
		ls.wg.Add(1)
		go ls.run(p.EndpointID, l)
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
		case p := <-l.ch:
			ls.attempt(endpointID, p)
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

// attempt waits for the endpoint's rate limit and a concurrency slot
// (waiting consumes no attempt), then makes the attempt and schedules what
// follows.
func (ls *lanes) attempt(endpointID string, p attemptPayload) {
	w := ls.w
	ctx := context.Background()
	rt, ok := w.d.Routes.Get(endpointID)
	if !ok {
		ls.follow(ctx, p, w.attempt(ctx, p, nil))
		return
	}
	ep := rt.Endpoint
	rate := ep.RateLimitPerSecond
	if q := rt.Quota.MaxRatePerSecond; q > 0 && (rate == 0 || rate > q) {
		rate = q
	}
	for {
		okRate, wait, err := w.d.Limits.Allow(ctx, ep.ID, rate)
		if err != nil {
			ls.follow(ctx, p, err)
			return
		}
		if okRate {
			break
		}
		select {
		case <-time.After(wait):
		case <-ls.quit:
			ls.requeue(ctx, p, 0)
			return
		}
	}
	// The slot (and a process-wide permit) is taken right before the HTTP
	// request and given back as soon as the response is in, so database
	// work on either side overlaps other runners' requests.
	stopping := false
	slot := func(ctx context.Context, rt *Route) (*slotLease, error) {
		token := ids.New("lease")
		if err := w.d.Limits.AcquireWait(ctx, rt.Endpoint.ID, token, ls.quit); err != nil {
			stopping = errors.Is(err, errStopping)
			return nil, err
		}
		ls.global <- struct{}{}
		return &slotLease{w: w, ctx: ctx, endpointID: rt.Endpoint.ID, token: token,
			onRelease: func() { <-ls.global }}, nil
	}
	err := w.attempt(ctx, p, slot)
	if stopping {
		ls.requeue(ctx, p, 0)
		return
	}
	ls.follow(ctx, p, err)
}

// follow turns an attempt's result into what asynq would have done: a
// retry or a wait becomes a new task for its due time; trouble with the
// database or Redis is retried after a short back-off.
func (ls *lanes) follow(ctx context.Context, p attemptPayload, err error) {
	if err == nil {
		return
	}
	var re *retryError
	var we *waitError
	switch {
	case errors.As(err, &re):
		p.Probe = false
		ls.requeue(ctx, p, re.Delay)
	case errors.As(err, &we):
		ls.requeue(ctx, p, we.Delay)
	case errors.Is(err, asynq.SkipRetry):
	default:
		ls.w.d.Log.WarnContext(ctx, "attempt could not run; will try again", "delivery_id", p.DeliveryID, "error", err)
		ls.requeue(ctx, p, jitter(2*time.Second, 0.5))
	}
}

// requeue puts an attempt back on the queue after delay. A scheduled
// attempt keeps the delivery id as its task id; right after its previous
// task was acknowledged the id may still be taken for a moment, so a
// conflict is retried briefly (failing that, the sweeper enqueues it).
func (ls *lanes) requeue(ctx context.Context, p attemptPayload, delay time.Duration) {
	at := time.Now().Add(delay)
	taskID := p.DeliveryID
	if p.Trigger != domain.TriggerScheduled {
		taskID = ids.New("task")
	}
	for i := 0; i < 20; i++ {
		err := ls.w.d.Enqueuer.enqueueStrict(ctx, taskID, p, at)
		if err == nil {
			return
		}
		if !errors.Is(err, asynq.ErrTaskIDConflict) && !errors.Is(err, asynq.ErrDuplicateTask) {
			ls.w.d.Log.WarnContext(ctx, "retry not enqueued; the sweeper will", "delivery_id", p.DeliveryID, "error", err)
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// stop ends every lane: runners finish the attempt in hand (bounded by
// ctx) and what still waits goes back to the queue.
func (ls *lanes) stop(ctx context.Context) {
	ls.mu.Lock()
	if ls.stopped {
		ls.mu.Unlock()
		return
	}
	ls.stopped = true
	close(ls.quit)
	ls.mu.Unlock()
	done := make(chan struct{})
	go func() { ls.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	ls.mu.Lock()
	var waiting []attemptPayload
	for _, l := range ls.m {
	drain:
		for {
			select {
			case p := <-l.ch:
				waiting = append(waiting, p)
			default:
				break drain
			}
		}
	}
	ls.mu.Unlock()
	for _, p := range waiting {
		ls.requeue(context.Background(), p, 0)
	}
}
