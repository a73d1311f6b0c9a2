package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// QueueStats is one queue's depth by state.
type QueueStats struct {
	Queue     string
	Pending   int
	Active    int
	Scheduled int
	Retry     int
	Archived  int
	// OldestPending is how long the oldest pending task has waited.
	OldestPending time.Duration
	Processed     int // today
	Failed        int // today
}

// Inspector reads queue depths from Redis.
type Inspector struct {
	in *asynq.Inspector
}

// NewInspector wraps asynq's inspector on the shared Redis client.
func NewInspector(rdb redis.UniversalClient) *Inspector {
	return &Inspector{in: asynq.NewInspectorFromRedisClient(rdb)}
}

// Queues returns the stats of hookgate's queues (a queue that has never
// held a task reports zeros).
func (i *Inspector) Queues(_ context.Context) ([]QueueStats, error) {
	// GetQueueInfo reports a queue that does not exist yet with asynq's
	// internal NOT_FOUND error, not ErrQueueNotFound, so ask which exist.
	known, err := i.in.Queues()
	if err != nil {
		return nil, fmt.Errorf("delivery: list queues: %w", err)
	}
	var out []QueueStats
	for _, q := range []string{QueueDeliveries, QueueOps} {
		if !slices.Contains(known, q) {
			out = append(out, QueueStats{Queue: q})
			continue
		}
		info, err := i.in.GetQueueInfo(q)
		if errors.Is(err, asynq.ErrQueueNotFound) {
			out = append(out, QueueStats{Queue: q})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("delivery: queue %s: %w", q, err)
		}
		out = append(out, QueueStats{
			Queue: q, Pending: info.Pending, Active: info.Active, Scheduled: info.Scheduled,
			Retry: info.Retry, Archived: info.Archived, OldestPending: info.Latency,
			Processed: info.Processed, Failed: info.Failed,
		})
	}
	return out, nil
}
