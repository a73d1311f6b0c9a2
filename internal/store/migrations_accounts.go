package store

// Migration 2: accounts. Users and the audit log exist since migration 1;
// this adds login sessions (refresh tokens kept hashed), the indexes the
// member, audit and quota queries need, and the month a released delivery
// counts against its partner's quota.
func init() {
	register(migration{Version: 2, Name: "accounts: sessions, audit and quota indexes", SQL: []string{
		`CREATE TABLE sessions (
			id TEXT PRIMARY KEY,
			user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
			refresh_hash TEXT NOT NULL,
			prev_refresh_hash TEXT,
			created_at BIGINT NOT NULL,
			refreshed_at BIGINT NOT NULL,
			expires_at BIGINT NOT NULL,
			revoked_at BIGINT,
			address TEXT NOT NULL DEFAULT '')`,
		`CREATE UNIQUE INDEX sessions_refresh ON sessions (refresh_hash)`,
		`CREATE INDEX sessions_prev_refresh ON sessions (prev_refresh_hash)`,
		`CREATE INDEX sessions_user ON sessions (user_id, id)`,
		`CREATE INDEX sessions_expiry ON sessions (expires_at)`,
		`CREATE INDEX users_partner ON users (partner_id, id)`,
		`CREATE INDEX audit_log_actor ON audit_log (actor, id)`,
		`CREATE INDEX audit_log_action ON audit_log (action, id)`,
		`CREATE INDEX audit_log_partner ON audit_log (partner_id, id)`,
		// quota_period is the month (YYYY-MM) a delivery released from
		// hold counts against its partner's quota; NULL: the month of its
		// id (creation).
		`ALTER TABLE deliveries ADD COLUMN quota_period TEXT`,
		`CREATE INDEX deliveries_quota_period ON deliveries (partner_id, quota_period)`,
		`CREATE INDEX deliveries_held_partners ON deliveries (status, held_reason, partner_id)`,
	}})
}
