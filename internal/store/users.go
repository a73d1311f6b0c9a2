package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hookgate/hookgate/internal/domain"
)

type userRow struct {
	ID           string `gorm:"primaryKey"`
	PartnerID    *string
	Email        string
	PasswordHash string
	Role         string
	TokenVersion int
	CreatedAt    int64 `gorm:"autoCreateTime:false"`
	UpdatedAt    int64 `gorm:"autoUpdateTime:false"`
}

func (userRow) TableName() string { return "users" }

func (r userRow) domain() domain.User {
	u := domain.User{
		ID: r.ID, Email: r.Email, Role: domain.Role(r.Role),
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
	}
	if r.PartnerID != nil {
		u.PartnerID = *r.PartnerID
	}
	return u
}

func userToRow(u domain.User, hash string) userRow {
	r := userRow{
		ID: u.ID, Email: u.Email, PasswordHash: hash, Role: string(u.Role),
		CreatedAt: micros(u.CreatedAt), UpdatedAt: micros(u.UpdatedAt),
	}
	if u.PartnerID != "" {
		pid := u.PartnerID
		r.PartnerID = &pid
	}
	return r
}

// CreateUser inserts a user with its password hash. A taken e-mail is
// ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u domain.User, passwordHash string) error {
	r := userToRow(u, passwordHash)
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("store: user %s: %w", u.Email, domain.ErrConflict)
		}
		return fmt.Errorf("store: create user: %w", err)
	}
	return nil
}

// CreatePartnerWithOwner inserts a partner and its first user in one
// transaction (self-signup): a taken e-mail is ErrConflict and leaves no
// partner behind.
func (s *Store) CreatePartnerWithOwner(ctx context.Context, p domain.Partner, owner domain.User, passwordHash string) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		pr := partnerToRow(p)
		if err := tx.Create(&pr).Error; err != nil {
			return err
		}
		ur := userToRow(owner, passwordHash)
		return tx.Create(&ur).Error
	})
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("store: user %s: %w", owner.Email, domain.ErrConflict)
		}
		return fmt.Errorf("store: create partner with owner: %w", err)
	}
	return nil
}

// UserByEmail returns a user and its password hash by (lowercased) e-mail.
func (s *Store) UserByEmail(ctx context.Context, email string) (domain.User, string, error) {
	var r userRow
	err := s.db.WithContext(ctx).Where("email = ?", email).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.User{}, "", notFound("user", "by email")
	}
	if err != nil {
		return domain.User{}, "", fmt.Errorf("store: user by email: %w", err)
	}
	return r.domain(), r.PasswordHash, nil
}

// User returns a user and its password hash; partnerID "" skips the tenant
// check.
func (s *Store) User(ctx context.Context, partnerID, id string) (domain.User, string, error) {
	var r userRow
	q := s.db.WithContext(ctx).Where("id = ?", id)
	if partnerID != "" {
		q = q.Where("partner_id = ?", partnerID)
	}
	err := q.Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.User{}, "", notFound("user", id)
	}
	if err != nil {
		return domain.User{}, "", fmt.Errorf("store: user %s: %w", id, err)
	}
	return r.domain(), r.PasswordHash, nil
}

// ListUsers lists a partner's users, oldest first.
func (s *Store) ListUsers(ctx context.Context, partnerID string) ([]domain.User, error) {
	var rows []userRow
	if err := s.db.WithContext(ctx).Where("partner_id = ?", partnerID).Order("id").Limit(1000).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	out := make([]domain.User, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// CountUsers counts a partner's users of a role.
func (s *Store) CountUsers(ctx context.Context, partnerID string, role domain.Role) (int, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&userRow{}).Where("partner_id = ? AND role = ?", partnerID, string(role)).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return int(n), nil
}

// SetPassword replaces a user's password hash and, in the same
// transaction, revokes every session of the user.
func (s *Store) SetPassword(ctx context.Context, userID, passwordHash string, at time.Time) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&userRow{}).Where("id = ?", userID).Updates(map[string]any{
			"password_hash": passwordHash, "token_version": gorm.Expr("token_version + 1"), "updated_at": micros(at),
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return notFound("user", userID)
		}
		return tx.Model(&sessionRow{}).Where("user_id = ? AND revoked_at IS NULL", userID).
			Update("revoked_at", micros(at)).Error
	})
	if err != nil {
		return fmt.Errorf("store: set password: %w", err)
	}
	return nil
}

// DeleteUser removes one of a partner's users and its sessions.
func (s *Store) DeleteUser(ctx context.Context, partnerID, id string) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&userRow{}).Where("id = ? AND partner_id = ?", id, partnerID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return notFound("user", id)
		}
		if err := tx.Where("user_id = ?", id).Delete(&sessionRow{}).Error; err != nil {
			return err
		}
		return tx.Where("id = ? AND partner_id = ?", id, partnerID).Delete(&userRow{}).Error
	})
	if err != nil {
		return fmt.Errorf("store: delete user: %w", err)
	}
	return nil
}
