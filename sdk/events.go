package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// EventInput is an event to publish with CreateEvent.
type EventInput struct {
	// Type is a catalogue event type, such as "order.confirmed"; required.
	Type string
	// Data is the event's payload, encoded as a JSON object (a struct, a
	// map or a json.RawMessage).
	Data any
	// IdempotencyKey, when set, is sent as the Idempotency-Key header: the
	// gateway accepts one event per key and answers a repeat of the same
	// event as a duplicate (IngestResult.Duplicate), which also lets the
	// client retry the call safely; reusing a key for a different event is
	// ErrConflict.
	IdempotencyKey string
	// OccurredAt is when the change happened; zero means now.
	OccurredAt time.Time
}

// createEventBody is the wire form of EventInput.
type createEventBody struct {
	Type       string          `json:"type"`
	Data       json.RawMessage `json:"data"`
	OccurredAt *time.Time      `json:"occurred_at,omitempty"`
}

// CreateEvent publishes an event (with a source key or an admin key). The
// gateway stores it before answering and fans it out to every subscribed
// endpoint. Only calls with an IdempotencyKey are retried on failure.
func (c *Client) CreateEvent(ctx context.Context, in EventInput) (IngestResult, error) {
	data, err := json.Marshal(in.Data)
	if err != nil {
		return IngestResult{}, fmt.Errorf("sdk: create event: encode data: %w", err)
	}
	body := createEventBody{Type: in.Type, Data: data}
	if !in.OccurredAt.IsZero() {
		t := in.OccurredAt.UTC()
		body.OccurredAt = &t
	}
	req := post("/v1/events", body)
	if in.IdempotencyKey != "" {
		req.header = http.Header{"Idempotency-Key": {in.IdempotencyKey}}
		req.retry = true
	}
	var res IngestResult
	err = c.do(ctx, req, &res)
	return res, err
}

// IngestOdoo posts a body to a source's Odoo ingest URL, exactly as Odoo's
// "Send Webhook Notification" action does; token is the source's ingest
// token. eventType, when not empty, forces the event type (as the ?type=
// parameter does). It needs no API key. Odoo itself never retries, and
// neither does this call: the gateway deduplicates only what it can
// recognise.
func (c *Client) IngestOdoo(ctx context.Context, token string, body []byte, eventType string) (IngestResult, error) {
	req := post(pathf("/ingest/odoo/%s", token), body)
	req.public = true
	if eventType != "" {
		req.query = url.Values{"type": {eventType}}
	}
	var res IngestResult
	err := c.do(ctx, req, &res)
	return res, err
}
