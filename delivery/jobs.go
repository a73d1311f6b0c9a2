package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// Background job task types, on the ops queue.
const (
	// TaskJobRun runs the next chunk of a job (recover, replay, back-fill).
	TaskJobRun = "job:run:v1"
	// TaskJobResume is the periodic repair pass that re-queues jobs whose
	// chunk task was lost (Redis flushed, task archived).
	TaskJobResume = "job:resume:v1"
)

// jobPayload is the job task's payload: the job id only; where to resume
// is in the job's row.
type jobPayload struct {
	JobID string `json:"job_id"`
}

// EnqueueJob queues a chunk of job jobID on the ops queue at `at` (zero:
// now). The task id is the job id plus key, so the same continuation is
// queued once however often it is asked for.
func (e *Enqueuer) EnqueueJob(ctx context.Context, jobID, key string, at time.Time) error {
	p, _ := json.Marshal(jobPayload{JobID: jobID})
	opts := []asynq.Option{
		asynq.TaskID(jobID + ":" + key), asynq.Queue(QueueOps),
		asynq.MaxRetry(12), asynq.Timeout(5 * time.Minute),
	}
	if !at.IsZero() && time.Until(at) > 0 {
		opts = append(opts, asynq.ProcessAt(at))
	}
	_, err := e.client.EnqueueContext(ctx, asynq.NewTask(TaskJobRun, p), opts...)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) && !errors.Is(err, asynq.ErrDuplicateTask) {
		return fmt.Errorf("delivery: enqueue job %s: %w", jobID, err)
	}
	return nil
}

