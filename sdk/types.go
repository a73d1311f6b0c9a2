package sdk

import (
	"encoding/json"
	"fmt"
	"time"
)

// Partner statuses.
const (
	// PartnerPending is a partner waiting for an admin's approval.
	PartnerPending = "pending"
	// PartnerActive is a partner that receives events.
	PartnerActive = "active"
	// PartnerSuspended is a partner whose deliveries are held.
	PartnerSuspended = "suspended"
)

// Endpoint statuses.
const (
	// EndpointActive is an endpoint that receives deliveries.
	EndpointActive = "active"
	// EndpointPaused is an endpoint whose deliveries wait (held, not dropped).
	EndpointPaused = "paused"
	// EndpointDisabled is an endpoint turned off after failing too long, or
	// by its owner; see Endpoint.StatusReason.
	EndpointDisabled = "disabled"
)

// Delivery statuses.
const (
	// DeliveryPending is a delivery waiting for its next attempt.
	DeliveryPending = "pending"
	// DeliverySucceeded is a delivery the endpoint answered with a 2xx.
	DeliverySucceeded = "succeeded"
	// DeliveryFailed is a delivery whose attempts are exhausted.
	DeliveryFailed = "failed"
	// DeliveryHeld is a delivery kept back (over quota, endpoint paused).
	DeliveryHeld = "held"
)

// API key scopes a partner key may hold. A key issued with no scopes gets
// the partner's default set.
const (
	// ScopeEndpointsRead allows reading endpoints.
	ScopeEndpointsRead = "endpoints:read"
	// ScopeEndpointsWrite allows creating, changing and deleting endpoints.
	ScopeEndpointsWrite = "endpoints:write"
	// ScopeDeliveriesRead allows reading the delivery log.
	ScopeDeliveriesRead = "deliveries:read"
	// ScopeDeliveriesReplay allows retrying and recovering deliveries.
	ScopeDeliveriesReplay = "deliveries:replay"
	// ScopeKeysManage allows listing, issuing and revoking the partner's
	// API keys.
	ScopeKeysManage = "keys:manage"
)

// Quota limits what a partner may use; 0 means unlimited.
type Quota struct {
	// MonthlyDeliveries caps deliveries per calendar month; beyond it new
	// deliveries are held.
	MonthlyDeliveries int64 `json:"monthly_deliveries"`
	// MaxEndpoints caps the number of endpoints.
	MaxEndpoints int `json:"max_endpoints"`
	// MaxRatePerSecond caps the delivery rate to each endpoint.
	MaxRatePerSecond int `json:"max_rate_per_second"`
}

// Partner is a tenant: a company that receives events.
type Partner struct {
	// ID is the partner's id ("ptn_…").
	ID string `json:"id"`
	// Name is the company name.
	Name string `json:"name"`
	// Email is the contact address.
	Email string `json:"email"`
	// Status is PartnerPending, PartnerActive or PartnerSuspended.
	Status string `json:"status"`
	// Entitlements are the event-type patterns the partner may subscribe to.
	Entitlements []string `json:"entitlements"`
	// Quota is the partner's plan.
	Quota Quota `json:"quota"`
	// CreatedAt is when the partner was created.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is when the partner last changed.
	UpdatedAt time.Time `json:"updated_at"`
}

// APIKey is an API key. Its secret, Key, is present only in the answer that
// creates it; store it then.
type APIKey struct {
	// ID is the key's id ("key_…").
	ID string `json:"id"`
	// Name is a label chosen by its creator.
	Name string `json:"name"`
	// Prefix is the visible start of the key, to recognise it.
	Prefix string `json:"prefix"`
	// PartnerID is the partner the key belongs to; "" for admin keys.
	PartnerID string `json:"partner_id"`
	// Scopes are what the key allows.
	Scopes []string `json:"scopes"`
	// ExpiresAt is when the key stops working, if ever.
	ExpiresAt *time.Time `json:"expires_at"`
	// LastUsedAt is when the key last authenticated a request.
	LastUsedAt *time.Time `json:"last_used_at"`
	// RevokedAt is when the key was revoked, if it was.
	RevokedAt *time.Time `json:"revoked_at"`
	// CreatedAt is when the key was issued.
	CreatedAt time.Time `json:"created_at"`
	// Key is the secret ("hg_…"), only in the answer that creates it.
	Key string `json:"key,omitempty"`
}

