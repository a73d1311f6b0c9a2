package domain

import (
	"encoding/json"
	"time"
)

// PartnerStatus is a partner's lifecycle state.
type PartnerStatus string

// Partner statuses.
const (
	PartnerPending   PartnerStatus = "pending"
	PartnerActive    PartnerStatus = "active"
	PartnerSuspended PartnerStatus = "suspended"
)

// Valid reports whether s is a known status.
func (s PartnerStatus) Valid() bool {
	return s == PartnerPending || s == PartnerActive || s == PartnerSuspended
}

// Quota limits what a partner may use. Zero means unlimited.
type Quota struct {
	MonthlyDeliveries int64 `json:"monthly_deliveries"`
	MaxEndpoints      int   `json:"max_endpoints"`
	MaxRatePerSecond  int   `json:"max_rate_per_second"`
}

// Partner is a tenant: a company that receives events.
type Partner struct {
	ID           string
	Name         string
	Email        string
	Status       PartnerStatus
	Entitlements []string // event-type patterns it may subscribe to
	Quota        Quota
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// APIKey is a stored credential; the secret itself is never kept.
type APIKey struct {
	ID         string
	PartnerID  string // empty for admin keys
	Name       string
	Prefix     string // visible start of the key, e.g. hg_AbCd
	Scopes     []string
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	CreatedAt  time.Time
}

// SourceKind is the kind of producer.
type SourceKind string

// Source kinds.
const (
	SourceOdoo SourceKind = "odoo"
	SourceAPI  SourceKind = "api"
)

// Source is a producer of events, such as one Odoo instance.
type Source struct {
	ID        string
	Name      string
	Kind      SourceKind
	CreatedAt time.Time
	UpdatedAt time.Time
}

// EventType is a catalogue entry.
type EventType struct {
	Name        string
	Description string
	Schema      json.RawMessage
	Version     int
	Deprecated  bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// EndpointStatus is an endpoint's delivery state.
type EndpointStatus string

// Endpoint statuses.
const (
	EndpointActive   EndpointStatus = "active"
	EndpointPaused   EndpointStatus = "paused"
	EndpointDisabled EndpointStatus = "disabled"
)

// Valid reports whether s is a known status.
func (s EndpointStatus) Valid() bool {
	return s == EndpointActive || s == EndpointPaused || s == EndpointDisabled
}

// Endpoint is a partner's subscription: where and what to deliver.
type Endpoint struct {
	ID                 string
	PartnerID          string
	URL                string
	Description        string
	EventTypes         []string
	Status             EndpointStatus
	StatusReason       string
	RateLimitPerSecond int
	RetrySchedule      []time.Duration // nil: the global schedule
	TimeoutSeconds     int             // 0: the global timeout
	Headers            map[string]string
	// Ed25519 reports whether v1a signatures are added.
	Ed25519 bool
	// FailingSince is when the current run of failures began (circuit breaker).
	FailingSince *time.Time
	// NextProbeAt is when a paused (circuit-open) endpoint is probed next.
	NextProbeAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Status reasons set by the delivery engine.
const (
	ReasonCircuitOpen = "circuit_open"
	ReasonGone        = "gone"
	ReasonFailing     = "failing_too_long"
)

// EndpointSecrets are an endpoint's decrypted signing keys.
type EndpointSecrets struct {
	Current         string // whsec_…
	Previous        string // whsec_… during a rotation grace period, else ""
	PreviousExpires time.Time
	// Ed25519 is the whsk_… private key when asymmetric (v1a) signing is on.
	Ed25519 string
}

// Event is one accepted business event.
type Event struct {
	ID             string
	Type           string
	SourceID       string
	SourceKind     SourceKind
	SourceName     string
	Model          string
	RecordID       int64
	OccurredAt     time.Time
	ReceivedAt     time.Time
	IdempotencyKey string
	// Fingerprint identifies the request behind an idempotency key, so a key
	// reused for a different request is told apart (not stored on the event).
	Fingerprint string
	// PartnerID scopes an operational event to one partner ("" = all).
	PartnerID string
	// Payload is the exact envelope JSON that is signed and delivered.
	Payload []byte
	// Enriched reports that the Odoo connector confirmed and expanded the
	// payload (or the event needs no enrichment): fan-out may proceed.
	Enriched bool
}

// DeliveryStatus is the state of one event→endpoint delivery.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySucceeded DeliveryStatus = "succeeded"
	DeliveryFailed    DeliveryStatus = "failed"
	DeliveryHeld      DeliveryStatus = "held"
)

// Valid reports whether s is a known status.
func (s DeliveryStatus) Valid() bool {
	return s == DeliveryPending || s == DeliverySucceeded || s == DeliveryFailed || s == DeliveryHeld
}

// Delivery is one event to one endpoint.
type Delivery struct {
	ID            string
	EventID       string
	EndpointID    string
	PartnerID     string
	EventType     string
	Status        DeliveryStatus
	HeldReason    string
	Attempts      int
	NextAttemptAt *time.Time
	LastStatus    int
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Trigger says why an attempt was made.
type Trigger string

// Attempt triggers.
const (
	TriggerScheduled Trigger = "scheduled"
	TriggerManual    Trigger = "manual"
	TriggerRecover   Trigger = "recover"
	TriggerReplay    Trigger = "replay"
)

// Attempt is one HTTP try of a delivery.
type Attempt struct {
	ID              string
	DeliveryID      string
	EndpointID      string
	PartnerID       string
	Number          int
	Trigger         Trigger
	StartedAt       time.Time
	Duration        time.Duration
	RequestURL      string
	RequestHeaders  map[string]string
	ResponseStatus  int
	ResponseHeaders map[string]string
	ResponseBody    []byte
	ErrorClass      string
	Error           string
}

// Page is a page of a list with an opaque cursor for the next one.
type Page[T any] struct {
	Items      []T
	NextCursor string
}
