package sdk

import (
	"context"
	"time"
)

// Stats is the admin's view of the gateway's health: queue depths, held
// deliveries, ingest lag and per-partner delivery outcomes.
type Stats struct {
	// At is when the figures were taken.
	At time.Time `json:"at"`
	// Queues lists each queue's depth.
	Queues []QueueStats `json:"queues"`
	// HeldByReason counts held deliveries by reason.
	HeldByReason map[string]int64 `json:"held_by_reason"`
	// IngestLagSeconds is how long the oldest accepted-but-not-fanned-out
	// event has waited.
	IngestLagSeconds float64 `json:"ingest_lag_seconds"`
	// EventsLastHour counts events accepted in the last hour.
	EventsLastHour int64 `json:"events_last_hour"`
	// PartnersLast5m are the outcomes of deliveries created in the last 5
	// minutes, per partner.
	PartnersLast5m []PartnerRate `json:"partners_last_5m"`
	// PartnersLast24h are the same over the last 24 hours.
	PartnersLast24h []PartnerRate `json:"partners_last_24h"`
	// Retention is the last run of the log retention job; nil before the
	// first one.
	Retention *RetentionRun `json:"retention"`
}

// RetentionRun is one run of the job that purges old delivery logs.
type RetentionRun struct {
	// StartedAt is when the run started.
	StartedAt time.Time `json:"started_at"`
	// FinishedAt is when it ended.
	FinishedAt time.Time `json:"finished_at"`
	// Cutoff is the age limit: what was older was purged.
	Cutoff time.Time `json:"cutoff"`
	// Purged counts the rows removed, by kind.
	Purged map[string]int64 `json:"purged"`
	// Error says why the run failed, if it did.
	Error string `json:"error"`
}

// QueueStats is one queue's depth.
type QueueStats struct {
	// Queue is the queue's name ("deliveries", "ops").
	Queue string `json:"queue"`
	// Pending tasks are ready to run.
	Pending int `json:"pending"`
	// Active tasks are running.
	Active int `json:"active"`
	// Scheduled tasks wait for their time.
	Scheduled int `json:"scheduled"`
	// Retry tasks wait to be retried.
	Retry int `json:"retry"`
	// Archived tasks gave up.
	Archived int `json:"archived"`
	// OldestPendingSeconds is the age of the oldest pending task.
	OldestPendingSeconds float64 `json:"oldest_pending_seconds"`
	// ProcessedToday counts tasks processed today.
	ProcessedToday int `json:"processed_today"`
	// FailedToday counts tasks that failed today.
	FailedToday int `json:"failed_today"`
}

// PartnerRate is one partner's recent delivery outcomes.
type PartnerRate struct {
	// PartnerID is the partner.
	PartnerID string `json:"partner_id"`
	// Succeeded counts succeeded deliveries.
	Succeeded int64 `json:"succeeded"`
	// Failed counts failed deliveries.
	Failed int64 `json:"failed"`
	// Pending counts deliveries still being tried.
	Pending int64 `json:"pending"`
	// Held counts held deliveries.
	Held int64 `json:"held"`
	// FailureRate is Failed / (Succeeded + Failed).
	FailureRate float64 `json:"failure_rate"`
}

// AdminStats returns the gateway's health figures (admin).
func (c *Client) AdminStats(ctx context.Context) (Stats, error) {
	var s Stats
	err := c.do(ctx, get("/v1/admin/stats", nil), &s)
	return s, err
}
