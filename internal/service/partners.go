package service

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"github.com/hookgate/hookgate/internal/crypto"
	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// PartnerInput creates a partner.
type PartnerInput struct {
	Name         string
	Email        string
	Status       domain.PartnerStatus // default pending
	Entitlements []string             // default ["*"]
	Quota        *domain.Quota
}

// PartnerPatch changes a partner; nil fields are left alone.
type PartnerPatch struct {
	Name         *string
	Email        *string
	Status       *domain.PartnerStatus
	Entitlements *[]string
	Quota        *domain.Quota
}

func validName(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", domain.Invalid(field, "is required")
	}
	if len(v) > 200 {
		return "", domain.Invalid(field, "must be at most 200 characters")
	}
	return v, nil
}

func validEmail(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", domain.Invalid("email", "is required")
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || len(v) > 254 {
		return "", domain.Invalid("email", "must be a plain e-mail address like ops@example.com")
	}
	return strings.ToLower(v), nil
}

func validPatterns(field string, ps []string, allowEmpty bool) ([]string, error) {
	if len(ps) == 0 && !allowEmpty {
		return nil, domain.Invalid(field, "must list at least one event type or pattern")
	}
	if len(ps) > 100 {
		return nil, domain.Invalid(field, "must list at most 100 patterns")
	}
	out := make([]string, 0, len(ps))
	seen := map[string]bool{}
	for _, p := range ps {
		p = strings.TrimSpace(p)
		if !domain.ValidPattern(p) {
			return nil, domain.Invalid(field, "%q is not an event type or pattern (order.confirmed, order.*, *)", p)
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

func validQuota(q domain.Quota) error {
	if q.MonthlyDeliveries < 0 {
		return domain.Invalid("quota.monthly_deliveries", "must be 0 (unlimited) or more")
	}
	if q.MaxEndpoints < 0 || q.MaxEndpoints > 100000 {
		return domain.Invalid("quota.max_endpoints", "must be from 0 (unlimited) to 100000")
	}
	if q.MaxRatePerSecond < 0 || q.MaxRatePerSecond > 100000 {
		return domain.Invalid("quota.max_rate_per_second", "must be from 0 (unlimited) to 100000")
	}
	return nil
}

// CreatePartner creates a partner (admin).
func (s *Service) CreatePartner(ctx context.Context, p domain.Principal, in PartnerInput) (domain.Partner, error) {
	if err := requireAdmin(p); err != nil {
		return domain.Partner{}, err
	}
	name, err := validName("name", in.Name)
	if err != nil {
		return domain.Partner{}, err
	}
	email, err := validEmail(in.Email)
	if err != nil {
		return domain.Partner{}, err
	}
	status := in.Status
	if status == "" {
		status = domain.PartnerPending
	}
	if !status.Valid() {
		return domain.Partner{}, domain.Invalid("status", "must be pending, active or suspended")
	}
	ent := in.Entitlements
	if ent == nil {
		ent = []string{"*"}
	}
	if ent, err = validPatterns("entitlements", ent, true); err != nil {
		return domain.Partner{}, err
	}
	var q domain.Quota
	if in.Quota != nil {
		if err := validQuota(*in.Quota); err != nil {
			return domain.Partner{}, err
		}
		q = *in.Quota
	}
	now := s.now()
	partner := domain.Partner{
		ID: ids.New(ids.Partner), Name: name, Email: email, Status: status,
		Entitlements: ent, Quota: q, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.d.Store.CreatePartner(ctx, partner); err != nil {
		return domain.Partner{}, err
	}
	s.d.Routes.Invalidate(ctx)
	s.audit(ctx, p, "partner.created", partner.ID, partner.ID, map[string]any{"name": name, "status": string(status)})
	return partner, nil
}

// Partner returns a partner (admin, or the partner itself).
func (s *Service) Partner(ctx context.Context, p domain.Principal, id string) (domain.Partner, error) {
	if !p.IsAdmin() && p.PartnerID != id {
		return domain.Partner{}, domain.ErrNotFound
	}
	return s.d.Store.Partner(ctx, id)
}

// ListPartners lists partners (admin).
func (s *Service) ListPartners(ctx context.Context, p domain.Principal, status string, cursor string, limit int) (domain.Page[domain.Partner], error) {
	if err := requireAdmin(p); err != nil {
		return domain.Page[domain.Partner]{}, err
	}
	st := domain.PartnerStatus(status)
	if status != "" && !st.Valid() {
		return domain.Page[domain.Partner]{}, domain.InvalidParam("status", "must be pending, active or suspended")
	}
	return s.d.Store.ListPartners(ctx, store.PartnerFilter{Status: st}, cursor, limit)
}

// UpdatePartner approves, suspends, renames or re-entitles a partner (admin).
func (s *Service) UpdatePartner(ctx context.Context, p domain.Principal, id string, in PartnerPatch) (domain.Partner, error) {
	if err := requireAdmin(p); err != nil {
		return domain.Partner{}, err
	}
	partner, err := s.d.Store.Partner(ctx, id)
	if err != nil {
		return domain.Partner{}, err
	}
	before := partner
	if in.Name != nil {
		if partner.Name, err = validName("name", *in.Name); err != nil {
			return domain.Partner{}, err
		}
	}
	if in.Email != nil {
		if partner.Email, err = validEmail(*in.Email); err != nil {
			return domain.Partner{}, err
		}
	}
	if in.Status != nil {
		if !in.Status.Valid() {
			return domain.Partner{}, domain.Invalid("status", "must be pending, active or suspended")
		}
	}
	if in.Entitlements != nil {
		if partner.Entitlements, err = validPatterns("entitlements", *in.Entitlements, true); err != nil {
			return domain.Partner{}, err
		}
	}
	if in.Quota != nil {
		if err := validQuota(*in.Quota); err != nil {
			return domain.Partner{}, err
		}
		partner.Quota = *in.Quota
	}
	wasStatus := partner.Status
	if in.Status != nil {
		partner.Status = *in.Status
	}
	partner.UpdatedAt = s.now()
	if err := s.d.Store.UpdatePartner(ctx, partner); err != nil {
		return domain.Partner{}, err
	}
	s.d.Routes.Invalidate(ctx)
	if partner.Status == domain.PartnerActive && wasStatus == domain.PartnerSuspended {
		s.releaseHeld(ctx, store.HeldFilter{PartnerID: partner.ID, Reasons: []string{"partner_suspended"}})
	}
	quotaChanged := partner.Quota != before.Quota
	if quotaChanged || (partner.Status == domain.PartnerActive && before.Status != domain.PartnerActive) {
		s.releaseQuota(ctx, partner.ID, quotaChanged)
	}
	s.auditPartnerChange(ctx, p, before, partner)
	return partner, nil
}

// APIKeyInput issues a key.
type APIKeyInput struct {
	Name      string
	Scopes    []string // default: every partner scope
	ExpiresAt *time.Time
}

// IssueAPIKey creates a key for a partner (partnerID "" issues an admin key)
// and returns the key once in plain text.
func (s *Service) IssueAPIKey(ctx context.Context, p domain.Principal, partnerID string, in APIKeyInput) (domain.APIKey, string, error) {
	if !p.IsAdmin() {
		own, err := partnerOf(p, domain.ScopeKeysManage)
		if err != nil {
			return domain.APIKey{}, "", err
		}
		partnerID = own
	}
	name, err := validName("name", in.Name)
	if err != nil {
		return domain.APIKey{}, "", err
	}
	if partnerID != "" {
		if _, err := s.d.Store.Partner(ctx, partnerID); err != nil {
			return domain.APIKey{}, "", err
		}
	}
	scopes := in.Scopes
	switch {
	case partnerID != "":
		// Partner keys: the partner scopes and keys:manage, never more
		// than the issuer holds (admins hold everything).
		if scopes, err = keyScopesFor(p, in.Scopes); err != nil {
			return domain.APIKey{}, "", err
		}
	case scopes == nil:
		scopes = []string{domain.ScopeAdmin}
	default:
		for _, sc := range scopes {
			if sc != domain.ScopeAdmin {
				return domain.APIKey{}, "", domain.Invalid("scopes", "%q is not a scope this key can hold", sc)
			}
		}
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(s.now()) {
		return domain.APIKey{}, "", domain.Invalid("expires_at", "must be in the future")
	}
	secret := "hg_" + crypto.RandomToken(30)
	k := domain.APIKey{
		ID: ids.New(ids.APIKey), PartnerID: partnerID, Name: name, Prefix: secret[:10],
		Scopes: scopes, ExpiresAt: in.ExpiresAt, CreatedAt: s.now(),
	}
	if err := s.d.Store.CreateAPIKey(ctx, k, crypto.HashToken(secret)); err != nil {
		return domain.APIKey{}, "", err
	}
	detail := map[string]any{"name": name, "prefix": k.Prefix, "scopes": scopes}
	if k.ExpiresAt != nil {
		detail["expires_at"] = k.ExpiresAt.UTC().Format(time.RFC3339)
	}
	s.audit(ctx, p, "api_key.created", k.ID, partnerID, detail)
	return k, secret, nil
}
