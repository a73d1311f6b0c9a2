package store

func init() {
	register(migration{Version: 5, Name: "delivery engine: ed25519 keys, circuit breaker, partner-scoped operational events", SQL: []string{
		`ALTER TABLE endpoints ADD COLUMN ed25519_key {{bytes}}`,
		`ALTER TABLE endpoints ADD COLUMN failing_since BIGINT`,
		`ALTER TABLE endpoints ADD COLUMN next_probe_at BIGINT`,
		`ALTER TABLE endpoints ADD COLUMN probe_backoff_ms BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE events ADD COLUMN partner_id TEXT`,
		`CREATE INDEX deliveries_endpoint_held ON deliveries (endpoint_id, status, held_reason, id)`,
		`ALTER TABLE idempotency_keys ADD COLUMN fingerprint TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX deliveries_partner_held ON deliveries (partner_id, status, held_reason, id)`,
	}})
}
