package service

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/delivery/signer"
	"github.com/hookgate/hookgate/internal/catalog"
	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
)

// EndpointInput creates an endpoint.
type EndpointInput struct {
	URL                string
	Description        string
	EventTypes         []string
	RateLimitPerSecond int
	RetrySchedule      []time.Duration
	TimeoutSeconds     int
	Headers            map[string]string
}

// EndpointPatch changes an endpoint; nil fields are left alone.
type EndpointPatch struct {
	URL                *string
	Description        *string
	EventTypes         *[]string
	Status             *domain.EndpointStatus
	RateLimitPerSecond *int
	RetrySchedule      *[]time.Duration
	TimeoutSeconds     *int
	Headers            *map[string]string
	// Ed25519 turns asymmetric (v1a) signing on or off.
	Ed25519 *bool
}

// reservedHeaders may not be overridden by custom endpoint headers.
var reservedHeaders = map[string]bool{
	"Content-Type": true, "Content-Length": true, "Host": true, "Webhook-Id": true,
	"Webhook-Timestamp": true, "Webhook-Signature": true, "Transfer-Encoding": true, "Connection": true,
}

func (s *Service) checkEndpoint(partner domain.Partner, e *domain.Endpoint) error {
	e.URL = strings.TrimSpace(e.URL)
	if e.URL == "" {
		return domain.Invalid("url", "is required")
	}
	if len(e.URL) > 2048 {
		return domain.Invalid("url", "must be at most 2048 characters")
	}
	if err := s.d.URLs.CheckURL(e.URL); err != nil {
		return domain.Invalid("url", "%s", err.Error())
	}
	if len(e.Description) > 500 {
		return domain.Invalid("description", "must be at most 500 characters")
	}
	var err error
	if e.EventTypes, err = validPatterns("event_types", e.EventTypes, false); err != nil {
		return err
	}
	for _, p := range e.EventTypes {
		if !domain.PatternWithin(p, partner.Entitlements) && !operationalPattern(p) {
			return domain.Invalid("event_types", "%q is beyond what your partner account is entitled to (%s)", p, strings.Join(partner.Entitlements, ", "))
		}
	}
	if e.RateLimitPerSecond < 0 || e.RateLimitPerSecond > 100000 {
		return domain.Invalid("rate_limit_per_second", "must be from 0 (unlimited) to 100000")
	}
	if q := partner.Quota.MaxRatePerSecond; q > 0 && e.RateLimitPerSecond > q {
		return domain.Invalid("rate_limit_per_second", "must be at most your quota of %d per second", q)
	}
	if e.RetrySchedule != nil {
		if len(e.RetrySchedule) > 20 {
			return domain.Invalid("retry_schedule", "must list at most 20 retries")
		}
		for _, d := range e.RetrySchedule {
			if d < time.Second || d > 24*time.Hour {
				return domain.Invalid("retry_schedule", "each delay must be from 1s to 24h")
			}
		}
	}
	if e.TimeoutSeconds < 0 || e.TimeoutSeconds > 60 {
		return domain.Invalid("timeout_seconds", "must be from 1 to 60 (0 = default)")
	}
	if len(e.Headers) > 20 {
		return domain.Invalid("headers", "at most 20 custom headers")
	}
	for k, v := range e.Headers {
		ck := http.CanonicalHeaderKey(k)
		if k == "" || strings.ContainsAny(k, " :\r\n\t") || reservedHeaders[ck] {
			return domain.Invalid("headers", "%q cannot be set as a custom header", k)
		}
		if strings.ContainsAny(v, "\r\n") || len(v) > 1000 {
			return domain.Invalid("headers", "value of %q must be one line of at most 1000 characters", k)
		}
	}
	return nil
}

// CreateEndpoint subscribes a partner's URL and returns the signing secret
// once.
func (s *Service) CreateEndpoint(ctx context.Context, p domain.Principal, in EndpointInput) (domain.Endpoint, string, error) {
	pid, err := partnerOf(p, domain.ScopeEndpointsWrite)
	if err != nil {
		return domain.Endpoint{}, "", err
	}
	partner, err := s.d.Store.Partner(ctx, pid)
	if err != nil {
		return domain.Endpoint{}, "", err
	}
	now := s.now()
	e := domain.Endpoint{
		ID: ids.New(ids.Endpoint), PartnerID: pid, URL: in.URL, Description: strings.TrimSpace(in.Description),
		EventTypes: in.EventTypes, Status: domain.EndpointActive, RateLimitPerSecond: in.RateLimitPerSecond,
		RetrySchedule: in.RetrySchedule, TimeoutSeconds: in.TimeoutSeconds, Headers: in.Headers,
		CreatedAt: now, UpdatedAt: now,
	}
	if err := s.checkEndpoint(partner, &e); err != nil {
		return domain.Endpoint{}, "", err
	}
	if max := partner.Quota.MaxEndpoints; max > 0 {
		n, err := s.d.Store.CountEndpoints(ctx, pid)
		if err != nil {
			return domain.Endpoint{}, "", err
		}
		if n >= max {
			return domain.Endpoint{}, "", &domain.QuotaError{Reason: "your quota allows at most " + strconv.Itoa(max) + " endpoints"}
		}
	}
	secret, err := signer.NewSecret()
	if err != nil {
		return domain.Endpoint{}, "", err
	}
	if err := s.d.Store.CreateEndpoint(ctx, e, secret); err != nil {
		return domain.Endpoint{}, "", err
	}
	s.d.Routes.Invalidate(ctx)
	return e, secret, nil
}

