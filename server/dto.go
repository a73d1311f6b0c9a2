package server

import (
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/hookgate/hookgate/internal/domain"
)

// API types: what clients see. Storage rows and domain structs are never
// rendered directly, so secrets and internal fields cannot leak.

// QuotaDTO is a partner's quota (0 = unlimited).
type QuotaDTO struct {
	MonthlyDeliveries int64 `json:"monthly_deliveries"`
	MaxEndpoints      int   `json:"max_endpoints"`
	MaxRatePerSecond  int   `json:"max_rate_per_second"`
}

// PartnerDTO is a partner.
type PartnerDTO struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Email        string    `json:"email"`
	Status       string    `json:"status"`
	Entitlements []string  `json:"entitlements"`
	Quota        QuotaDTO  `json:"quota"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func partnerDTO(p domain.Partner) PartnerDTO {
	return PartnerDTO{
		ID: p.ID, Name: p.Name, Email: p.Email, Status: string(p.Status), Entitlements: p.Entitlements,
		Quota:     QuotaDTO(p.Quota),
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

// APIKeyDTO is an API key without its secret.
type APIKeyDTO struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	PartnerID  *string    `json:"partner_id"`
	Scopes     []string   `json:"scopes"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	CreatedAt  time.Time  `json:"created_at"`
	// Key is the secret, present only in the response that creates it.
	Key string `json:"key,omitempty"`
}

func apiKeyDTO(k domain.APIKey) APIKeyDTO {
	d := APIKeyDTO{
		ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: k.Scopes, ExpiresAt: k.ExpiresAt,
		LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt, CreatedAt: k.CreatedAt,
	}
	if k.PartnerID != "" {
		d.PartnerID = &k.PartnerID
	}
	return d
}

// SourceDTO is a source.
type SourceDTO struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// IngestURL and Token are present only when created or rotated.
	IngestURL string `json:"ingest_url,omitempty"`
	Token     string `json:"token,omitempty"`
}

func sourceDTO(s domain.Source) SourceDTO {
	return SourceDTO{ID: s.ID, Name: s.Name, Kind: string(s.Kind), CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

// EventTypeDTO is a catalogue entry.
type EventTypeDTO struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Version     int             `json:"version"`
	Deprecated  bool            `json:"deprecated"`
	Schema      json.RawMessage `json:"schema"`
}

func eventTypeDTO(t domain.EventType) EventTypeDTO {
	s := t.Schema
	if len(s) == 0 {
		s = json.RawMessage(`{"type":"object"}`)
	}
	return EventTypeDTO{Name: t.Name, Description: t.Description, Version: t.Version, Deprecated: t.Deprecated, Schema: s}
}

// EndpointDTO is an endpoint; Secret only on creation.
type EndpointDTO struct {
	ID                 string            `json:"id"`
	URL                string            `json:"url"`
	Description        string            `json:"description"`
	EventTypes         []string          `json:"event_types"`
	Status             string            `json:"status"`
	StatusReason       string            `json:"status_reason"`
	RateLimitPerSecond int               `json:"rate_limit_per_second"`
	RetrySchedule      []string          `json:"retry_schedule"`
	TimeoutSeconds     int               `json:"timeout_seconds"`
	Headers            map[string]string `json:"headers"`
	Ed25519Signing     bool              `json:"ed25519_signing"`
	FailingSince       *time.Time        `json:"failing_since"`
	NextProbeAt        *time.Time        `json:"next_probe_at"`
	CreatedAt          time.Time         `json:"created_at"`
	UpdatedAt          time.Time         `json:"updated_at"`
	Secret             string            `json:"secret,omitempty"`
}

func endpointDTO(e domain.Endpoint) EndpointDTO {
	h := e.Headers
	if h == nil {
		h = map[string]string{}
	}
	return EndpointDTO{
		ID: e.ID, URL: e.URL, Description: e.Description, EventTypes: e.EventTypes, Status: string(e.Status),
		StatusReason: e.StatusReason, RateLimitPerSecond: e.RateLimitPerSecond,
		RetrySchedule: formatDurations(e.RetrySchedule), TimeoutSeconds: e.TimeoutSeconds, Headers: h,
		Ed25519Signing: e.Ed25519, FailingSince: e.FailingSince, NextProbeAt: e.NextProbeAt,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	}
}

// DeliveryDTO is one delivery; Event is set on the single-delivery view.
type DeliveryDTO struct {
	ID            string          `json:"id"`
	EventID       string          `json:"event_id"`
	EndpointID    string          `json:"endpoint_id"`
	EventType     string          `json:"event_type"`
	Status        string          `json:"status"`
	HeldReason    string          `json:"held_reason,omitempty"`
	Attempts      int             `json:"attempts"`
	NextAttemptAt *time.Time      `json:"next_attempt_at"`
	LastStatus    int             `json:"last_response_status"`
	LastError     string          `json:"last_error"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	Event         json.RawMessage `json:"event,omitempty"`
}

func deliveryDTO(d domain.Delivery) DeliveryDTO {
	return DeliveryDTO{
		ID: d.ID, EventID: d.EventID, EndpointID: d.EndpointID, EventType: d.EventType, Status: string(d.Status),
		HeldReason: d.HeldReason, Attempts: d.Attempts, NextAttemptAt: d.NextAttemptAt,
		LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
	}
}

// AttemptDTO is one HTTP try, request as sent and response as received.
type AttemptDTO struct {
	ID         string              `json:"id"`
	DeliveryID string              `json:"delivery_id"`
	Number     int                 `json:"number"`
	Trigger    string              `json:"trigger"`
	StartedAt  time.Time           `json:"started_at"`
	DurationMS float64             `json:"duration_ms"`
	Request    AttemptRequestDTO   `json:"request"`
	Response   *AttemptResponseDTO `json:"response"`
	ErrorClass string              `json:"error_class"`
	Error      string              `json:"error"`
}

// AttemptRequestDTO is the request as sent.
type AttemptRequestDTO struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// AttemptResponseDTO is the response as received (body capped at 64 KiB).
type AttemptResponseDTO struct {
	Status       int               `json:"status"`
	Headers      map[string]string `json:"headers"`
	Body         string            `json:"body"`
	BodyEncoding string            `json:"body_encoding"`
}

func attemptDTO(a domain.Attempt, body []byte) AttemptDTO {
	h := a.RequestHeaders
	if h == nil {
		h = map[string]string{}
	}
	d := AttemptDTO{
		ID: a.ID, DeliveryID: a.DeliveryID, Number: a.Number, Trigger: string(a.Trigger), StartedAt: a.StartedAt,
		DurationMS: float64(a.Duration.Microseconds()) / 1000,
		Request:    AttemptRequestDTO{Method: "POST", URL: a.RequestURL, Headers: h, Body: string(body)},
		ErrorClass: a.ErrorClass, Error: a.Error,
	}
	if a.ResponseStatus != 0 {
		rh := a.ResponseHeaders
		if rh == nil {
			rh = map[string]string{}
		}
		r := &AttemptResponseDTO{Status: a.ResponseStatus, Headers: rh, BodyEncoding: "utf-8"}
		if utf8.Valid(a.ResponseBody) {
			r.Body = string(a.ResponseBody)
		} else {
			r.Body, r.BodyEncoding = base64Std(a.ResponseBody), "base64"
		}
		d.Response = r
	}
	return d
}
