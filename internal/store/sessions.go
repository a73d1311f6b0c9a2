package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/hookgate/hookgate/internal/domain"
)

type sessionRow struct {
	ID              string `gorm:"primaryKey"`
	UserID          string
	RefreshHash     string
	PrevRefreshHash *string
	CreatedAt       int64 `gorm:"autoCreateTime:false"`
	RefreshedAt     int64
	ExpiresAt       int64
	RevokedAt       *int64
	Address         string
}

func (sessionRow) TableName() string { return "sessions" }

func (r sessionRow) domain() domain.Session {
	return domain.Session{
		ID: r.ID, UserID: r.UserID, CreatedAt: fromMicros(r.CreatedAt), RefreshedAt: fromMicros(r.RefreshedAt),
		ExpiresAt: fromMicros(r.ExpiresAt), RevokedAt: fromMicrosPtr(r.RevokedAt), Address: r.Address,
	}
}

// CreateSession records a login; only the refresh token's hash is kept.
func (s *Store) CreateSession(ctx context.Context, se domain.Session, refreshHash string) error {
	r := sessionRow{
		ID: se.ID, UserID: se.UserID, RefreshHash: refreshHash, CreatedAt: micros(se.CreatedAt),
		RefreshedAt: micros(se.RefreshedAt), ExpiresAt: micros(se.ExpiresAt), Address: se.Address,
	}
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionByRefreshHash finds the session whose current refresh token has
// this hash. When the hash is that of the token the session had before its
// last rotation, it returns the session with reused set: someone replayed
// a spent refresh token.
func (s *Store) SessionByRefreshHash(ctx context.Context, hash string) (se domain.Session, reused bool, err error) {
	var r sessionRow
	err = s.db.WithContext(ctx).Where("refresh_hash = ?", hash).Take(&r).Error
	if err == nil {
		return r.domain(), false, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.Session{}, false, fmt.Errorf("store: session by refresh token: %w", err)
	}
	err = s.db.WithContext(ctx).Where("prev_refresh_hash = ?", hash).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.Session{}, false, notFound("session", "by refresh token")
	}
	if err != nil {
		return domain.Session{}, false, fmt.Errorf("store: session by refresh token: %w", err)
	}
	return r.domain(), true, nil
}

// RotateSession replaces a live session's refresh token, if it is still
// oldHash (a concurrent rotation wins, and this one is ErrConflict), and
// extends its expiry.
func (s *Store) RotateSession(ctx context.Context, id, oldHash, newHash string, at, expires time.Time) error {
	res := s.db.WithContext(ctx).Model(&sessionRow{}).
		Where("id = ? AND refresh_hash = ? AND revoked_at IS NULL", id, oldHash).
		Updates(map[string]any{
			"refresh_hash": newHash, "prev_refresh_hash": oldHash,
			"refreshed_at": micros(at), "expires_at": micros(expires),
		})
	if res.Error != nil {
		return fmt.Errorf("store: rotate session %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: rotate session %s: %w", id, domain.ErrConflict)
	}
	return nil
}

// RevokeSession ends one session; revoking a revoked session is harmless.
func (s *Store) RevokeSession(ctx context.Context, id string, at time.Time) error {
	err := s.db.WithContext(ctx).Model(&sessionRow{}).Where("id = ? AND revoked_at IS NULL", id).
		Update("revoked_at", micros(at)).Error
	if err != nil {
		return fmt.Errorf("store: revoke session %s: %w", id, err)
	}
	return nil
}

// RevokeUserSessions ends every session of a user.
func (s *Store) RevokeUserSessions(ctx context.Context, userID string, at time.Time) error {
	err := s.db.WithContext(ctx).Model(&sessionRow{}).Where("user_id = ? AND revoked_at IS NULL", userID).
		Update("revoked_at", micros(at)).Error
	if err != nil {
		return fmt.Errorf("store: revoke sessions of %s: %w", userID, err)
	}
	return nil
}

// SessionAuth reads a session with its user and the user's partner status
// in one query: what authenticating an access token checks on every
// request.
func (s *Store) SessionAuth(ctx context.Context, sessionID string) (domain.SessionAuth, error) {
	var rows []struct {
		ID            string
		UserID        string
		CreatedAt     int64
		RefreshedAt   int64
		ExpiresAt     int64
		RevokedAt     *int64
		Address       string
		UEmail        string
		URole         string
		UPartnerID    *string
		UCreatedAt    int64
		UUpdatedAt    int64
		PartnerStatus *string
	}
	err := s.db.WithContext(ctx).Raw(`SELECT s.id, s.user_id, s.created_at, s.refreshed_at, s.expires_at, s.revoked_at, s.address,
			u.email AS u_email, u.role AS u_role, u.partner_id AS u_partner_id, u.created_at AS u_created_at,
			u.updated_at AS u_updated_at, p.status AS partner_status
		FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN partners p ON p.id = u.partner_id
		WHERE s.id = ?`, sessionID).Scan(&rows).Error
	if err != nil {
		return domain.SessionAuth{}, fmt.Errorf("store: session %s: %w", sessionID, err)
	}
	if len(rows) == 0 {
		return domain.SessionAuth{}, notFound("session", sessionID)
	}
	r := rows[0]
	ur := userRow{ID: r.UserID, PartnerID: r.UPartnerID, Email: r.UEmail, Role: r.URole, CreatedAt: r.UCreatedAt, UpdatedAt: r.UUpdatedAt}
	sr := sessionRow{ID: r.ID, UserID: r.UserID, CreatedAt: r.CreatedAt, RefreshedAt: r.RefreshedAt,
		ExpiresAt: r.ExpiresAt, RevokedAt: r.RevokedAt, Address: r.Address}
	a := domain.SessionAuth{Session: sr.domain(), User: ur.domain()}
	if r.PartnerStatus != nil {
		a.PartnerStatus = domain.PartnerStatus(*r.PartnerStatus)
	}
	return a, nil
}

// PruneSessions deletes sessions that expired or were revoked before
// cutoff, and reports how many.
func (s *Store) PruneSessions(ctx context.Context, cutoff time.Time) (int64, error) {
	c := micros(cutoff)
	res := s.db.WithContext(ctx).Where("expires_at < ? OR revoked_at < ?", c, c).Delete(&sessionRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: prune sessions: %w", res.Error)
	}
	return res.RowsAffected, nil
}
