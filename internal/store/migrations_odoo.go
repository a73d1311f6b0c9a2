package store

func init() {
	register(migration{Version: 4, Name: "odoo connector: reconciliation state, enrichment and dropped events, record states", SQL: []string{
		// sources.odoo_config (sealed JSON) and sources.rules exist since 1.
		`ALTER TABLE sources ADD COLUMN odoo_uid BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE sources ADD COLUMN credentials_saved_at BIGINT`,
		`ALTER TABLE sources ADD COLUMN reconcile_interval_seconds INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE sources ADD COLUMN watermark BIGINT`,
		`ALTER TABLE sources ADD COLUMN last_reconcile_at BIGINT`,
		`ALTER TABLE sources ADD COLUMN last_reconcile_ok_at BIGINT`,
		`ALTER TABLE sources ADD COLUMN last_reconcile_error TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE sources ADD COLUMN last_reconcile_scanned BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE sources ADD COLUMN last_reconcile_emitted BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE sources ADD COLUMN reconciled_total BIGINT NOT NULL DEFAULT 0`,
		// enriched_at: set once enrichment rewrote (or gave up on) the
		// payload; dropped_reason: why an event will never be delivered.
		`ALTER TABLE events ADD COLUMN enriched_at BIGINT`,
		`ALTER TABLE events ADD COLUMN dropped_reason TEXT NOT NULL DEFAULT ''`,
		// The last mapped state reconciliation or enrichment saw per Odoo
		// record, so that a later write that leaves a record in the same
		// state is not reported again.
		`CREATE TABLE odoo_record_states (
			source_id TEXT NOT NULL,
			model TEXT NOT NULL,
			record_id BIGINT NOT NULL,
			event_type TEXT NOT NULL DEFAULT '',
			write_date BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			PRIMARY KEY (source_id, model, record_id))`,
	}})
}
