package service

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/delivery/signer"
	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
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
		if !domain.PatternWithin(p, partner.Entitlements) {
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
	s.d.Routes.Invalidate(ctx)
	return e, nil
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
		if domain.MatchAny(partner.Entitlements, t.Name) {
			out = append(out, t)
		}
	}
	return out, nil
}
