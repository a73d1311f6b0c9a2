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
	Trigger    domain.Trigger `json:"t,omitempty"`
}

// Enqueuer puts delivery attempts on the queue.
type Enqueuer struct {
	client *asynq.Client
	// taskTimeout bounds one task run (HTTP timeout plus bookkeeping).
	taskTimeout time.Duration
}

// NewEnqueuer wraps an asynq client.
func NewEnqueuer(c *asynq.Client, deliveryTimeout time.Duration) *Enqueuer {
	return &Enqueuer{client: c, taskTimeout: deliveryTimeout + 30*time.Second}
}

// Enqueue schedules the scheduled attempt of a delivery at `at` (zero:
// now). The task id is the delivery id, so enqueuing the same pending
// delivery twice is harmless: the second is refused as a duplicate.
func (e *Enqueuer) Enqueue(ctx context.Context, deliveryID string, at time.Time) error {
	return e.enqueue(ctx, deliveryID, deliveryID, domain.TriggerScheduled, at)
}

// EnqueueTriggered schedules an extra attempt now (manual retry, recover,
// replay, test), with its own task id so it never collides with the
// delivery's scheduled task.
func (e *Enqueuer) EnqueueTriggered(ctx context.Context, deliveryID string, trigger domain.Trigger) error {
	return e.enqueue(ctx, ids.New("task"), deliveryID, trigger, time.Time{})
}

func (e *Enqueuer) enqueue(ctx context.Context, taskID, deliveryID string, trigger domain.Trigger, at time.Time) error {
	p, _ := json.Marshal(attemptPayload{DeliveryID: deliveryID, Trigger: trigger})
	opts := []asynq.Option{
		asynq.TaskID(taskID), asynq.Queue(QueueDeliveries),
		asynq.MaxRetry(1 << 30), asynq.Timeout(e.taskTimeout),
	}
	if !at.IsZero() {
		if d := time.Until(at); d > 0 {
			opts = append(opts, asynq.ProcessAt(at))
		}
	}
	_, err := e.client.EnqueueContext(ctx, asynq.NewTask(TaskAttempt, p), opts...)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) && !errors.Is(err, asynq.ErrDuplicateTask) {
		return fmt.Errorf("delivery: enqueue %s: %w", deliveryID, err)
	}
	return nil
}