// Endpoint returns one of the partner's endpoints.
func (s *Service) Endpoint(ctx context.Context, p domain.Principal, id string) (domain.Endpoint, error) {
	pid, err := partnerOf(p, domain.ScopeEndpointsRead)
	if err != nil {
		return domain.Endpoint{}, err
	}
	return s.d.Store.Endpoint(ctx, pid, id)
}

// ListEndpoints lists the partner's endpoints.
func (s *Service) ListEndpoints(ctx context.Context, p domain.Principal, cursor string, limit int) (domain.Page[domain.Endpoint], error) {
	pid, err := partnerOf(p, domain.ScopeEndpointsRead)
	if err != nil {
		return domain.Page[domain.Endpoint]{}, err
	}
	return s.d.Store.ListEndpoints(ctx, pid, cursor, limit)
}

// UpdateEndpoint changes an endpoint. Setting status active re-enables a
// paused or disabled endpoint; paused holds new deliveries.
func (s *Service) UpdateEndpoint(ctx context.Context, p domain.Principal, id string, in EndpointPatch) (domain.Endpoint, error) {
	pid, err := partnerOf(p, domain.ScopeEndpointsWrite)
	if err != nil {
		return domain.Endpoint{}, err
	}
	e, err := s.d.Store.Endpoint(ctx, pid, id)
	if err != nil {
		return domain.Endpoint{}, err
	}
	partner, err := s.d.Store.Partner(ctx, pid)
	if err != nil {
		return domain.Endpoint{}, err
	}
	if in.URL != nil {
		e.URL = *in.URL
	}
	if in.Description != nil {
		e.Description = strings.TrimSpace(*in.Description)
	}
	if in.EventTypes != nil {
		e.EventTypes = *in.EventTypes
	}
	if in.RateLimitPerSecond != nil {
		e.RateLimitPerSecond = *in.RateLimitPerSecond
	}
	if in.RetrySchedule != nil {
		e.RetrySchedule = *in.RetrySchedule
	}
	if in.TimeoutSeconds != nil {
		e.TimeoutSeconds = *in.TimeoutSeconds
	}
	if in.Headers != nil {
		e.Headers = *in.Headers
	}
	wasStatus := e.Status
	if in.Status != nil {
		switch *in.Status {
		case domain.EndpointActive:
			e.Status, e.StatusReason = domain.EndpointActive, ""
		case domain.EndpointPaused:
			e.Status, e.StatusReason = domain.EndpointPaused, "paused by partner"
		default:
			return domain.Endpoint{}, domain.Invalid("status", "must be active or paused")
		}
	}
	if err := s.checkEndpoint(partner, &e); err != nil {
		return domain.Endpoint{}, err
	}
	e.UpdatedAt = s.now()
	if err := s.d.Store.UpdateEndpoint(ctx, e); err != nil {
		return domain.Endpoint{}, err
	}
	if in.Ed25519 != nil && *in.Ed25519 != e.Ed25519 {
		if _, err := s.SetEd25519(ctx, p, e.ID, *in.Ed25519); err != nil {
			return domain.Endpoint{}, err
		}
		e.Ed25519 = *in.Ed25519
	}
	if e.Status == domain.EndpointActive && wasStatus != domain.EndpointActive {
		// Re-enabled (after a pause, an open circuit or an automatic
		// disable): forget the failure run and release what was held.
		if err := s.d.Store.SetEndpointHealth(ctx, e.ID, store.EndpointHealth{Status: domain.EndpointActive}); err != nil {
			return domain.Endpoint{}, err
		}
		e.FailingSince, e.NextProbeAt = nil, nil
	}
	s.d.Routes.Invalidate(ctx)
	if e.Status == domain.EndpointActive && wasStatus != domain.EndpointActive {
		s.releaseHeld(ctx, store.HeldFilter{EndpointID: e.ID, Reasons: []string{"endpoint_paused", domain.ReasonCircuitOpen, "endpoint_disabled"}})
	}
	return e, nil
}

