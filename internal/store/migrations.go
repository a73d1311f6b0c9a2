package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// migration is one versioned, append-only schema change. Never edit a
// released migration: add a new one.
type migration struct {
	Version int
	Name    string
	SQL     []string // {{bytes}}, {{bool}} are replaced per dialect
}

// migrations is every schema change. Version 1 is here; later versions
// live beside the code that needs them (migrations_*.go) and register
// themselves with register, so features can be added independently.
// Reserved numbers: 2 partners/users/audit, 3 delivery log and jobs,
// 4 Odoo connector, 5 delivery engine.
var migrations = []migration{
	{Version: 1, Name: "initial schema", SQL: []string{
		`CREATE TABLE partners (
			id TEXT PRIMARY KEY,
			name TEXT NOT NULL,
			email TEXT NOT NULL,
			status TEXT NOT NULL,
			entitlements TEXT NOT NULL DEFAULT '["*"]',
			quota_monthly_deliveries BIGINT NOT NULL DEFAULT 0,
			quota_max_endpoints INTEGER NOT NULL DEFAULT 0,
			quota_max_rate INTEGER NOT NULL DEFAULT 0,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL)`,
		`CREATE INDEX partners_status ON partners (status, id)`,
		`CREATE TABLE users (
			id TEXT PRIMARY KEY,
			partner_id TEXT REFERENCES partners(id),
			email TEXT NOT NULL,
			password_hash TEXT NOT NULL,
			role TEXT NOT NULL,
			token_version INTEGER NOT NULL DEFAULT 0,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL)`,
		`CREATE UNIQUE INDEX users_email ON users (email)`,
		`CREATE TABLE api_keys (
			id TEXT PRIMARY KEY,
			partner_id TEXT REFERENCES partners(id),
			name TEXT NOT NULL,
			prefix TEXT NOT NULL,
			hash TEXT NOT NULL,
			scopes TEXT NOT NULL DEFAULT '[]',
			expires_at BIGINT,
			last_used_at BIGINT,
			revoked_at BIGINT,
			created_at BIGINT NOT NULL)`,
		`CREATE UNIQUE INDEX api_keys_hash ON api_keys (hash)`,
		`CREATE INDEX api_keys_partner ON api_keys (partner_id, id)`,
		`CREATE TABLE sources (
			id TEXT PRIMARY KEY,
			name TEXT NOT NULL,
			kind TEXT NOT NULL,
			token_hash TEXT NOT NULL,
			prev_token_hash TEXT,
			prev_token_expires_at BIGINT,
			odoo_config {{bytes}},
			rules TEXT,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL)`,
		`CREATE UNIQUE INDEX sources_token ON sources (token_hash)`,
		`CREATE INDEX sources_prev_token ON sources (prev_token_hash)`,
		`CREATE TABLE event_types (
			name TEXT PRIMARY KEY,
			description TEXT NOT NULL DEFAULT '',
			schema TEXT,
			version INTEGER NOT NULL DEFAULT 1,
			deprecated {{bool}} NOT NULL DEFAULT FALSE,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL)`,
		`CREATE TABLE endpoints (
			id TEXT PRIMARY KEY,
			partner_id TEXT NOT NULL REFERENCES partners(id),
			url TEXT NOT NULL,
			description TEXT NOT NULL DEFAULT '',
			event_types TEXT NOT NULL,
			status TEXT NOT NULL,
			status_reason TEXT NOT NULL DEFAULT '',
			secret {{bytes}} NOT NULL,
			prev_secret {{bytes}},
			prev_secret_expires_at BIGINT,
			rate_limit INTEGER NOT NULL DEFAULT 0,
			retry_schedule TEXT,
			timeout_seconds INTEGER NOT NULL DEFAULT 0,
			headers TEXT,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			deleted_at BIGINT)`,
		`CREATE INDEX endpoints_partner ON endpoints (partner_id, id)`,
		`CREATE TABLE events (
			id TEXT PRIMARY KEY,
			type TEXT NOT NULL,
			source_id TEXT NOT NULL,
			model TEXT NOT NULL DEFAULT '',
			record_id BIGINT NOT NULL DEFAULT 0,
			occurred_at BIGINT NOT NULL,
			received_at BIGINT NOT NULL,
			idempotency_key TEXT,
			payload {{bytes}},
			fanned_out {{bool}} NOT NULL DEFAULT FALSE)`,
		`CREATE INDEX events_unfanned ON events (fanned_out, received_at)`,
		`CREATE INDEX events_received ON events (received_at)`,
		`CREATE TABLE idempotency_keys (
			source_id TEXT NOT NULL,
			key TEXT NOT NULL,
			event_id TEXT NOT NULL,
			expires_at BIGINT NOT NULL,
			PRIMARY KEY (source_id, key))`,
		`CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at)`,
		`CREATE TABLE deliveries (
			id TEXT PRIMARY KEY,
			event_id TEXT NOT NULL,
			endpoint_id TEXT NOT NULL,
			partner_id TEXT NOT NULL,
			event_type TEXT NOT NULL,
			status TEXT NOT NULL,
			held_reason TEXT NOT NULL DEFAULT '',
			attempts INTEGER NOT NULL DEFAULT 0,
			next_attempt_at BIGINT,
			last_status INTEGER NOT NULL DEFAULT 0,
			last_error TEXT NOT NULL DEFAULT '',
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL)`,
		`CREATE INDEX deliveries_partner ON deliveries (partner_id, id)`,
		`CREATE INDEX deliveries_partner_endpoint ON deliveries (partner_id, endpoint_id, id)`,
		`CREATE INDEX deliveries_partner_status ON deliveries (partner_id, status, id)`,
		`CREATE INDEX deliveries_partner_type ON deliveries (partner_id, event_type, id)`,
		`CREATE INDEX deliveries_event ON deliveries (event_id)`,
		`CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at)`,
		`CREATE UNIQUE INDEX deliveries_event_endpoint ON deliveries (event_id, endpoint_id)`,
		`CREATE TABLE attempts (
			id TEXT PRIMARY KEY,
			delivery_id TEXT NOT NULL,
			endpoint_id TEXT NOT NULL,
			partner_id TEXT NOT NULL,
			number INTEGER NOT NULL,
			trigger_kind TEXT NOT NULL,
			started_at BIGINT NOT NULL,
			duration_us BIGINT NOT NULL,
			request_url TEXT NOT NULL,
			request_headers TEXT NOT NULL,
			response_status INTEGER NOT NULL DEFAULT 0,
			response_headers TEXT,
			response_body {{bytes}},
			error_class TEXT NOT NULL DEFAULT '',
			error TEXT NOT NULL DEFAULT '')`,
		`CREATE INDEX attempts_delivery ON attempts (delivery_id, id)`,
		`CREATE INDEX attempts_started ON attempts (started_at)`,
		`CREATE TABLE audit_log (
			id TEXT PRIMARY KEY,
			actor TEXT NOT NULL,
			action TEXT NOT NULL,
			target TEXT NOT NULL DEFAULT '',
			partner_id TEXT,
			address TEXT NOT NULL DEFAULT '',
			detail TEXT,
			at BIGINT NOT NULL)`,
		`CREATE INDEX audit_log_at ON audit_log (id)`,
	}},
}

