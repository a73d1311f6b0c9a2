package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hookgate/hookgate/internal/domain"
)

type apiKeyRow struct {
	ID         string `gorm:"primaryKey"`
	PartnerID  *string
	Name       string
	Prefix     string
	Hash       string
	Scopes     string
	ExpiresAt  *int64
	LastUsedAt *int64
	RevokedAt  *int64
	CreatedAt  int64 `gorm:"autoCreateTime:false"`
}

func (apiKeyRow) TableName() string { return "api_keys" }

func (r apiKeyRow) domain() domain.APIKey {
	k := domain.APIKey{
		ID: r.ID, Name: r.Name, Prefix: r.Prefix,
		ExpiresAt: fromMicrosPtr(r.ExpiresAt), LastUsedAt: fromMicrosPtr(r.LastUsedAt),
		RevokedAt: fromMicrosPtr(r.RevokedAt), CreatedAt: fromMicros(r.CreatedAt),
	}
	if r.PartnerID != nil {
		k.PartnerID = *r.PartnerID
	}
	_ = json.Unmarshal([]byte(r.Scopes), &k.Scopes)
	if k.Scopes == nil {
		k.Scopes = []string{}
	}
	return k
}

// CreateAPIKey stores a key by its hash.
func (s *Store) CreateAPIKey(ctx context.Context, k domain.APIKey, hash string) error {
	r := apiKeyRow{
		ID: k.ID, Name: k.Name, Prefix: k.Prefix, Hash: hash, Scopes: mustJSON(k.Scopes),
		ExpiresAt: microsPtr(k.ExpiresAt), CreatedAt: micros(k.CreatedAt),
	}
	if k.PartnerID != "" {
		r.PartnerID = &k.PartnerID
	}
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("store: create api key: %w", err)
	}
	return nil
}

// APIKeyByHash finds a key by the hash of its secret, revoked or not.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (domain.APIKey, error) {
	var r apiKeyRow
	err := s.db.WithContext(ctx).Where("hash = ?", hash).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.APIKey{}, notFound("api key", "by hash")
	}
	if err != nil {
		return domain.APIKey{}, fmt.Errorf("store: api key: %w", err)
	}
	return r.domain(), nil
}

// TouchAPIKey records a key's last use.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	return s.db.WithContext(ctx).Model(&apiKeyRow{}).Where("id = ?", id).
		Update("last_used_at", micros(at)).Error
}

// ListAPIKeys lists a partner's keys ("" lists admin keys), newest first.
func (s *Store) ListAPIKeys(ctx context.Context, partnerID string) ([]domain.APIKey, error) {
	q := s.db.WithContext(ctx).Model(&apiKeyRow{})
	if partnerID == "" {
		q = q.Where("partner_id IS NULL")
	} else {
		q = q.Where("partner_id = ?", partnerID)
	}
	var rows []apiKeyRow
	if err := q.Order("id DESC").Limit(1000).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list api keys: %w", err)
	}
	out := make([]domain.APIKey, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// RevokeAPIKey revokes a partner's key ("" for admin keys).
func (s *Store) RevokeAPIKey(ctx context.Context, partnerID, id string, at time.Time) error {
	q := s.db.WithContext(ctx).Model(&apiKeyRow{}).Where("id = ? AND revoked_at IS NULL", id)
	if partnerID == "" {
		q = q.Where("partner_id IS NULL")
	} else {
		q = q.Where("partner_id = ?", partnerID)
	}
	res := q.Update("revoked_at", micros(at))
	if res.Error != nil {
		return fmt.Errorf("store: revoke api key: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("api key", id)
	}
	return nil
}