// APIKeyInput describes a key to issue.
type APIKeyInput struct {
	// Name labels the key.
	Name string `json:"name"`
	// Scopes limits the key; empty gives the default partner scopes.
	Scopes []string `json:"scopes,omitempty"`
	// ExpiresAt, when set, makes the key stop working then.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// EventType is an entry of the event catalogue.
type EventType struct {
	// Name is the dotted type name, such as "order.confirmed".
	Name string `json:"name"`
	// Description says when the event is sent.
	Description string `json:"description"`
	// Version is the schema version of the event's data.
	Version int `json:"version"`
	// Deprecated marks a type that will be removed.
	Deprecated bool `json:"deprecated"`
	// Schema is the JSON Schema of the event's data.
	Schema json.RawMessage `json:"schema"`
}

// Endpoint is a partner's subscription: where to deliver which events.
type Endpoint struct {
	// ID is the endpoint's id ("ep_…").
	ID string `json:"id"`
	// URL receives the webhooks.
	URL string `json:"url"`
	// Description is a label.
	Description string `json:"description"`
	// EventTypes are the subscribed event-type names and patterns
	// ("order.*", "*").
	EventTypes []string `json:"event_types"`
	// Status is EndpointActive, EndpointPaused or EndpointDisabled.
	Status string `json:"status"`
	// StatusReason says why an endpoint is paused or disabled.
	StatusReason string `json:"status_reason"`
	// RateLimitPerSecond caps deliveries per second (0: the plan's limit).
	RateLimitPerSecond int `json:"rate_limit_per_second"`
	// RetrySchedule overrides the delays between attempts; nil uses the
	// gateway's schedule.
	RetrySchedule Durations `json:"retry_schedule"`
	// TimeoutSeconds overrides the request timeout (0: the default).
	TimeoutSeconds int `json:"timeout_seconds"`
	// Headers are sent with every delivery.
	Headers map[string]string `json:"headers"`
	// Ed25519Signing reports whether deliveries also carry a "v1a"
	// (Ed25519) signature, verifiable with the endpoint's public key (see
	// GetEndpointSecret and WithPublicKeys).
	Ed25519Signing bool `json:"ed25519_signing"`
	// FailingSince is when the endpoint started failing continuously; nil
	// while it is healthy.
	FailingSince *time.Time `json:"failing_since"`
	// NextProbeAt is when the circuit breaker next tries a failing endpoint.
	NextProbeAt *time.Time `json:"next_probe_at"`
	// CreatedAt is when the endpoint was created.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is when it last changed.
	UpdatedAt time.Time `json:"updated_at"`
	// Secret is the "whsec_" signing secret, present only in the answer
	// that creates the endpoint. Use GetEndpointSecret later.
	Secret string `json:"secret,omitempty"`
}

// EndpointInput describes an endpoint to create.
type EndpointInput struct {
	// URL receives the webhooks; required.
	URL string `json:"url"`
	// Description is a label.
	Description string `json:"description,omitempty"`
	// EventTypes are the event-type names and patterns to subscribe to;
	// required.
	EventTypes []string `json:"event_types"`
	// RateLimitPerSecond caps deliveries per second (0: the plan's limit).
	RateLimitPerSecond int `json:"rate_limit_per_second,omitempty"`
	// RetrySchedule overrides the delays between attempts.
	RetrySchedule Durations `json:"retry_schedule,omitempty"`
	// TimeoutSeconds overrides the request timeout.
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
	// Headers are sent with every delivery.
	Headers map[string]string `json:"headers,omitempty"`
}

// EndpointUpdate changes an endpoint; nil fields stay as they are. Build
// the pointers with Ptr.
type EndpointUpdate struct {
	// URL is the new address.
	URL *string `json:"url,omitempty"`
	// Description is the new label.
	Description *string `json:"description,omitempty"`
	// EventTypes replaces the subscription.
	EventTypes *[]string `json:"event_types,omitempty"`
	// Status pauses (EndpointPaused) or resumes (EndpointActive) the
	// endpoint; resuming releases its held deliveries.
	Status *string `json:"status,omitempty"`
	// RateLimitPerSecond replaces the rate limit.
	RateLimitPerSecond *int `json:"rate_limit_per_second,omitempty"`
	// RetrySchedule replaces the retry schedule.
	RetrySchedule *Durations `json:"retry_schedule,omitempty"`
	// TimeoutSeconds replaces the timeout.
	TimeoutSeconds *int `json:"timeout_seconds,omitempty"`
	// Headers replaces the custom headers.
	Headers *map[string]string `json:"headers,omitempty"`
	// Ed25519Signing turns "v1a" (Ed25519) signatures on or off.
	Ed25519Signing *bool `json:"ed25519_signing,omitempty"`
}

// EndpointSecret is an endpoint's signing material.
type EndpointSecret struct {
	// Secret is the current "whsec_" signing secret.
	Secret string `json:"secret"`
	// PreviousSecretExpiresAt is set during a rotation's grace period, while
	// the previous secret still signs too.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at"`
	// PublicKey is the "whpk_" Ed25519 public key when Ed25519 signing is
	// on, else "".
	PublicKey string `json:"public_key"`
}

// Delivery is one event sent to one endpoint, with its attempts counted.
type Delivery struct {
	// ID is the delivery's id ("dlv_…").
	ID string `json:"id"`
	// EventID is the delivered event ("msg_…"), the webhook-id header.
	EventID string `json:"event_id"`
	// EndpointID is where it goes.
	EndpointID string `json:"endpoint_id"`
	// EventType is the event's type.
	EventType string `json:"event_type"`
	// Status is DeliveryPending, DeliverySucceeded, DeliveryFailed or
	// DeliveryHeld.
	Status string `json:"status"`
	// HeldReason says why a held delivery waits.
	HeldReason string `json:"held_reason,omitempty"`
	// Attempts counts the HTTP tries so far.
	Attempts int `json:"attempts"`
	// NextAttemptAt is when the next try is due, if one is.
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	// LastResponseStatus is the last try's HTTP status (0: no answer).
	LastResponseStatus int `json:"last_response_status"`
	// LastError describes the last failure.
	LastError string `json:"last_error"`
	// CreatedAt is when the delivery was created.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is when it last changed.
	UpdatedAt time.Time `json:"updated_at"`
	// Event is the envelope as delivered; set by GetDelivery only.
	Event *Event `json:"event,omitempty"`
}

// DeliveryListParams filters and pages the delivery log. Zero fields do not
// filter.
type DeliveryListParams struct {
	// EndpointID keeps the deliveries to one endpoint.
	EndpointID string
	// EventID keeps the deliveries of one event.
	EventID string
	// EventType keeps one event type.
	EventType string
	// Status keeps one status (DeliveryFailed, …).
	Status string
	// Since keeps deliveries created at or after this time.
	Since time.Time
	// Until keeps deliveries created before this time.
	Until time.Time
	// Limit is the page size (1–200).
	Limit int
	// Cursor continues from a previous page.
	Cursor string
}

// Attempt is one HTTP try of a delivery: the request as sent and the
// response as received.
type Attempt struct {
	// ID is the attempt's id ("att_…").
	ID string `json:"id"`
	// DeliveryID is the delivery tried.
	DeliveryID string `json:"delivery_id"`
	// Number counts the delivery's attempts from 1.
	Number int `json:"number"`
	// Trigger is why it was made: "scheduled", "manual", "recover" or
	// "replay".
	Trigger string `json:"trigger"`
	// StartedAt is when the request was sent.
	StartedAt time.Time `json:"started_at"`
	// DurationMS is how long it took, in milliseconds.
	DurationMS float64 `json:"duration_ms"`
	// Request is the request as sent.
	Request AttemptRequest `json:"request"`
	// Response is the answer; nil when none came (timeout, refused…).
	Response *AttemptResponse `json:"response"`
	// ErrorClass classifies a failure ("timeout", "connection", "status"…).
	ErrorClass string `json:"error_class"`
	// Error describes a failure.
	Error string `json:"error"`
}

// Duration returns DurationMS as a time.Duration.
func (a Attempt) Duration() time.Duration {
	return time.Duration(a.DurationMS * float64(time.Millisecond))
}

// AttemptRequest is a request as sent to the endpoint.
type AttemptRequest struct {
	// Method is the HTTP method (POST).
	Method string `json:"method"`
	// URL is the address called.
	URL string `json:"url"`
	// Headers are the headers sent, signatures included.
	Headers map[string]string `json:"headers"`
	// Body is the body sent.
	Body string `json:"body"`
}

// AttemptResponse is an endpoint's answer, body capped at 64 KiB.
type AttemptResponse struct {
	// Status is the HTTP status.
	Status int `json:"status"`
	// Headers are the response headers.
	Headers map[string]string `json:"headers"`
	// Body is the response body, as text or base64 (see BodyEncoding).
	Body string `json:"body"`
	// BodyEncoding is "utf-8" or "base64".
	BodyEncoding string `json:"body_encoding"`
}

// Source is a producer of events, such as one Odoo instance.
type Source struct {
	// ID is the source's id ("src_…").
	ID string `json:"id"`
	// Name names the source in event envelopes.
	Name string `json:"name"`
	// Kind is "odoo" or "api".
	Kind string `json:"kind"`
	// CreatedAt is when the source was created.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is when it last changed.
	UpdatedAt time.Time `json:"updated_at"`
	// IngestURL is where the source posts; only in the answer that creates
	// the source or rotates its token.
	IngestURL string `json:"ingest_url,omitempty"`
	// Token is the ingest token; only in the answer that creates the source
	// or rotates its token.
	Token string `json:"token,omitempty"`

	// The members below are set on odoo sources by AdminGetSource,
	// AdminUpdateSource and AdminBackfillSource.

	// Odoo is the Odoo API connection (never its key); nil when no
	// credentials are saved.
	Odoo *OdooConnection `json:"odoo,omitempty"`
	// Rules are the mapping rules in force.
	Rules []MappingRule `json:"rules,omitempty"`
	// RulesDefault reports that Rules are the built-in defaults.
	RulesDefault *bool `json:"rules_default,omitempty"`
	// Reconcile is the reconciliation progress.
	Reconcile *Reconcile `json:"reconcile,omitempty"`
}

// OdooConnection is how hookgate reaches an Odoo instance's API, without
// the API key.
type OdooConnection struct {
	// URL is the Odoo base URL.
	URL string `json:"url"`
	// Database is the Odoo database.
	Database string `json:"database"`
	// Login is the Odoo user hookgate logs in as.
	Login string `json:"login"`
	// Version is the Odoo major version ("17", "18", "19").
	Version string `json:"version"`
	// HasAPIKey reports that an API key is saved.
	HasAPIKey bool `json:"has_api_key"`
	// UserID is hookgate's own Odoo user id, once known.
	UserID *int64 `json:"user_id"`
	// CredentialsSavedAt is when the credentials were saved.
	CredentialsSavedAt *time.Time `json:"credentials_saved_at"`
}

// MappingRule maps an Odoo model change to an event type.
type MappingRule struct {
	// Model is the Odoo model, such as "sale.order".
	Model string `json:"model"`
	// When are the conditions that must all hold.
	When []RuleCondition `json:"when"`
	// EventType is the event type emitted.
	EventType string `json:"event_type"`
	// On is the trigger the rule reacts to, such as "write" or "create".
	On string `json:"on"`
}

// RuleCondition is one condition of a mapping rule.
type RuleCondition struct {
	// Field is the record field tested.
	Field string `json:"field"`
	// Op is the comparison, such as "eq" or "changed".
	Op string `json:"op"`
	// Value is the value compared with, if the operator takes one.
	Value any `json:"value,omitempty"`
}

// Reconcile is an Odoo source's reconciliation progress.
type Reconcile struct {
	// IntervalSeconds is how often it runs.
	IntervalSeconds int `json:"interval_seconds"`
	// Watermark is the write_date reconciled up to.
	Watermark *time.Time `json:"watermark"`
	// LagSeconds is how far the watermark trails now.
	LagSeconds *float64 `json:"lag_seconds"`
	// LastRunAt is when it last ran.
	LastRunAt *time.Time `json:"last_run_at"`
	// LastSuccessAt is when it last succeeded.
	LastSuccessAt *time.Time `json:"last_success_at"`
	// LastError says why the last run failed.
	LastError string `json:"last_error"`
	// LastScanned counts the records the last run examined.
	LastScanned int64 `json:"last_scanned"`
	// LastEmitted counts the missed events the last run emitted.
	LastEmitted int64 `json:"last_emitted"`
	// ReconciledTotal counts all events reconciliation has emitted.
	ReconciledTotal int64 `json:"reconciled_total"`
}

// SourceInput describes a source to create.
type SourceInput struct {
	// Name names the source.
	Name string `json:"name"`
	// Kind is "odoo" or "api".
	Kind string `json:"kind"`
}

// IngestResult answers an accepted event.
type IngestResult struct {
	// ID is the event's id ("msg_…"); empty when ignored.
	ID string `json:"id,omitempty"`
	// Type is the event's type.
	Type string `json:"type,omitempty"`
	// Status is "accepted", "duplicate" or "ignored".
	Status string `json:"status"`
	// Duplicate reports an idempotency key seen before: nothing new was
	// created and ID is the original event.
	Duplicate bool `json:"duplicate"`
	// Reason says why an event was ignored.
	Reason string `json:"reason,omitempty"`
}

// Durations is a list of delays, sent and received as Go duration strings
// such as ["5s","5m"] (numbers of seconds are accepted when decoding).
type Durations []time.Duration

// MarshalJSON encodes the delays as duration strings.
func (d Durations) MarshalJSON() ([]byte, error) {
	if d == nil {
		return []byte("null"), nil
	}
	out := make([]string, len(d))
	for i, v := range d {
		out[i] = v.String()
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes duration strings or numbers of seconds.
func (d *Durations) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("sdk: durations: %w", err)
	}
	if raw == nil {
		*d = nil
		return nil
	}
	out := make(Durations, 0, len(raw))
	for _, r := range raw {
		var s string
		if json.Unmarshal(r, &s) == nil {
			v, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("sdk: durations: %w", err)
			}
			out = append(out, v)
			continue
		}
		var secs float64
		if err := json.Unmarshal(r, &secs); err != nil {
			return fmt.Errorf("sdk: durations: %s is neither a duration string nor seconds", r)
		}
		out = append(out, time.Duration(secs*float64(time.Second)))
	}
	*d = out
	return nil
}