// Migrate applies every migration not yet recorded in schema_migrations,
// each in its own transaction. It is safe to run from several processes at
// once on PostgreSQL (an advisory lock serialises them).
func (s *Store) Migrate(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	if s.postgres {
		// One migrator at a time across processes.
		conn, err := s.sqlDB.Conn(ctx)
		if err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(727274)`); err != nil {
			return fmt.Errorf("store: migrate lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(727274)`)
	}
	if err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`).Error; err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	var applied []int
	if err := db.Raw(`SELECT version FROM schema_migrations`).Scan(&applied).Error; err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	done := map[int]bool{}
	for _, v := range applied {
		done[v] = true
	}
	ordered := append([]migration(nil), migrations...)
	sort.Slice(ordered, func(i, j int) bool { return ordered[i].Version < ordered[j].Version })
	for i, m := range ordered {
		if i > 0 && ordered[i-1].Version == m.Version {
			return fmt.Errorf("store: two migrations with version %d", m.Version)
		}
		if done[m.Version] {
			continue
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			for _, stmt := range m.SQL {
				if err := tx.Exec(s.dialectSQL(stmt)).Error; err != nil {
					return fmt.Errorf("%w in %.60s", err, strings.TrimSpace(stmt))
				}
			}
			return tx.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UnixMicro()).Error
		})
		if err != nil {
			return fmt.Errorf("store: migration %d (%s): %w", m.Version, m.Name, err)
		}
	}
	return nil
}

func (s *Store) dialectSQL(stmt string) string {
	if s.postgres {
		return strings.NewReplacer("{{bytes}}", "BYTEA", "{{bool}}", "BOOLEAN").Replace(stmt)
	}
	return strings.NewReplacer("{{bytes}}", "BLOB", "{{bool}}", "BOOLEAN").Replace(stmt)
}

// SchemaVersion returns the newest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.WithContext(ctx).Raw(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v).Error
	return v, err
}

// register adds a migration; called from init in migrations_*.go files.
func register(m migration) { migrations = append(migrations, m) }
