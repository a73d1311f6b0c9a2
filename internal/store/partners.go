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

type partnerRow struct {
	ID                     string `gorm:"primaryKey"`
	Name                   string
	Email                  string
	Status                 string
	Entitlements           string
	QuotaMonthlyDeliveries int64
	QuotaMaxEndpoints      int
	QuotaMaxRate           int
	CreatedAt              int64 `gorm:"autoCreateTime:false"`
	UpdatedAt              int64 `gorm:"autoUpdateTime:false"`
}

func (partnerRow) TableName() string { return "partners" }

func (r partnerRow) domain() domain.Partner {
	p := domain.Partner{
		ID: r.ID, Name: r.Name, Email: r.Email, Status: domain.PartnerStatus(r.Status),
		Quota: domain.Quota{
			MonthlyDeliveries: r.QuotaMonthlyDeliveries,
			MaxEndpoints:      r.QuotaMaxEndpoints,
			MaxRatePerSecond:  r.QuotaMaxRate,
		},
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
	}
	_ = json.Unmarshal([]byte(r.Entitlements), &p.Entitlements)
	if p.Entitlements == nil {
		p.Entitlements = []string{}
	}
	return p
}

func partnerToRow(p domain.Partner) partnerRow {
	ent := p.Entitlements
	if ent == nil {
		ent = []string{}
	}
	return partnerRow{
		ID: p.ID, Name: p.Name, Email: p.Email, Status: string(p.Status),
		Entitlements:           mustJSON(ent),
		QuotaMonthlyDeliveries: p.Quota.MonthlyDeliveries,
		QuotaMaxEndpoints:      p.Quota.MaxEndpoints,
		QuotaMaxRate:           p.Quota.MaxRatePerSecond,
		CreatedAt:              micros(p.CreatedAt), UpdatedAt: micros(p.UpdatedAt),
	}
}

// CreatePartner inserts a partner.
func (s *Store) CreatePartner(ctx context.Context, p domain.Partner) error {
	r := partnerToRow(p)
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("store: partner %s: %w", p.ID, domain.ErrConflict)
		}
		return fmt.Errorf("store: create partner: %w", err)
	}
	return nil
}

// Partner returns one partner.
func (s *Store) Partner(ctx context.Context, id string) (domain.Partner, error) {
	var r partnerRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.Partner{}, notFound("partner", id)
	}
	if err != nil {
		return domain.Partner{}, fmt.Errorf("store: partner %s: %w", id, err)
	}
	return r.domain(), nil
}

// PartnerFilter narrows ListPartners.
type PartnerFilter struct {
	Status domain.PartnerStatus
}

// ListPartners lists partners, oldest first (pending ones surface first in
// the portal by filtering), paginated by id.
func (s *Store) ListPartners(ctx context.Context, f PartnerFilter, cursor string, limit int) (domain.Page[domain.Partner], error) {
	q := s.db.WithContext(ctx).Model(&partnerRow{})
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	if cursor != "" {
		q = q.Where("id > ?", cursor)
	}
	var rows []partnerRow
	if err := q.Order("id").Limit(limit + 1).Find(&rows).Error; err != nil {
		return domain.Page[domain.Partner]{}, fmt.Errorf("store: list partners: %w", err)
	}
	return pageOf(rows, limit, func(r partnerRow) string { return r.ID }, partnerRow.domain), nil
}

// UpdatePartner writes every mutable field of p.
func (s *Store) UpdatePartner(ctx context.Context, p domain.Partner) error {
	r := partnerToRow(p)
	res := s.db.WithContext(ctx).Model(&partnerRow{}).Where("id = ?", p.ID).Updates(map[string]any{
		"name": r.Name, "email": r.Email, "status": r.Status, "entitlements": r.Entitlements,
		"quota_monthly_deliveries": r.QuotaMonthlyDeliveries, "quota_max_endpoints": r.QuotaMaxEndpoints,
		"quota_max_rate": r.QuotaMaxRate, "updated_at": micros(time.Now()),
	})
	if res.Error != nil {
		return fmt.Errorf("store: update partner %s: %w", p.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("partner", p.ID)
	}
	return nil
}
