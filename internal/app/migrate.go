package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/hookgate/hookgate/internal/catalog"
	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/crypto"
	"github.com/hookgate/hookgate/internal/store"
)

// Migrate applies migrations and seeds the catalogue, without Redis.
func Migrate(ctx context.Context, cfg config.Config, log *slog.Logger) (int, error) {
	key, err := masterKey(cfg, log)
	if err != nil {
		return 0, err
	}
	box, err := crypto.NewBox(key)
	if err != nil {
		return 0, err
	}
	st, err := store.Open(ctx, store.Options{PostgresURL: pgURL(cfg), SQLitePath: cfg.SQLitePath(), Box: box, Logger: log})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return 0, err
	}
	if err := st.SeedEventTypes(ctx, catalog.Seed(time.Now().UTC())); err != nil {
		return 0, err
	}
	return st.SchemaVersion(ctx)
}
