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

type endpointRow struct {
	ID                  string `gorm:"primaryKey"`
	PartnerID           string
	URL                 string `gorm:"column:url"`
	Description         string
	EventTypes          string
	Status              string
	StatusReason        string
	Secret              []byte
	PrevSecret          []byte
	PrevSecretExpiresAt *int64
	RateLimit           int
	RetrySchedule       *string
	TimeoutSeconds      int
	Headers             *string
	CreatedAt           int64 `gorm:"autoCreateTime:false"`
	UpdatedAt           int64 `gorm:"autoUpdateTime:false"`
	DeletedAt           *int64
	Ed25519Key          []byte `gorm:"column:ed25519_key"`
	FailingSince        *int64
	NextProbeAt         *int64
	ProbeBackoffMs      int64
}

func (endpointRow) TableName() string { return "endpoints" }

func (r endpointRow) domain() domain.Endpoint {
	e := domain.Endpoint{
		ID: r.ID, PartnerID: r.PartnerID, URL: r.URL, Description: r.Description,
		Status: domain.EndpointStatus(r.Status), StatusReason: r.StatusReason,
		RateLimitPerSecond: r.RateLimit, TimeoutSeconds: r.TimeoutSeconds,
		Ed25519: len(r.Ed25519Key) > 0, FailingSince: fromMicrosPtr(r.FailingSince), NextProbeAt: fromMicrosPtr(r.NextProbeAt),
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
	}
	_ = json.Unmarshal([]byte(r.EventTypes), &e.EventTypes)
	if r.RetrySchedule != nil && *r.RetrySchedule != "" {
		var ms []int64
		if json.Unmarshal([]byte(*r.RetrySchedule), &ms) == nil {
			e.RetrySchedule = make([]time.Duration, len(ms))
			for i, v := range ms {
				e.RetrySchedule[i] = time.Duration(v) * time.Millisecond
			}
		}
	}
	if r.Headers != nil && *r.Headers != "" {
		_ = json.Unmarshal([]byte(*r.Headers), &e.Headers)
	}
	return e
}

func scheduleJSON(s []time.Duration) *string {
	if s == nil {
		return nil
	}
	ms := make([]int64, len(s))
	for i, d := range s {
		ms[i] = d.Milliseconds()
	}
	v := mustJSON(ms)
	return &v
}

func headersJSON(h map[string]string) *string {
	if len(h) == 0 {
		return nil
	}
	v := mustJSON(h)
	return &v
}

// CreateEndpoint stores an endpoint and its signing secret, sealed under the
// master key and bound to the endpoint id.
func (s *Store) CreateEndpoint(ctx context.Context, e domain.Endpoint, secret string) error {
	r := endpointRow{
		ID: e.ID, PartnerID: e.PartnerID, URL: e.URL, Description: e.Description,
		EventTypes: mustJSON(e.EventTypes), Status: string(e.Status), StatusReason: e.StatusReason,
		Secret:    s.box.Seal([]byte(secret), []byte(e.ID)),
		RateLimit: e.RateLimitPerSecond, RetrySchedule: scheduleJSON(e.RetrySchedule),
		TimeoutSeconds: e.TimeoutSeconds, Headers: headersJSON(e.Headers),
		CreatedAt: micros(e.CreatedAt), UpdatedAt: micros(e.UpdatedAt),
	}
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("store: create endpoint: %w", err)
	}
	return nil
}

// Endpoint returns a partner's endpoint; another partner's id is not found.
// An empty partnerID skips the tenant check (workers, admins).
func (s *Store) Endpoint(ctx context.Context, partnerID, id string) (domain.Endpoint, error) {
	r, err := s.endpointRow(ctx, s.db.WithContext(ctx), partnerID, id)
	if err != nil {
		return domain.Endpoint{}, err
	}
	return r.domain(), nil
}

func (s *Store) endpointRow(ctx context.Context, db *gorm.DB, partnerID, id string) (endpointRow, error) {
	var r endpointRow
	q := db.Where("id = ? AND deleted_at IS NULL", id)
	if partnerID != "" {
		q = q.Where("partner_id = ?", partnerID)
	}
	err := q.Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, notFound("endpoint", id)
	}
	if err != nil {
		return r, fmt.Errorf("store: endpoint %s: %w", id, err)
	}
	return r, nil
}