// JobRunnerDeps are what a JobRunner needs.
type JobRunnerDeps struct {
	Store    *store.Store
	Enqueuer *Enqueuer
	// Routes gives endpoints' rate limits, to pace the chunks.
	Routes *Routes
	// Redis holds each job's run lock.
	Redis redis.UniversalClient
	Log   *slog.Logger
	// ChunkSize is how many deliveries one chunk hands over (default 500).
	ChunkSize int
	// MaxBacklog: while the deliveries queue has more tasks pending than
	// this, the next chunk waits, so live traffic is not stuck behind a
	// bulk replay (default 2000).
	MaxBacklog int
	// Backlog reports the deliveries queue's pending tasks (default: asynq's
	// inspector on Redis).
	Backlog func(ctx context.Context) (int, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// JobRunner is the asynq handler of TaskJobRun and TaskJobResume. A job
// runs in chunks: each hands up to ChunkSize deliveries to the delivery
// queue with the job's trigger — the normal delivery worker sends them, so
// endpoint rate limits and concurrency caps apply — records them and the
// resume position in the job's row, and queues the next chunk, delayed as
// the slowest endpoint's rate limit requires. A worker that stops mid-job
// resumes from the row. Delivery is at least once: a chunk interrupted
// between handing over and recording may hand the same deliveries over
// again; receivers deduplicate by webhook-id, which stays the event id.
type JobRunner struct {
	d JobRunnerDeps
}

// NewJobRunner checks its dependencies.
func NewJobRunner(d JobRunnerDeps) (*JobRunner, error) {
	switch {
	case d.Store == nil:
		return nil, errors.New("delivery: Store is required")
	case d.Enqueuer == nil:
		return nil, errors.New("delivery: Enqueuer is required")
	case d.Routes == nil:
		return nil, errors.New("delivery: Routes is required")
	case d.Redis == nil:
		return nil, errors.New("delivery: Redis is required")
	case d.Log == nil:
		return nil, errors.New("delivery: Log is required")
	}
	if d.ChunkSize <= 0 {
		d.ChunkSize = 500
	}
	if d.MaxBacklog <= 0 {
		d.MaxBacklog = 2000
	}
	if d.Backlog == nil {
		insp := asynq.NewInspectorFromRedisClient(d.Redis)
		d.Backlog = func(context.Context) (int, error) {
			info, err := insp.GetQueueInfo(QueueDeliveries)
			if errors.Is(err, asynq.ErrQueueNotFound) {
				return 0, nil
			}
			if err != nil {
				return 0, err
			}
			return info.Pending, nil
		}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &JobRunner{d: d}, nil
}

var _ asynq.Handler = (*JobRunner)(nil)

// ProcessTask runs one chunk of the job named by the task, or the resume
// pass.
func (r *JobRunner) ProcessTask(ctx context.Context, t *asynq.Task) error {
	if t.Type() == TaskJobResume {
		return r.Resume(ctx)
	}
	var p jobPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.JobID == "" {
		return fmt.Errorf("delivery: bad job payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	err := r.RunChunk(ctx, p.JobID)
	if err != nil {
		n, _ := asynq.GetRetryCount(ctx)
		maxRetry, ok := asynq.GetMaxRetry(ctx)
		if ok && n >= maxRetry {
			r.d.Log.ErrorContext(ctx, "job failed", "job_id", p.JobID, "error", err)
			if ferr := r.d.Store.FinishJob(context.WithoutCancel(ctx), p.JobID, domain.JobFailed,
				"stopped after repeated errors: "+err.Error(), r.d.Now().UTC()); ferr != nil {
				r.d.Log.ErrorContext(ctx, "cannot mark job failed", "job_id", p.JobID, "error", ferr)
			}
		}
	}
	return err
}

// unlockScript deletes a lock only if it still holds our token.
var unlockScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)

// RunChunk hands the job's next chunk to the delivery queue and queues the
// chunk after it, or finishes the job. One chunk of a job runs at a time
// across all workers (a Redis lock); a second task for the same job that
// finds the lock taken does nothing, since the holder continues the chain.
func (r *JobRunner) RunChunk(ctx context.Context, jobID string) error {
	lockKey := "hookgate:job:lock:" + jobID
	token := ids.New("lease")
	ok, err := r.d.Redis.SetNX(ctx, lockKey, token, 5*time.Minute).Result()
	if err != nil {
		return fmt.Errorf("delivery: job lock: %w", err)
	}
	if !ok {
		return nil
	}
	defer unlockScript.Run(context.WithoutCancel(ctx), r.d.Redis, []string{lockKey}, token)

	job, err := r.d.Store.JobState(ctx, jobID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil // purged
	}
	if err != nil {
		return err
	}
	if job.Status.Terminal() {
		return nil
	}
	now := r.d.Now().UTC()
	if job.NextRunAt.After(now.Add(time.Second)) {
		return nil // an early duplicate: the paced continuation is queued
	}
	if n, err := r.d.Backlog(ctx); err != nil {
		r.d.Log.WarnContext(ctx, "deliveries queue backlog unknown", "error", err)
	} else if n > r.d.MaxBacklog {
		next := now.Add(time.Second)
		if err := r.d.Store.AdvanceJob(ctx, job.ID, nil, now, "", next, now); err != nil {
			return err
		}
		return r.d.Enqueuer.EnqueueJob(ctx, job.ID, fmt.Sprintf("%s:wait:%d", job.Cursor, next.UnixMilli()), next)
	}

	items, last, more, err := r.chunk(ctx, job, now)
	if errors.Is(err, errJobStopped) {
		return nil
	}
	if err != nil {
		return err
	}
	itemIDs := make([]string, len(items))
	for i, it := range items {
		itemIDs[i] = it.id
	}
	handed, err := r.d.Store.HandedDeliveries(ctx, job.ID, itemIDs)
	if err != nil {
		return err
	}
	trigger := job.Kind.Trigger()
	sent := make([]string, 0, len(items))
	perEndpoint := map[string]int{}
	for _, it := range items {
		if handed[it.id] {
			continue
		}
		if err := r.d.Enqueuer.EnqueueTriggered(ctx, it.id, trigger); err != nil {
			// Record what went out; the retried task carries on from here.
			if rerr := r.d.Store.AdvanceJob(context.WithoutCancel(ctx), job.ID, sent, now, "", now, now); rerr != nil {
				r.d.Log.ErrorContext(ctx, "cannot record job progress", "job_id", job.ID, "error", rerr)
			}
			return err
		}
		sent = append(sent, it.id)
		perEndpoint[it.endpointID]++
	}
	if !more {
		if err := r.d.Store.AdvanceJob(ctx, job.ID, sent, now, last, now, now); err != nil {
			return err
		}
		r.d.Log.InfoContext(ctx, "job completed", "job_id", job.ID, "kind", string(job.Kind))
		return r.d.Store.FinishJob(ctx, job.ID, domain.JobCompleted, "", r.d.Now().UTC())
	}
	next := now.Add(r.pace(perEndpoint))
	if err := r.d.Store.AdvanceJob(ctx, job.ID, sent, now, last, next, now); err != nil {
		return err
	}
	return r.d.Enqueuer.EnqueueJob(ctx, job.ID, last, next)
}

// chunkItem is a delivery a chunk hands over.
type chunkItem struct{ id, endpointID string }

// chunk selects the job's next deliveries after its cursor: failed
// deliveries of the endpoint (recover), or the deliveries of the next
// events to the endpoints that match them now, created when missing
// (replay, back-fill). last is the new cursor; more says whether anything
// may follow.
func (r *JobRunner) chunk(ctx context.Context, job domain.Job, now time.Time) (items []chunkItem, last string, more bool, err error) {
	p := job.Params
	switch job.Kind {
	case domain.JobRecover:
		if _, err := r.d.Store.Endpoint(ctx, job.PartnerID, p.EndpointID); errors.Is(err, domain.ErrNotFound) {
			return nil, "", false, r.fail(ctx, job, "the endpoint was deleted")
		} else if err != nil {
			return nil, "", false, err
		}
		ds, err := r.d.Store.FailedDeliveries(ctx, job.PartnerID, p.EndpointID, p.Since, p.Until, job.Cursor, r.d.ChunkSize)
		if err != nil {
			return nil, "", false, err
		}
		last = job.Cursor
		for _, d := range ds {
			items = append(items, chunkItem{d.ID, d.EndpointID})
			last = d.ID
		}
		return items, last, len(ds) == r.d.ChunkSize, nil
	case domain.JobReplay, domain.JobBackfill:
		sel := store.ReplaySelection{
			Since: p.Since, Until: p.Until, EventTypes: p.EventTypes, PartnerID: p.PartnerID, EndpointID: p.EndpointID,
			MissingOnly: job.Kind == domain.JobBackfill,
		}
		pairs, last, more, err := r.d.Store.ReplayChunk(ctx, sel, job.Cursor, r.d.ChunkSize)
		if err != nil {
			return nil, "", false, err
		}
		ds := make([]domain.Delivery, len(pairs))
		for i, pr := range pairs {
			// A new delivery waits for the job's attempt only: pending with
			// nothing scheduled, so that attempt alone settles it.
			ds[i] = domain.Delivery{
				ID: ids.NewAt(ids.Delivery, now), EventID: pr.EventID, EndpointID: pr.Endpoint.ID,
				PartnerID: pr.Endpoint.PartnerID, EventType: pr.EventType, Status: domain.DeliveryPending,
				CreatedAt: now, UpdatedAt: now,
			}
		}
		all, err := r.d.Store.EnsureDeliveries(ctx, ds)
		if err != nil {
			return nil, "", false, err
		}
		for _, d := range all {
			items = append(items, chunkItem{d.ID, d.EndpointID})
		}
		return items, last, more, nil
	}
	return nil, "", false, r.fail(ctx, job, "unknown job kind "+string(job.Kind))
}

// fail ends the job as failed; the chunk then has nothing to do.
func (r *JobRunner) fail(ctx context.Context, job domain.Job, reason string) error {
	r.d.Log.WarnContext(ctx, "job failed", "job_id", job.ID, "reason", reason)
	if err := r.d.Store.FinishJob(ctx, job.ID, domain.JobFailed, reason, r.d.Now().UTC()); err != nil {
		return err
	}
	return errJobStopped
}

// errJobStopped ends a chunk whose job was just finished.
var errJobStopped = errors.New("delivery: job stopped")

// pace is how long the deliveries just handed over take to pass the
// slowest endpoint's rate limit: the next chunk waits that long, so a job
// never floods an endpoint's queue beyond one chunk.
func (r *JobRunner) pace(perEndpoint map[string]int) time.Duration {
	var d time.Duration
	for id, n := range perEndpoint {
		rt, ok := r.d.Routes.Get(id)
		if !ok {
			continue
		}
		rate := rt.Endpoint.RateLimitPerSecond
		if q := rt.Quota.MaxRatePerSecond; q > 0 && (rate == 0 || rate > q) {
			rate = q
		}
		if rate <= 0 {
			continue
		}
		d = max(d, time.Duration(float64(n)/float64(rate)*float64(time.Second)))
	}
	return min(d, 10*time.Minute)
}

// Resume re-queues every queued or running job whose next chunk is over a
// minute late: its task was lost. Duplicates are harmless (the run lock and
// the row's resume position).
func (r *JobRunner) Resume(ctx context.Context) error {
	now := r.d.Now().UTC()
	jobs, err := r.d.Store.StaleJobs(ctx, now.Add(-time.Minute), 1000)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if err := r.d.Enqueuer.EnqueueJob(ctx, j.ID, fmt.Sprintf("resume:%d", now.Unix()/60), time.Time{}); err != nil {
			return err
		}
	}
	if len(jobs) > 0 {
		r.d.Log.InfoContext(ctx, "stalled jobs re-queued", "count", len(jobs))
	}
	return nil
}