// EnableEndpoint re-enables an endpoint that was paused or disabled
// (automatically or by the partner) and releases its held deliveries.
func (s *Service) EnableEndpoint(ctx context.Context, p domain.Principal, id string) (domain.Endpoint, error) {
	active := domain.EndpointActive
	return s.UpdateEndpoint(ctx, p, id, EndpointPatch{Status: &active})
}

// EndpointSecret is what a partner may see of an endpoint's keys.
type EndpointSecret struct {
	Secret          string
	PreviousExpires *time.Time // set while the previous secret still signs
	PublicKey       string     // whpk_… when v1a signing is on
}

// Secret reveals the endpoint's current signing secret (and public key).
func (s *Service) Secret(ctx context.Context, p domain.Principal, id string) (EndpointSecret, error) {
	pid, err := partnerOf(p, domain.ScopeEndpointsWrite)
	if err != nil {
		return EndpointSecret{}, err
	}
	sec, err := s.d.Store.EndpointSecrets(ctx, pid, id)
	if err != nil {
		return EndpointSecret{}, err
	}
	out := EndpointSecret{Secret: sec.Current}
	if sec.Previous != "" && sec.PreviousExpires.After(s.now()) {
		t := sec.PreviousExpires
		out.PreviousExpires = &t
	}
	if sec.Ed25519 != "" {
		pub, err := signer.PublicFromPrivate(sec.Ed25519)
		if err != nil {
			return EndpointSecret{}, err
		}
		out.PublicKey = pub
	}
	return out, nil
}

// RotateSecret makes a new signing secret current; the previous one keeps
// signing (both v1 entries are sent) for grace (default 24 h, at most 7 d).
func (s *Service) RotateSecret(ctx context.Context, p domain.Principal, id string, grace time.Duration) (EndpointSecret, error) {
	pid, err := partnerOf(p, domain.ScopeEndpointsWrite)
	if err != nil {
		return EndpointSecret{}, err
	}
	if grace < 0 || grace > 7*24*time.Hour {
		return EndpointSecret{}, domain.Invalid("grace_period_seconds", "must be from 0 to 604800 (7 days)")
	}
	secret, err := signer.NewSecret()
	if err != nil {
		return EndpointSecret{}, err
	}
	if err := s.d.Store.RotateEndpointSecret(ctx, pid, id, secret, s.now().Add(grace)); err != nil {
		return EndpointSecret{}, err
	}
	s.d.Routes.Invalidate(ctx)
	s.d.Log.InfoContext(ctx, "endpoint secret rotated", "endpoint_id", id, "grace", grace.String())
	s.audit(ctx, p, "endpoint.secret_rotated", id, pid, map[string]any{"grace": grace.String()})
	return s.Secret(ctx, p, id)
}

// SetEd25519 turns asymmetric (v1a) signing on or off; on returns the
// public key partners verify with.
func (s *Service) SetEd25519(ctx context.Context, p domain.Principal, id string, on bool) (EndpointSecret, error) {
	pid, err := partnerOf(p, domain.ScopeEndpointsWrite)
	if err != nil {
		return EndpointSecret{}, err
	}
	key := ""
	if on {
		sec, err := s.d.Store.EndpointSecrets(ctx, pid, id)
		if err != nil {
			return EndpointSecret{}, err
		}
		key = sec.Ed25519
		if key == "" {
			if key, _, err = signer.NewEd25519(); err != nil {
				return EndpointSecret{}, err
			}
		}
	}
	if err := s.d.Store.SetEndpointEd25519(ctx, pid, id, key); err != nil {
		return EndpointSecret{}, err
	}
	s.d.Routes.Invalidate(ctx)
	return s.Secret(ctx, p, id)
}

// DeleteEndpoint removes one of the partner's endpoints.
func (s *Service) DeleteEndpoint(ctx context.Context, p domain.Principal, id string) error {
	pid, err := partnerOf(p, domain.ScopeEndpointsWrite)
	if err != nil {
		return err
	}
	if err := s.d.Store.DeleteEndpoint(ctx, pid, id); err != nil {
		return err
	}
	s.d.Routes.Invalidate(ctx)
	return nil
}

// EventTypes lists the catalogue within the caller's entitlements (admins
// see everything).
func (s *Service) EventTypes(ctx context.Context, p domain.Principal) ([]domain.EventType, error) {
	all, err := s.d.Store.ListEventTypes(ctx)
	if err != nil {
		return nil, err
	}
	if p.IsAdmin() {
		return all, nil
	}
	pid, err := partnerOf(p, "")
	if err != nil {
		return nil, err
	}
	partner, err := s.d.Store.Partner(ctx, pid)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, t := range all {
		if domain.MatchAny(partner.Entitlements, t.Name) || catalog.Operational(t.Name) {
			out = append(out, t)
		}
	}
	return out, nil
}

// operationalPattern reports whether p names only operational event types,
// which every partner may subscribe to whatever its entitlements.
func operationalPattern(p string) bool {
	return p == "endpoint.*" || catalog.Operational(p)
}
