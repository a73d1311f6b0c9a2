package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/delivery/outbound"
	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// WorkerDeps are what a Worker needs.
type WorkerDeps struct {
	Store   *store.Store
	Routes  *Routes
	Client  *outbound.Client
	Writer  *Writer
	Limits  *Limits
	Breaker *Breaker
	Policy  Policy
	Timeout time.Duration // default per-attempt timeout
	// EndpointConcurrency caps in-flight attempts per endpoint (default 10).
	EndpointConcurrency int
	// Concurrency caps in-flight attempts per process (default 200).
	Concurrency int
	// Enqueuer puts retries of lane-run attempts back on the queue.
	Enqueuer *Enqueuer
	Log      *slog.Logger
	// Observe, when set, is told of every attempt (metrics).
	Observe func(a domain.Attempt, status domain.DeliveryStatus, eventReceived time.Time)
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Worker runs delivery attempts: the asynq handler for TaskAttempt.
type Worker struct {
	d     WorkerDeps
	lanes *lanes
}

// NewWorker checks its dependencies.
func NewWorker(d WorkerDeps) (*Worker, error) {
	switch {
	case d.Store == nil:
		return nil, errors.New("delivery: Store is required")
	case d.Routes == nil:
		return nil, errors.New("delivery: Routes is required")
	case d.Client == nil:
		return nil, errors.New("delivery: Client is required")
	case d.Writer == nil:
		return nil, errors.New("delivery: Writer is required")
	case d.Limits == nil:
		return nil, errors.New("delivery: Limits is required")
	case d.Breaker == nil:
		return nil, errors.New("delivery: Breaker is required")
	case d.Enqueuer == nil:
		return nil, errors.New("delivery: Enqueuer is required")
	case d.Log == nil:
		return nil, errors.New("delivery: Log is required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Timeout <= 0 {
		d.Timeout = 15 * time.Second
	}
	if d.EndpointConcurrency <= 0 {
		d.EndpointConcurrency = 10
	}
	if d.Concurrency <= 0 {
		d.Concurrency = 200
	}
	w := &Worker{d: d}
	w.lanes = newLanes(w, d.EndpointConcurrency, d.Concurrency)
	return w, nil
}

// BeginStop makes the worker stop taking attempts: those waiting in a lane
// go back to the queue at once, those in flight finish. Call it before
// shutting the asynq server down, then Wait.
func (w *Worker) BeginStop() { w.lanes.beginStop() }

// Wait blocks until the attempts in flight have finished, or ctx ends.
func (w *Worker) Wait(ctx context.Context) { w.lanes.wait(ctx) }

var _ asynq.Handler = (*Worker)(nil)

// ProcessTask makes one attempt of the delivery named by the task.
func (w *Worker) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p attemptPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.DeliveryID == "" {
		return fmt.Errorf("delivery: bad payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	if p.Trigger == "" {
		p.Trigger = domain.TriggerScheduled
	}
	if p.EndpointID == "" {
		// Tasks from the sweeper, releases and replays name only the
		// delivery: find its endpoint.
		work, err := w.d.Store.DeliveryWork(ctx, p.DeliveryID)
		if errors.Is(err, domain.ErrNotFound) {
			w.d.Log.WarnContext(ctx, "task for unknown delivery dropped", "delivery_id", p.DeliveryID)
			return nil
		}
		if err != nil {
			return err
		}
		p.EndpointID = work.Delivery.EndpointID
	}
	rt, ok := w.d.Routes.Get(p.EndpointID)
	if ok && p.Trigger != domain.TriggerScheduled && rt.PartnerStatus == domain.PartnerSuspended {
		// Nothing goes out for a suspended partner, not even a manual
		// retry or a replay; its deliveries wait, held, for reactivation.
		w.d.Log.InfoContext(ctx, "extra attempt for a suspended partner not made", "delivery_id", p.DeliveryID, "trigger", p.Trigger)
		return nil
	}
	if !ok || (p.Trigger == domain.TriggerScheduled && !p.Probe && holdReason(rt) != "") {
		// Deleted endpoint or a hold: settled here, no HTTP involved.
		return w.attempt(ctx, p, nil)
	}
	return w.lanes.do(ctx, p)
}

// slotFunc takes the endpoint's concurrency slot just before the request.
type slotFunc func(ctx context.Context, rt *Route) (*slotLease, error)

// attempt makes one attempt. slot takes the endpoint's concurrency slot
// right before the HTTP request (a lane waits for it); nil applies the
// limits directly (inline use). Deleted endpoints and holds need none.
func (w *Worker) attempt(ctx context.Context, p attemptPayload, slot slotFunc) error {
	log := w.d.Log.With("delivery_id", p.DeliveryID, "trigger", p.Trigger)
	scheduled := p.Trigger == domain.TriggerScheduled

	work, err := w.d.Store.DeliveryWork(ctx, p.DeliveryID)
	if errors.Is(err, domain.ErrNotFound) {
		log.WarnContext(ctx, "task for unknown delivery dropped")
		return nil
	}
	if err != nil {
		return err // database trouble: asynq retries with backoff
	}
	d := work.Delivery
	if scheduled && d.Status != domain.DeliveryPending {
		return nil // done, failed, or held meanwhile: nothing to do
	}
	if len(work.Payload) == 0 {
		// Retention purged the event's payload (it never purges one a
		// pending or held delivery still needs): there is nothing to send.
		log.WarnContext(ctx, "event payload purged by retention; attempt dropped")
		return nil
	}
	rt, ok := w.d.Routes.Get(d.EndpointID)
	if !ok {
		// The endpoint was deleted: the delivery can never be made.
		if scheduled {
			now := w.d.Now()
			return w.d.Writer.Record(ctx, store.Outcome{
				Attempt: domain.Attempt{
					ID: ids.New(ids.Attempt), DeliveryID: d.ID, EndpointID: d.EndpointID, PartnerID: d.PartnerID,
					Number: d.Attempts + 1, Trigger: p.Trigger, StartedAt: now,
					RequestHeaders: map[string]string{}, ErrorClass: "endpoint_deleted", Error: "endpoint was deleted",
				},
				Status: domain.DeliveryFailed, Attempts: d.Attempts + 1,
			})
		}
		return nil
	}
	ep := rt.Endpoint
	if scheduled && !p.Probe {
		if reason := holdReason(rt); reason != "" {
			return w.d.Store.SetDeliveryState(ctx, d.ID, domain.DeliveryHeld, reason, nil)
		}
	}
	if slot == nil {
		slot = w.limit
	}
	lease, err := slot(ctx, rt)
	if err != nil {
		return err
	}
	defer lease.release(nil)
	release := lease.release

	number := d.Attempts + 1
	now := w.d.Now()
	ts := now.Unix()
	sig := rt.Signer.Sign(d.EventID, ts, work.Payload)
	h := make(http.Header, 6+len(ep.Headers))
	for k, v := range ep.Headers {
		h.Set(k, v)
	}
	h["Content-Type"] = []string{"application/json"}
	h["Webhook-Id"] = []string{d.EventID}
	h["Webhook-Timestamp"] = []string{strconv.FormatInt(ts, 10)}
	h["Webhook-Signature"] = []string{sig}
	h["User-Agent"] = []string{"hookgate/1 (+webhooks)"}
	timeout := w.d.Timeout
	if ep.TimeoutSeconds > 0 {
		timeout = time.Duration(ep.TimeoutSeconds) * time.Second
	}
	resp, sendErr := w.d.Client.Do(ctx, outbound.Request{URL: ep.URL, Headers: h, Body: work.Payload, Timeout: timeout})

	a := domain.Attempt{
		ID: ids.New(ids.Attempt), DeliveryID: d.ID, EndpointID: ep.ID, PartnerID: d.PartnerID,
		Number: number, Trigger: p.Trigger, StartedAt: now, Duration: resp.Duration,
		RequestURL: domain.RedactURL(ep.URL), RequestHeaders: domain.RedactHeaders(flatten(h), ep.Headers), ResponseStatus: resp.Status,
		ResponseHeaders: flatten(resp.Headers), ResponseBody: resp.Body,
	}
	success := sendErr == nil && resp.Status >= 200 && resp.Status < 300
	// Free the endpoint's slot as soon as the response is in (not after the
	// attempt log is written): the slot bounds requests to the partner, and
	// holding it through the database write would cap a fast endpoint's
	// throughput at cap ÷ commit time. A success also ends a failure run, in
	// the same round trip.
	br := w.d.Breaker
	if success {
		release(func(pipe redis.Pipeliner) { br.onSuccess(pipe, ep.ID) })
	} else {
		release(nil)
	}
	if sendErr != nil {
		a.ErrorClass = string(outbound.ClassOf(sendErr))
		a.Error = sendErr.Error()
		a.ResponseHeaders = nil
	} else if !success {
		a.ErrorClass = string(outbound.ClassHTTPStatus)
		a.Error = "HTTP " + strconv.Itoa(resp.Status)
	}

	out := store.Outcome{Attempt: a, Attempts: number}
	var retry time.Duration
	switch {
	case success:
		out.Status = domain.DeliverySucceeded
	case !scheduled:
		// An extra attempt (manual, recover, replay) that failed leaves a
		// pending delivery on its schedule and anything else failed (a
		// pending delivery with nothing scheduled — a test send, a replay's
		// new delivery — waited for this attempt alone).
		out.Status = domain.DeliveryFailed
		if d.Status == domain.DeliveryPending && d.NextAttemptAt != nil {
			out.Status, out.NextAttemptAt = domain.DeliveryPending, d.NextAttemptAt
		}
	case resp.Status == http.StatusGone:
		out.Status = domain.DeliveryFailed
	default:
		delay, more := w.d.Policy.Next(ep.RetrySchedule, number+1)
		if !more {
			out.Status = domain.DeliveryFailed
			break
		}
		if resp.Status == http.StatusTooManyRequests || resp.Status == http.StatusServiceUnavailable {
			if ra, ok := outbound.RetryAfter(resp.Headers, now); ok {
				delay = BoundRetryAfter(delay, ra)
			}
		}
		next := now.Add(delay)
		out.Status, out.NextAttemptAt, retry = domain.DeliveryPending, &next, delay
	}
	if err := w.d.Writer.Record(ctx, out); err != nil {
		return err // not recorded: the task runs again (at least once)
	}
	if w.d.Observe != nil {
		w.d.Observe(a, out.Status, ids.Time(d.EventID))
	}
	// Circuit breaker and operational events.
	switch {
	case success:
		if p.Probe {
			br.probeResult(ctx, rt, true)
		}
	case resp.Status == http.StatusGone && sendErr == nil:
		br.disable(ctx, ep, domain.ReasonGone, "the endpoint answered 410 Gone", nil)
	case scheduled:
		if p.Probe {
			br.probeResult(ctx, rt, false)
		} else {
			br.onFailure(ctx, rt)
		}
	}
	if scheduled && out.Status == domain.DeliveryFailed && !IsOperational(d.EventType) {
		br.emit(ctx, d.PartnerID, OpsDeliveryExhausted, map[string]any{
			"delivery_id": d.ID, "event_id": d.EventID, "event_type": d.EventType, "endpoint_id": ep.ID,
			"attempts": number, "last_response_status": resp.Status, "last_error": a.Error,
		})
	}
	if retry > 0 {
		return &retryError{Delay: retry}
	}
	return nil
}

// holdReason says why a delivery to rt must wait, or "" when it may go.
func holdReason(rt *Route) string {
	switch {
	case rt.PartnerStatus == domain.PartnerSuspended:
		return "partner_suspended"
	case rt.Endpoint.Status == domain.EndpointPaused && rt.Endpoint.StatusReason == domain.ReasonCircuitOpen:
		return domain.ReasonCircuitOpen
	case rt.Endpoint.Status == domain.EndpointPaused:
		return "endpoint_paused"
	case rt.Endpoint.Status == domain.EndpointDisabled:
		return "endpoint_disabled"
	}
	return ""
}

func flatten(h http.Header) map[string]string {
	if h == nil {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		if len(v) == 1 {
			out[http.CanonicalHeaderKey(k)] = v[0]
			continue
		}
		b, _ := json.Marshal(v)
		out[http.CanonicalHeaderKey(k)] = string(b)
	}
	return out
}

// slotLease is a held concurrency slot of one endpoint.
type slotLease struct {
	w          *Worker
	ctx        context.Context
	endpointID string
	token      string
	done       bool
	onRelease  func()
}

// release frees the slot once; also adds commands to the same round trip.
func (l *slotLease) release(also func(redis.Pipeliner)) {
	if l.done {
		return
	}
	l.done = true
	l.w.d.Limits.Release(l.ctx, l.endpointID, l.token, also)
	if l.onRelease != nil {
		l.onRelease()
	}
}

// limit applies the endpoint's rate limit (capped by the partner's quota)
// and takes one of its concurrency slots; a *waitError asks asynq to run
// the task later without counting a failure.
func (w *Worker) limit(ctx context.Context, rt *Route) (*slotLease, error) {
	ep := rt.Endpoint
	rate := ep.RateLimitPerSecond
	if q := rt.Quota.MaxRatePerSecond; q > 0 && (rate == 0 || rate > q) {
		rate = q
	}
	okRate, wait, err := w.d.Limits.Allow(ctx, ep.ID, rate)
	if err != nil {
		return nil, err
	}
	if !okRate {
		return nil, &waitError{Delay: wait, Reason: "rate limited"}
	}
	token := ids.New("lease")
	okSlot, err := w.d.Limits.Acquire(ctx, ep.ID, token)
	if err != nil {
		return nil, err
	}
	if !okSlot {
		// Busy endpoint: come back later, spread out so a large backlog
		// does not churn through the queue.
		return nil, &waitError{Delay: jitter(3*time.Second, 0.5), Reason: "endpoint at its concurrency cap"}
	}
	return &slotLease{w: w, ctx: ctx, endpointID: ep.ID, token: token}, nil
}
