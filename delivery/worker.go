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
	Policy  Policy
	Timeout time.Duration // default per-attempt timeout
	Log     *slog.Logger
	// OnEndpointChange is called after the worker changes an endpoint's
	// status (410 Gone), so routing tables can be refreshed.
	OnEndpointChange func(ctx context.Context)
	// Observe, when set, is told of every attempt (metrics).
	Observe func(a domain.Attempt, status domain.DeliveryStatus, eventReceived time.Time)
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Worker runs delivery attempts: the asynq handler for TaskAttempt.
type Worker struct {
	d WorkerDeps
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
	case d.Log == nil:
		return nil, errors.New("delivery: Log is required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Timeout <= 0 {
		d.Timeout = 15 * time.Second
	}
	return &Worker{d: d}, nil
}

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
	return w.attempt(ctx, p)
}

func (w *Worker) attempt(ctx context.Context, p attemptPayload) error {
	log := w.d.Log.With("delivery_id", p.DeliveryID, "trigger", p.Trigger)
	work, err := w.d.Store.DeliveryWork(ctx, p.DeliveryID)
	if errors.Is(err, domain.ErrNotFound) {
		log.WarnContext(ctx, "task for unknown delivery dropped")
		return nil
	}
	if err != nil {
		return err // database trouble: asynq retries with backoff
	}
	d := work.Delivery
	scheduled := p.Trigger == domain.TriggerScheduled
	if scheduled && d.Status != domain.DeliveryPending {
		return nil // done, failed, or held meanwhile: nothing to do
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
	if scheduled {
		if reason := holdReason(rt); reason != "" {
			return w.d.Store.SetDeliveryState(ctx, d.ID, domain.DeliveryHeld, reason, nil)
		}
	}

	// Limits: waiting never consumes an attempt.
	rate := ep.RateLimitPerSecond
	if q := rt.Quota.MaxRatePerSecond; q > 0 && (rate == 0 || rate > q) {
		rate = q
	}
	okRate, wait, err := w.d.Limits.Allow(ctx, ep.ID, rate)
	if err != nil {
		return err
	}
	if !okRate {
		return &waitError{Delay: wait, Reason: "rate limited"}
	}
	token := ids.New("lease")
	okSlot, err := w.d.Limits.Acquire(ctx, ep.ID, token)
	if err != nil {
		return err
	}
	if !okSlot {
		return &waitError{Delay: jitter(time.Second, 0.5), Reason: "endpoint at its concurrency cap"}
	}
	defer w.d.Limits.Release(ctx, ep.ID, token)

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
		RequestURL: ep.URL, RequestHeaders: flatten(h), ResponseStatus: resp.Status,
		ResponseHeaders: flatten(resp.Headers), ResponseBody: resp.Body,
	}
	success := sendErr == nil && resp.Status >= 200 && resp.Status < 300
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
		// pending delivery on its schedule and anything else failed.
		out.Status = domain.DeliveryFailed
		if d.Status == domain.DeliveryPending {
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
	if resp.Status == http.StatusGone && sendErr == nil {
		w.disable(ctx, ep, "endpoint answered 410 Gone")
	}
	if retry > 0 {
		return &retryError{Delay: retry}
	}
	return nil
}

func holdReason(rt *Route) string {
	switch {
	case rt.PartnerStatus == domain.PartnerSuspended:
		return "partner_suspended"
	case rt.Endpoint.Status == domain.EndpointPaused:
		return "endpoint_paused"
	case rt.Endpoint.Status == domain.EndpointDisabled:
		return "endpoint_disabled"
	}
	return ""
}

func (w *Worker) disable(ctx context.Context, ep domain.Endpoint, reason string) {
	ep.Status, ep.StatusReason = domain.EndpointDisabled, reason
	if err := w.d.Store.UpdateEndpoint(ctx, ep); err != nil {
		w.d.Log.ErrorContext(ctx, "cannot disable endpoint", "endpoint_id", ep.ID, "error", err)
		return
	}
	w.d.Log.WarnContext(ctx, "endpoint disabled", "endpoint_id", ep.ID, "reason", reason)
	if w.d.OnEndpointChange != nil {
		w.d.OnEndpointChange(ctx)
	}
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
