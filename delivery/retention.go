package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// TaskRetention is the periodic retention purge, on the ops queue.
const TaskRetention = "retention:purge:v1"

// Tables the retention purge reports on (metric label "table").
const (
	PurgedAttempts        = "attempts"
	PurgedEventPayloads   = "event_payloads"
	PurgedIdempotencyKeys = "idempotency_keys"
	PurgedJobs            = "jobs"
)

// Purger enforces retention: attempts and event payloads older than
// Retention are removed in batches of Batch rows, one short statement each
// with Pause between them, so deliveries keep being written while it runs.
// An event's row stays (its payload becomes null) so the delivery log keeps
// every delivery; an event with a pending or held delivery keeps its
// payload. Expired idempotency keys and finished jobs older than Retention
// go too. Each pass is recorded (store.LastRetentionRun) and counted in
// metrics through Observe.
type Purger struct {
	Store *store.Store
	// Redis makes one purge run per interval across all worker processes.
	Redis     redis.UniversalClient
	Log       *slog.Logger
	Retention time.Duration
	// Interval is how often the scheduler queues a purge.
	Interval time.Duration
	// Batch is the rows per statement (default 1000).
	Batch int
	// Pause is the wait between batches (default 20ms).
	Pause time.Duration
	// Observe, when set, is told of every batch removed (metrics).
	Observe func(table string, n int64)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var _ asynq.Handler = (*Purger)(nil)

func (p *Purger) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

// ProcessTask runs a purge unless another process already ran the one of
// this interval (the scheduler of every worker process queues one).
func (p *Purger) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	if p.Retention <= 0 {
		return nil
	}
	if p.Redis != nil && p.Interval > 0 {
		start := p.now()
		period := start.Truncate(p.Interval).Unix()
		key := "hookgate:retention:period:" + strconv.FormatInt(period, 10)
		ok, err := p.Redis.SetNX(ctx, key, "1", p.Interval).Result()
		if err != nil {
			return fmt.Errorf("delivery: retention claim: %w", err)
		}
		if !ok {
			return nil
		}
		if _, err := p.purge(ctx, start); err != nil {
			// Give the period back so the retried task purges.
			p.Redis.Del(context.WithoutCancel(ctx), key)
			return err
		}
		return nil
	}
	_, err := p.Purge(ctx)
	return err
}

// Purge runs one retention pass now and records it.
func (p *Purger) Purge(ctx context.Context) (domain.RetentionRun, error) {
	return p.purge(ctx, p.now())
}

func (p *Purger) purge(ctx context.Context, start time.Time) (domain.RetentionRun, error) {
	batch := p.Batch
	if batch <= 0 {
		batch = 1000
	}
	pause := p.Pause
	if pause <= 0 {
		pause = 20 * time.Millisecond
	}
	run := domain.RetentionRun{
		ID: ids.NewAt("ret", start), StartedAt: start, Cutoff: start.Add(-p.Retention), Purged: map[string]int64{},
	}
	steps := []struct {
		table string
		purge func(context.Context, time.Time, int) (int64, error)
		at    time.Time
	}{
		{PurgedAttempts, p.Store.PurgeAttempts, run.Cutoff},
		{PurgedEventPayloads, p.Store.PurgeEventPayloads, run.Cutoff},
		{PurgedIdempotencyKeys, p.Store.PurgeIdempotencyKeys, start},
		{PurgedJobs, p.Store.PurgeJobs, run.Cutoff},
	}
	var err error
steps:
	for _, st := range steps {
		for {
			n, perr := st.purge(ctx, st.at, batch)
			if perr != nil {
				err = perr
				break steps
			}
			run.Purged[st.table] += n
			if n > 0 && p.Observe != nil {
				p.Observe(st.table, n)
			}
			if n < int64(batch) {
				break
			}
			select {
			case <-ctx.Done():
				err = ctx.Err()
				break steps
			case <-time.After(pause):
			}
		}
	}
	run.FinishedAt = p.now()
	if err != nil {
		run.Error = err.Error()
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if rerr := p.Store.RecordRetentionRun(rctx, run, start.Add(-p.Retention)); rerr != nil {
		err = errors.Join(err, rerr)
	}
	log := p.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err != nil {
		log.WarnContext(ctx, "retention purge stopped", "error", err, "purged", run.Purged)
		return run, err
	}
	log.InfoContext(ctx, "retention purge done", "cutoff", run.Cutoff, "purged", run.Purged,
		"duration", run.FinishedAt.Sub(run.StartedAt))
	return run, nil
}

// RegisterPeriodic registers hookgate's periodic ops tasks with a
// scheduler: the retention purge every retentionEvery (none when 0) and the
// job resume pass every minute. Every worker process runs a scheduler;
// asynq.Unique folds their simultaneous enqueues, and the handlers run at
// most one purge per interval.
func RegisterPeriodic(s *asynq.Scheduler, retentionEvery time.Duration) error {
	if retentionEvery > 0 {
		if _, err := s.Register("@every "+retentionEvery.String(), asynq.NewTask(TaskRetention, nil),
			asynq.Queue(QueueOps), asynq.MaxRetry(3), asynq.Timeout(max(retentionEvery, time.Hour)),
			asynq.Unique(max(retentionEvery/2, time.Second))); err != nil {
			return fmt.Errorf("delivery: schedule retention: %w", err)
		}
	}
	if _, err := s.Register("@every 1m", asynq.NewTask(TaskJobResume, nil),
		asynq.Queue(QueueOps), asynq.MaxRetry(1), asynq.Timeout(time.Minute), asynq.Unique(50*time.Second)); err != nil {
		return fmt.Errorf("delivery: schedule job resume: %w", err)
	}
	return nil
}
