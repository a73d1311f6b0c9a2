package domain

import "time"

// JobKind is what a background job does.
type JobKind string

// Job kinds.
const (
	// JobRecover re-sends an endpoint's failed deliveries of a time window
	// (trigger recover).
	JobRecover JobKind = "recover"
	// JobReplay re-sends the events of a time window to the endpoints that
	// match them now, creating missing deliveries (trigger replay; admin).
	JobReplay JobKind = "replay"
	// JobBackfill sends an endpoint the events of the last days it would
	// have matched and never received (trigger replay).
	JobBackfill JobKind = "backfill"
)

// Trigger is the attempt trigger the job's re-sends are recorded with.
func (k JobKind) Trigger() Trigger {
	if k == JobRecover {
		return TriggerRecover
	}
	return TriggerReplay
}

// JobStatus is a background job's state.
type JobStatus string

// Job statuses.
const (
	JobQueued    JobStatus = "queued"
	JobRunning   JobStatus = "running"
	JobCompleted JobStatus = "completed"
	JobCancelled JobStatus = "cancelled"
	JobFailed    JobStatus = "failed"
)

// Terminal reports whether the job will do nothing more.
func (s JobStatus) Terminal() bool {
	return s == JobCompleted || s == JobCancelled || s == JobFailed
}

// JobParams are what a job works on. Zero fields do not filter.
type JobParams struct {
	// Since and Until bound the window: deliveries created (recover) or
	// events received (replay, back-fill) at or after Since and before Until.
	Since time.Time
	Until time.Time
	// EventTypes are event-type patterns (replay); empty means all.
	EventTypes []string
	// PartnerID and EndpointID narrow a replay; EndpointID names the
	// endpoint of a recovery or back-fill.
	PartnerID  string
	EndpointID string
	// Days is the back-fill's look-back in days.
	Days int
}

// Job is a background job: a recovery, a replay or a back-fill. Progress
// counts deliveries: Total is what the job will re-send (counted when it is
// created, corrected to Done when it completes), Done how many it has
// handed to the delivery queue, Succeeded and Failed how many of those
// have had their re-send attempt succeed or fail.
type Job struct {
	ID        string
	Kind      JobKind
	PartnerID string // the partner who started it; "" for admin jobs
	Params    JobParams
	Status    JobStatus
	Total     int64
	Done      int64
	Succeeded int64
	Failed    int64
	// Cursor is where the next chunk starts (a delivery or event id).
	Cursor string
	// Error says why a failed job stopped.
	Error      string
	NextRunAt  time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
}

// ConflictError is an ErrConflict that says what conflicts.
type ConflictError struct{ Reason string }

// Error implements error.
func (e *ConflictError) Error() string { return e.Reason }

// Is makes errors.Is(err, ErrConflict) hold.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// RetentionRun is one pass of the retention job.
type RetentionRun struct {
	ID         string
	StartedAt  time.Time
	FinishedAt time.Time
	// Cutoff: attempts and event payloads older than this were purged.
	Cutoff time.Time
	// Purged counts removed rows by table: attempts, event_payloads,
	// idempotency_keys, jobs.
	Purged map[string]int64
	// Error is set when the pass stopped early.
	Error string
}