// EndpointSecrets returns an endpoint's decrypted signing secrets.
func (s *Store) EndpointSecrets(ctx context.Context, partnerID, id string) (domain.EndpointSecrets, error) {
	r, err := s.endpointRow(ctx, s.db.WithContext(ctx), partnerID, id)
	if err != nil {
		return domain.EndpointSecrets{}, err
	}
	return s.openSecrets(r)
}

func (s *Store) openSecrets(r endpointRow) (domain.EndpointSecrets, error) {
	cur, err := s.box.Open(r.Secret, []byte(r.ID))
	if err != nil {
		return domain.EndpointSecrets{}, fmt.Errorf("store: endpoint %s secret: %w", r.ID, err)
	}
	out := domain.EndpointSecrets{Current: string(cur)}
	if len(r.PrevSecret) > 0 && r.PrevSecretExpiresAt != nil {
		prev, err := s.box.Open(r.PrevSecret, []byte(r.ID))
		if err != nil {
			return domain.EndpointSecrets{}, fmt.Errorf("store: endpoint %s previous secret: %w", r.ID, err)
		}
		out.Previous = string(prev)
		out.PreviousExpires = fromMicros(*r.PrevSecretExpiresAt)
	}
	if len(r.Ed25519Key) > 0 {
		k, err := s.box.Open(r.Ed25519Key, []byte(r.ID+":ed25519"))
		if err != nil {
			return domain.EndpointSecrets{}, fmt.Errorf("store: endpoint %s ed25519 key: %w", r.ID, err)
		}
		out.Ed25519 = string(k)
	}
	return out, nil
}

// RotateEndpointSecret makes secret current; the old one keeps signing until
// graceUntil.
func (s *Store) RotateEndpointSecret(ctx context.Context, partnerID, id, secret string, graceUntil time.Time) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		r, err := s.endpointRow(ctx, tx, partnerID, id)
		if err != nil {
			return err
		}
		g := micros(graceUntil)
		return tx.Model(&endpointRow{}).Where("id = ?", id).Updates(map[string]any{
			"secret": s.box.Seal([]byte(secret), []byte(id)), "prev_secret": r.Secret,
			"prev_secret_expires_at": g, "updated_at": micros(time.Now()),
		}).Error
	})
}

// ListEndpoints lists a partner's endpoints by id.
func (s *Store) ListEndpoints(ctx context.Context, partnerID, cursor string, limit int) (domain.Page[domain.Endpoint], error) {
	q := s.db.WithContext(ctx).Where("partner_id = ? AND deleted_at IS NULL", partnerID)
	if cursor != "" {
		q = q.Where("id > ?", cursor)
	}
	var rows []endpointRow
	if err := q.Order("id").Limit(limit + 1).Find(&rows).Error; err != nil {
		return domain.Page[domain.Endpoint]{}, fmt.Errorf("store: list endpoints: %w", err)
	}
	return pageOf(rows, limit, func(r endpointRow) string { return r.ID }, endpointRow.domain), nil
}

// CountEndpoints counts a partner's live endpoints.
func (s *Store) CountEndpoints(ctx context.Context, partnerID string) (int, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&endpointRow{}).
		Where("partner_id = ? AND deleted_at IS NULL", partnerID).Count(&n).Error
	return int(n), err
}

