package store

// Migration 3: the delivery log's background jobs (recover, replay,
// back-fill), the deliveries each job handed to the queue, the retention
// job's runs, and the indexes the filtered delivery log and the retention
// purge need.
func init() {
	register(migration{Version: 3, Name: "delivery log: jobs, job items, retention runs, log indexes", SQL: []string{
		`CREATE TABLE jobs (
			id TEXT PRIMARY KEY,
			kind TEXT NOT NULL,
			partner_id TEXT,
			endpoint_id TEXT,
			params TEXT NOT NULL,
			status TEXT NOT NULL,
			total BIGINT NOT NULL DEFAULT 0,
			done BIGINT NOT NULL DEFAULT 0,
			resume_after TEXT NOT NULL DEFAULT '',
			error TEXT NOT NULL DEFAULT '',
			next_run_at BIGINT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			started_at BIGINT,
			finished_at BIGINT)`,
		`CREATE INDEX jobs_partner ON jobs (partner_id, id)`,
		`CREATE INDEX jobs_endpoint ON jobs (endpoint_id, status)`,
		// One recovery and one back-fill at a time per endpoint: two would
		// send the same deliveries twice.
		`CREATE UNIQUE INDEX jobs_one_active ON jobs (endpoint_id, kind) WHERE kind <> 'replay' AND status IN ('queued', 'running')`,
		`CREATE INDEX jobs_runnable ON jobs (status, next_run_at)`,
		`CREATE INDEX jobs_created ON jobs (created_at)`,
		// One row per delivery a job handed to the queue: it keeps a
		// restarted chunk from sending twice and ties the job to the
		// attempts its re-sends produced (progress).
		`CREATE TABLE job_items (
			job_id TEXT NOT NULL,
			delivery_id TEXT NOT NULL,
			handed_at BIGINT NOT NULL,
			PRIMARY KEY (job_id, delivery_id))`,
		`CREATE TABLE retention_runs (
			id TEXT PRIMARY KEY,
			started_at BIGINT NOT NULL,
			finished_at BIGINT NOT NULL,
			cutoff BIGINT NOT NULL,
			purged TEXT NOT NULL,
			error TEXT NOT NULL DEFAULT '')`,
		// The log's most common narrow filter: one endpoint's deliveries in
		// one status (failed, for recovery), newest first.
		`CREATE INDEX deliveries_log_endpoint_status ON deliveries (partner_id, endpoint_id, status, id)`,
		// Retention: events whose payload is still to be purged, oldest first.
		`CREATE INDEX events_payload_received ON events (received_at) WHERE payload IS NOT NULL`,
	}})
}
