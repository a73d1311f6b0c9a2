package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
)

// Queue names and task types. Task names are versioned: a payload change
// gets a new name so old workers never misread new tasks.
const (
	QueueDeliveries = "deliveries"
	QueueOps        = "ops"
	TaskAttempt     = "delivery:attempt:v1"
)

// attemptPayload is the queue payload: ids only, never data.
type attemptPayload struct {
	DeliveryID string         `json:"d"`
	EndpointID string         `json:"e,omitempty"`
	Trigger    domain.Trigger `json:"t,omitempty"`
	// Probe marks the half-open probe of a circuit-open endpoint.
	Probe bool `json:"p,omitempty"`
}

// Enqueuer puts delivery attempts on the queue.
type Enqueuer struct {
	client *asynq.Client
	// taskTimeout bounds one task run (HTTP timeout plus bookkeeping).
	taskTimeout time.Duration
}

// NewEnqueuer wraps an asynq client.
func NewEnqueuer(c *asynq.Client, deliveryTimeout time.Duration) *Enqueuer {
	// A task may wait in its endpoint's lane before its attempt: allow for
	// that (a crashed worker's tasks come back when their lease runs out,
	// whatever this timeout).
	return &Enqueuer{client: c, taskTimeout: deliveryTimeout + 30*time.Minute}
}

// Enqueue schedules the scheduled attempt of a delivery at `at` (zero:
// now). The task id is the delivery id, so enqueuing the same pending
// delivery twice is harmless: the second is refused as a duplicate.
func (e *Enqueuer) Enqueue(ctx context.Context, deliveryID string, at time.Time) error {
	return e.enqueue(ctx, deliveryID, deliveryID, domain.TriggerScheduled, at)
}

// EnqueueFor is Enqueue for a delivery whose endpoint is known: the task
// carries the endpoint id, so a throttled or busy endpoint's tasks are
// turned back before any database read.
func (e *Enqueuer) EnqueueFor(ctx context.Context, d domain.Delivery, at time.Time) error {
	return e.enqueuePayload(ctx, d.ID, attemptPayload{DeliveryID: d.ID, EndpointID: d.EndpointID, Trigger: domain.TriggerScheduled}, at)
}

// EnqueueTriggered schedules an extra attempt now (manual retry, recover,
// replay, test), with its own task id so it never collides with the
// delivery's scheduled task.
func (e *Enqueuer) EnqueueTriggered(ctx context.Context, deliveryID string, trigger domain.Trigger) error {
	return e.enqueue(ctx, ids.New("task"), deliveryID, trigger, time.Time{})
}

// EnqueueProbe schedules the half-open probe of a circuit-open endpoint:
// the delivery's scheduled attempt, made although the endpoint is paused.
func (e *Enqueuer) EnqueueProbe(ctx context.Context, deliveryID string) error {
	return e.enqueuePayload(ctx, deliveryID, attemptPayload{DeliveryID: deliveryID, Trigger: domain.TriggerScheduled, Probe: true}, time.Time{})
}

func (e *Enqueuer) enqueue(ctx context.Context, taskID, deliveryID string, trigger domain.Trigger, at time.Time) error {
	return e.enqueuePayload(ctx, taskID, attemptPayload{DeliveryID: deliveryID, Trigger: trigger}, at)
}

func (e *Enqueuer) enqueuePayload(ctx context.Context, taskID string, ap attemptPayload, at time.Time) error {
	deliveryID := ap.DeliveryID
	p, _ := json.Marshal(ap)
	opts := []asynq.Option{
		asynq.TaskID(taskID), asynq.Queue(QueueDeliveries),
		asynq.MaxRetry(1 << 30), asynq.Timeout(e.taskTimeout),
	}
	if !at.IsZero() {
		if d := time.Until(at); d > 0 {
			// asynq truncates due times to whole seconds: round up so
			// nothing runs early.
			opts = append(opts, asynq.ProcessAt(ceilSecond(at)))
		}
	}
	_, err := e.client.EnqueueContext(ctx, asynq.NewTask(TaskAttempt, p), opts...)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) && !errors.Is(err, asynq.ErrDuplicateTask) {
		return fmt.Errorf("delivery: enqueue %s: %w", deliveryID, err)
	}
	return nil
}