// UpdateEndpoint writes every mutable field of e (not the secret).
func (s *Store) UpdateEndpoint(ctx context.Context, e domain.Endpoint) error {
	res := s.db.WithContext(ctx).Model(&endpointRow{}).
		Where("id = ? AND partner_id = ? AND deleted_at IS NULL", e.ID, e.PartnerID).
		Updates(map[string]any{
			"url": e.URL, "description": e.Description, "event_types": mustJSON(e.EventTypes),
			"status": string(e.Status), "status_reason": e.StatusReason,
			"rate_limit": e.RateLimitPerSecond, "retry_schedule": scheduleJSON(e.RetrySchedule),
			"timeout_seconds": e.TimeoutSeconds, "headers": headersJSON(e.Headers),
			"updated_at": micros(time.Now()),
		})
	if res.Error != nil {
		return fmt.Errorf("store: update endpoint %s: %w", e.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("endpoint", e.ID)
	}
	return nil
}

// DeleteEndpoint removes a partner's endpoint from routing; its delivery log
// stays readable until retention removes it.
func (s *Store) DeleteEndpoint(ctx context.Context, partnerID, id string) error {
	now := micros(time.Now())
	res := s.db.WithContext(ctx).Model(&endpointRow{}).
		Where("id = ? AND partner_id = ? AND deleted_at IS NULL", id, partnerID).
		Updates(map[string]any{"deleted_at": now, "updated_at": now})
	if res.Error != nil {
		return fmt.Errorf("store: delete endpoint %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("endpoint", id)
	}
	return nil
}

// Route is what fan-out and delivery need of an endpoint: its settings, its
// partner's status and entitlements, and its decrypted secrets.
type Route struct {
	Endpoint      domain.Endpoint
	PartnerStatus domain.PartnerStatus
	Entitlements  []string
	Quota         domain.Quota
	Secrets       domain.EndpointSecrets
}

// Routes returns every live endpoint of non-pending partners, with
// secrets, for the in-memory routing cache.
func (s *Store) Routes(ctx context.Context) ([]Route, error) {
	var partners []partnerRow
	if err := s.db.WithContext(ctx).Where("status <> ?", string(domain.PartnerPending)).Find(&partners).Error; err != nil {
		return nil, fmt.Errorf("store: routes: %w", err)
	}
	byID := make(map[string]domain.Partner, len(partners))
	for _, p := range partners {
		byID[p.ID] = p.domain()
	}
	var rows []endpointRow
	if err := s.db.WithContext(ctx).Where("deleted_at IS NULL").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: routes: %w", err)
	}
	out := make([]Route, 0, len(rows))
	for _, r := range rows {
		p, ok := byID[r.PartnerID]
		if !ok {
			continue
		}
		sec, err := s.openSecrets(r)
		if err != nil {
			s.log.Error("endpoint secret cannot be opened; endpoint skipped", "endpoint_id", r.ID, "error", err)
			continue
		}
		out = append(out, Route{
			Endpoint: r.domain(), PartnerStatus: p.Status, Entitlements: p.Entitlements, Quota: p.Quota, Secrets: sec,
		})
	}
	return out, nil
}

// SetEndpointEd25519 turns v1a signing on with the given whsk_ private key,
// or off with "".
func (s *Store) SetEndpointEd25519(ctx context.Context, partnerID, id, privateKey string) error {
	var sealed []byte
	if privateKey != "" {
		sealed = s.box.Seal([]byte(privateKey), []byte(id+":ed25519"))
	}
	res := s.db.WithContext(ctx).Model(&endpointRow{}).
		Where("id = ? AND partner_id = ? AND deleted_at IS NULL", id, partnerID).
		Updates(map[string]any{"ed25519_key": sealed, "updated_at": micros(time.Now())})
	if res.Error != nil {
		return fmt.Errorf("store: endpoint %s ed25519: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("endpoint", id)
	}
	return nil
}

// EndpointHealth is the delivery engine's view of an endpoint.
type EndpointHealth struct {
	Status       domain.EndpointStatus
	Reason       string
	FailingSince *time.Time
	NextProbeAt  *time.Time
	ProbeBackoff time.Duration
}

// SetEndpointHealth records a circuit-breaker transition.
func (s *Store) SetEndpointHealth(ctx context.Context, id string, h EndpointHealth) error {
	res := s.db.WithContext(ctx).Model(&endpointRow{}).Where("id = ? AND deleted_at IS NULL", id).Updates(map[string]any{
		"status": string(h.Status), "status_reason": h.Reason, "failing_since": microsPtr(h.FailingSince),
		"next_probe_at": microsPtr(h.NextProbeAt), "probe_backoff_ms": h.ProbeBackoff.Milliseconds(),
		"updated_at": micros(time.Now()),
	})
	if res.Error != nil {
		return fmt.Errorf("store: endpoint %s health: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("endpoint", id)
	}
	return nil
}

// ProbeBackoff returns the current probe back-off of an endpoint.
func (s *Store) ProbeBackoff(ctx context.Context, id string) (time.Duration, error) {
	var ms int64
	err := s.db.WithContext(ctx).Model(&endpointRow{}).Select("probe_backoff_ms").Where("id = ?", id).Scan(&ms).Error
	return time.Duration(ms) * time.Millisecond, err
}

// EndpointsToProbe lists circuit-open endpoints whose probe time has come.
func (s *Store) EndpointsToProbe(ctx context.Context, now time.Time, limit int) ([]domain.Endpoint, error) {
	var rows []endpointRow
	err := s.db.WithContext(ctx).Where("deleted_at IS NULL AND status = ? AND status_reason = ? AND next_probe_at <= ?",
		string(domain.EndpointPaused), domain.ReasonCircuitOpen, micros(now)).Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: endpoints to probe: %w", err)
	}
	out := make([]domain.Endpoint, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
