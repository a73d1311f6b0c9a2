package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hookgate/hookgate/internal/domain"
)

type sourceRow struct {
	ID                 string `gorm:"primaryKey"`
	Name               string
	Kind               string
	TokenHash          string
	PrevTokenHash      *string
	PrevTokenExpiresAt *int64
	OdooConfig         []byte
	Rules              *string
	CreatedAt          int64 `gorm:"autoCreateTime:false"`
	UpdatedAt          int64 `gorm:"autoUpdateTime:false"`
}

func (sourceRow) TableName() string { return "sources" }

func (r sourceRow) domain() domain.Source {
	return domain.Source{
		ID: r.ID, Name: r.Name, Kind: domain.SourceKind(r.Kind),
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
	}
}

// CreateSource stores a source with the hash of its ingest token.
func (s *Store) CreateSource(ctx context.Context, src domain.Source, tokenHash string) error {
	r := sourceRow{
		ID: src.ID, Name: src.Name, Kind: string(src.Kind), TokenHash: tokenHash,
		CreatedAt: micros(src.CreatedAt), UpdatedAt: micros(src.UpdatedAt),
	}
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("store: create source: %w", err)
	}
	return nil
}

// SourceByTokenHash finds the source whose current token, or previous token
// still within its grace period, hashes to hash.
func (s *Store) SourceByTokenHash(ctx context.Context, hash string, now time.Time) (domain.Source, error) {
	var r sourceRow
	err := s.db.WithContext(ctx).
		Where("token_hash = ? OR (prev_token_hash = ? AND prev_token_expires_at > ?)", hash, hash, micros(now)).
		Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.Source{}, notFound("source", "by token")
	}
	if err != nil {
		return domain.Source{}, fmt.Errorf("store: source by token: %w", err)
	}
	return r.domain(), nil
}

// Source returns one source.
func (s *Store) Source(ctx context.Context, id string) (domain.Source, error) {
	var r sourceRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.Source{}, notFound("source", id)
	}
	if err != nil {
		return domain.Source{}, fmt.Errorf("store: source %s: %w", id, err)
	}
	return r.domain(), nil
}

// ListSources lists every source by id.
func (s *Store) ListSources(ctx context.Context) ([]domain.Source, error) {
	var rows []sourceRow
	if err := s.db.WithContext(ctx).Order("id").Limit(10000).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list sources: %w", err)
	}
	out := make([]domain.Source, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// RotateSourceToken replaces the token; the old one keeps working until
// graceUntil.
func (s *Store) RotateSourceToken(ctx context.Context, id, newHash string, graceUntil time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r sourceRow
		err := tx.Where("id = ?", id).Take(&r).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return notFound("source", id)
		}
		if err != nil {
			return fmt.Errorf("store: rotate source token: %w", err)
		}
		old := r.TokenHash
		g := micros(graceUntil)
		return tx.Model(&sourceRow{}).Where("id = ?", id).Updates(map[string]any{
			"token_hash": newHash, "prev_token_hash": old, "prev_token_expires_at": g,
			"updated_at": micros(time.Now()),
		}).Error
	})
}
