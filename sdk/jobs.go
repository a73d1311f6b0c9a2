package sdk

import (
	"context"
	"time"
)

// Job kinds.
const (
	// JobRecover re-sends an endpoint's failed deliveries.
	JobRecover = "recover"
	// JobBackfill sends an endpoint the past events it would have received.
	JobBackfill = "backfill"
	// JobReplay is an admin bulk replay.
	JobReplay = "replay"
)

// Job statuses.
const (
	// JobQueued is a job waiting to start.
	JobQueued = "queued"
	// JobRunning is a job in progress.
	JobRunning = "running"
	// JobCompleted is a job that finished its work.
	JobCompleted = "completed"
	// JobFailed is a job that stopped on an error (see Job.Error).
	JobFailed = "failed"
	// JobCancelled is a job stopped by an admin.
	JobCancelled = "cancelled"
)

// Job is a background job (recovery, back-fill, replay) and its progress.
// Poll it with GetRecovery or AdminGetReplay until Finished reports true.
type Job struct {
	// ID is the job's id.
	ID string `json:"id"`
	// Kind is JobRecover, JobBackfill or JobReplay.
	Kind string `json:"kind"`
	// Status is JobQueued, JobRunning, JobCompleted, JobFailed or
	// JobCancelled.
	Status string `json:"status"`
	// PartnerID is the partner concerned, if any.
	PartnerID string `json:"partner_id"`
	// EndpointID is the endpoint concerned, if any.
	EndpointID string `json:"endpoint_id"`
	// Since and Until bound the time window the job covers.
	Since time.Time `json:"since"`
	// Until is the end of the window.
	Until time.Time `json:"until"`
	// EventTypes limits a replay to these types (empty: all).
	EventTypes []string `json:"event_types"`
	// Days is a back-fill's look-back, in days.
	Days *int `json:"days"`
	// Total is how many deliveries the job will send.
	Total int64 `json:"total"`
	// Done is how many it has handled so far.
	Done int64 `json:"done"`
	// Succeeded counts deliveries that succeeded.
	Succeeded int64 `json:"succeeded"`
	// Failed counts deliveries that failed.
	Failed int64 `json:"failed"`
	// Error says why a job failed.
	Error string `json:"error"`
	// CreatedAt is when the job was requested.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is when it last progressed.
	UpdatedAt time.Time `json:"updated_at"`
	// StartedAt is when it started running.
	StartedAt *time.Time `json:"started_at"`
	// FinishedAt is when it ended.
	FinishedAt *time.Time `json:"finished_at"`
}

// Finished reports whether the job has ended (completed, failed or
// cancelled).
func (j Job) Finished() bool {
	return j.Status == JobCompleted || j.Status == JobFailed || j.Status == JobCancelled
}

// RecoverInput chooses the failed deliveries RecoverEndpoint re-sends.
type RecoverInput struct {
	// Since is the start of the window; required (at most 14 days ago).
	Since time.Time
	// Until is the end of the window; zero means now.
	Until time.Time
}

// recoverBody is the wire form of RecoverInput.
type recoverBody struct {
	Since time.Time  `json:"since"`
	Until *time.Time `json:"until,omitempty"`
}

// RecoverEndpoint starts a job that re-sends every failed delivery of the
// endpoint created in the window, with trigger "recover". It answers the
// job; follow it with GetRecovery.
func (c *Client) RecoverEndpoint(ctx context.Context, endpointID string, in RecoverInput) (Job, error) {
	body := recoverBody{Since: in.Since.UTC()}
	if !in.Until.IsZero() {
		u := in.Until.UTC()
		body.Until = &u
	}
	var j Job
	err := c.do(ctx, post(pathf("/v1/endpoints/%s/recover", endpointID), body), &j)
	return j, err
}

// BackfillEndpoint starts a job that sends the endpoint the events of the
// last days (1–30) it is subscribed to, as a new endpoint would have
// received them. It answers the job; follow it with GetRecovery.
func (c *Client) BackfillEndpoint(ctx context.Context, endpointID string, days int) (Job, error) {
	var j Job
	err := c.do(ctx, post(pathf("/v1/endpoints/%s/backfill", endpointID), map[string]int{"days": days}), &j)
	return j, err
}

// GetRecovery returns a recovery or back-fill job of the partner.
func (c *Client) GetRecovery(ctx context.Context, id string) (Job, error) {
	var j Job
	err := c.do(ctx, get(pathf("/v1/recoveries/%s", id), nil), &j)
	return j, err
}

// SendTestEvent sends the endpoint a realistic example event of eventType
// (any type the partner is entitled to). It answers the delivery, to follow
// with GetDelivery and ListDeliveryAttempts.
func (c *Client) SendTestEvent(ctx context.Context, endpointID, eventType string) (Delivery, error) {
	var d Delivery
	err := c.do(ctx, post(pathf("/v1/endpoints/%s/test", endpointID), map[string]string{"event_type": eventType}), &d)
	return d, err
}

// ReplayInput chooses the events an admin replay re-sends.
type ReplayInput struct {
	// Since is the start of the window of event times; required.
	Since time.Time `json:"since"`
	// Until is the end of the window; required.
	Until time.Time `json:"until"`
	// EventTypes limits the replay to these types and patterns.
	EventTypes []string `json:"event_types,omitempty"`
	// PartnerID limits the replay to one partner's endpoints.
	PartnerID string `json:"partner_id,omitempty"`
	// EndpointID limits the replay to one endpoint.
	EndpointID string `json:"endpoint_id,omitempty"`
}

// replayBody is the wire form of ReplayInput.
type replayBody struct {
	ReplayInput
	DryRun bool `json:"dry_run,omitempty"`
}

// AdminReplay starts a bulk replay of the events in the window to the
// matching endpoints, with trigger "replay" and the original event ids
// (admin). It answers the job; follow it with AdminGetReplay.
func (c *Client) AdminReplay(ctx context.Context, in ReplayInput) (Job, error) {
	in.Since, in.Until = in.Since.UTC(), in.Until.UTC()
	var j Job
	err := c.do(ctx, post("/v1/admin/replay", replayBody{ReplayInput: in}), &j)
	return j, err
}

// AdminReplayCount reports how many deliveries AdminReplay would send for
// in, without sending any (a dry run; admin).
func (c *Client) AdminReplayCount(ctx context.Context, in ReplayInput) (int64, error) {
	in.Since, in.Until = in.Since.UTC(), in.Until.UTC()
	var out struct {
		Count int64 `json:"count"`
	}
	err := c.do(ctx, post("/v1/admin/replay", replayBody{ReplayInput: in, DryRun: true}), &out)
	return out.Count, err
}

// AdminGetReplay returns a replay job (admin).
func (c *Client) AdminGetReplay(ctx context.Context, id string) (Job, error) {
	var j Job
	err := c.do(ctx, get(pathf("/v1/admin/replays/%s", id), nil), &j)
	return j, err
}

// AdminCancelReplay stops a replay; deliveries already queued still go
// (admin).
func (c *Client) AdminCancelReplay(ctx context.Context, id string) (Job, error) {
	var j Job
	err := c.do(ctx, post(pathf("/v1/admin/replays/%s/cancel", id), nil), &j)
	return j, err
}
