package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/hookgate/hookgate/internal/domain"
)

// TaskEnrich is the Odoo connector's task: confirm one event against Odoo
// and expand its data, then fan it out. It runs on QueueOps.
const TaskEnrich = "event:enrich:v1"

// enrichMaxRetry bounds the failed tries of one enrichment (Odoo down, bad
// credentials): about seven minutes of backoff, after which the last try
// fans the event out as the webhook sent it.
const enrichMaxRetry = 10

// Enricher tells fan-out which events must be enriched before they are
// fanned out (events of sources with Odoo API credentials).
type Enricher interface {
	NeedsEnrichment(ctx context.Context, e domain.Event) bool
}

// EventEnricher confirms and expands one stored event (the Odoo connector).
type EventEnricher interface {
	// EnrichEvent returns the event ready for fan-out, with Enriched set,
	// or fanOut false when it was dropped (a rolled-back change) or fanned
	// out already. final says this is the last try: rather than fail, it
	// gives up enriching and returns the event as it is. A
	// *domain.WaitError asks for another try later.
	EnrichEvent(ctx context.Context, eventID string, final bool) (ev domain.Event, fanOut bool, err error)
}

// enrichPayload is TaskEnrich's payload: ids only.
type enrichPayload struct {
	EventID string `json:"event_id"`
}

// EnqueueEnrich schedules the enrichment of an event. The task id is
// derived from the event id, so the sweeper re-submitting a held event
// while its enrichment is queued or retrying adds nothing.
func (e *Enqueuer) EnqueueEnrich(ctx context.Context, eventID string) error {
	p, _ := json.Marshal(enrichPayload{EventID: eventID})
	_, err := e.client.EnqueueContext(ctx, asynq.NewTask(TaskEnrich, p),
		asynq.TaskID("enrich:"+eventID), asynq.Queue(QueueOps), asynq.MaxRetry(enrichMaxRetry),
		asynq.Timeout(e.taskTimeout))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) && !errors.Is(err, asynq.ErrDuplicateTask) {
		return fmt.Errorf("delivery: enqueue enrichment of %s: %w", eventID, err)
	}
	return nil
}

// holdForEnrichment returns the events that may be fanned out now and
// enqueues the enrichment of the others. An event whose enqueue fails stays
// in the database not fanned out, for the sweeper.
func (f *Dispatcher) holdForEnrichment(ctx context.Context, events []domain.Event) []domain.Event {
	if f.d.Enricher == nil {
		return events
	}
	ready := events[:0:0]
	for _, e := range events {
		if e.Enriched || !f.d.Enricher.NeedsEnrichment(ctx, e) {
			ready = append(ready, e)
			continue
		}
		if err := f.d.Enqueuer.EnqueueEnrich(ctx, e.ID); err != nil {
			f.d.Log.WarnContext(ctx, "enrichment not enqueued; the sweeper will retry", "event_id", e.ID, "error", err)
		}
	}
	return ready
}

// EnrichWorker is the asynq handler of TaskEnrich.
type EnrichWorker struct {
	Enricher   EventEnricher
	Dispatcher *Dispatcher
	Log        *slog.Logger
}

var _ asynq.Handler = (*EnrichWorker)(nil)

// ProcessTask enriches one event and fans it out.
func (w *EnrichWorker) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p enrichPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.EventID == "" {
		return fmt.Errorf("delivery: bad enrichment payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	ev, fanOut, err := w.Enricher.EnrichEvent(ctx, p.EventID, retried >= maxRetry)
	var wait *domain.WaitError
	switch {
	case errors.As(err, &wait):
		return &waitError{Delay: wait.Delay, Reason: wait.Reason}
	case errors.Is(err, domain.ErrNotFound):
		w.Log.WarnContext(ctx, "enrichment task for unknown event dropped", "event_id", p.EventID)
		return nil
	case err != nil:
		w.Log.WarnContext(ctx, "enrichment failed; will retry", "event_id", p.EventID, "retried", retried, "error", err)
		return err
	case !fanOut:
		return nil
	}
	ev.Enriched = true
	return w.Dispatcher.FanOut(ctx, []domain.Event{ev})
}
