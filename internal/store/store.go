package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/hookgate/hookgate/internal/crypto"
	"github.com/hookgate/hookgate/internal/domain"
)

// Options configures Open.
type Options struct {
	// PostgresURL selects PostgreSQL when set.
	PostgresURL string
	// SQLitePath is the SQLite file used when PostgresURL is empty.
	SQLitePath string
	// Box seals signing secrets and credentials; required.
	Box *crypto.Box
	// Logger receives slow-query and error logs; nil discards.
	Logger *slog.Logger
	// MaxOpenConns bounds the PostgreSQL pool (default 32).
	MaxOpenConns int
}

// Store is hookgate's system of record.
type Store struct {
	db       *gorm.DB
	sqlDB    *sql.DB
	postgres bool
	box      *crypto.Box
	log      *slog.Logger
}

// Open connects to the database. It does not migrate; call Migrate.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.Box == nil {
		return nil, errors.New("store: Box is required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	gcfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	s := &Store{box: o.Box, log: o.Logger}
	var err error
	if o.PostgresURL != "" {
		s.postgres = true
		s.db, err = gorm.Open(postgres.New(postgres.Config{DSN: o.PostgresURL}), gcfg)
	} else {
		if dir := filepath.Dir(o.SQLitePath); dir != "" {
			if mkErr := os.MkdirAll(dir, 0o700); mkErr != nil {
				return nil, fmt.Errorf("store: create %s: %w", dir, mkErr)
			}
		}
		dsn := o.SQLitePath + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"
		s.db, err = gorm.Open(sqlite.Open(dsn), gcfg)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	s.sqlDB, err = s.db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if s.postgres {
		n := o.MaxOpenConns
		if n <= 0 {
			n = 32
		}
		s.sqlDB.SetMaxOpenConns(n)
		s.sqlDB.SetMaxIdleConns(n)
		s.sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		// SQLite has one writer; one connection avoids SQLITE_BUSY storms.
		s.sqlDB.SetMaxOpenConns(1)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.sqlDB.PingContext(pctx); err != nil {
		s.sqlDB.Close()
		return nil, fmt.Errorf("store: cannot reach the database: %w", err)
	}
	return s, nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.sqlDB.Close() }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.sqlDB.PingContext(ctx)
}

// IsPostgres reports whether the store runs on PostgreSQL.
func (s *Store) IsPostgres() bool { return s.postgres }

// DB exposes the gorm handle to store tests in other packages that need to
// inspect rows directly (e.g. "nothing changed" checks). Production code
// uses the typed methods.
func (s *Store) DB() *gorm.DB { return s.db }

// --- conversions shared by the resource files ---

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func microsPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.UnixMicro()
	return &v
}

func fromMicrosPtr(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := time.UnixMicro(*v).UTC()
	return &t
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("store: marshal %T: %v", v, err))
	}
	return string(b)
}

func notFound(kind, id string) error {
	return fmt.Errorf("store: %s %s: %w", kind, id, domain.ErrNotFound)
}

// isUniqueViolation recognises duplicate-key errors on both dialects.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "SQLSTATE 23505") || strings.Contains(msg, "UNIQUE constraint failed")
}

// placeholders returns "(?,?,?),(?,?,?)…" for rows×cols.
func placeholders(rows, cols int) string {
	var b strings.Builder
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	b.Grow(rows * (len(one) + 1))
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(one)
	}
	return b.String()
}

// pageOf turns up to limit+1 rows into a page: limit items, and the last
// item's id as the cursor when a further row shows there is more.
func pageOf[R, T any](rows []R, limit int, id func(R) string, conv func(R) T) domain.Page[T] {
	page := domain.Page[T]{Items: make([]T, 0, min(len(rows), limit))}
	for i, r := range rows {
		if i == limit {
			page.NextCursor = id(rows[i-1])
			break
		}
		page.Items = append(page.Items, conv(r))
	}
	return page
}
