package ingest

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/internal/domain"
)

// Envelope is the body partners receive (DESIGN §5). Its encoding with
// encoding/json is the exact byte sequence that is signed and delivered.
type Envelope struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Version    int             `json:"version"`
	OccurredAt string          `json:"occurred_at"`
	Source     EnvelopeSource  `json:"source"`
	Data       json.RawMessage `json:"data"`
}

// EnvelopeSource is the envelope's "source" member.
type EnvelopeSource struct {
	Kind     domain.SourceKind `json:"kind"`
	Name     string            `json:"name"`
	Model    string            `json:"model,omitempty"`
	RecordID int64             `json:"record_id,omitempty"`
}

// EncodeEnvelope builds the payload of ev: version is the event type's
// catalogue version, data the compact JSON object of the event's data.
func EncodeEnvelope(ev domain.Event, version int, data []byte) ([]byte, error) {
	b, err := json.Marshal(Envelope{
		ID: ev.ID, Type: ev.Type, Version: version, OccurredAt: ev.OccurredAt.Format(time.RFC3339Nano),
		Source: EnvelopeSource{Kind: ev.SourceKind, Name: ev.SourceName, Model: ev.Model, RecordID: ev.RecordID},
		Data:   data,
	})
	if err != nil {
		return nil, fmt.Errorf("ingest: envelope %s: %w", ev.ID, err)
	}
	return b, nil
}

// DecodeEnvelope parses a stored payload.
func DecodeEnvelope(payload []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(payload, &e); err != nil {
		return Envelope{}, fmt.Errorf("ingest: payload is not an envelope: %w", err)
	}
	return e, nil
}

// ReplaceData returns payload with its data replaced by data (a compact
// JSON object); every other member keeps its exact bytes.
func ReplaceData(payload, data []byte) ([]byte, error) {
	e, err := DecodeEnvelope(payload)
	if err != nil {
		return nil, err
	}
	e.Data = data
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("ingest: envelope %s: %w", e.ID, err)
	}
	return b, nil
}
