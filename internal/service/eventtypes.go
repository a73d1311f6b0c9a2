package service

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookgate/hookgate/internal/catalog"
	"github.com/hookgate/hookgate/internal/domain"
)

// EventTypeInput creates a catalogue entry.
type EventTypeInput struct {
	Name        string
	Description string
	Schema      json.RawMessage // JSON Schema of data; empty: any object
	Deprecated  bool
}

// EventTypePatch changes a catalogue entry; nil fields are left alone.
// Changing the schema raises the version that envelopes carry.
type EventTypePatch struct {
	Description *string
	Schema      *json.RawMessage
	Deprecated  *bool
}

func validSchema(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, domain.Invalid("schema", "must be a JSON Schema object")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, domain.Invalid("schema", "is not valid JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		return nil, domain.Invalid("schema", "%v", err)
	}
	if _, err := c.Compile("schema.json"); err != nil {
		return nil, domain.Invalid("schema", "is not a valid JSON Schema: %v", err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, domain.Invalid("schema", "is not valid JSON")
	}
	return buf.Bytes(), nil
}

// CreateEventType adds a type to the catalogue (admin).
func (s *Service) CreateEventType(ctx context.Context, p domain.Principal, in EventTypeInput) (domain.EventType, error) {
	if err := requireAdmin(p); err != nil {
		return domain.EventType{}, err
	}
	name := strings.TrimSpace(in.Name)
	if !domain.ValidEventTypeName(name) {
		return domain.EventType{}, domain.Invalid("name", "must be lowercase dot-separated words such as order.shipped")
	}
	if catalog.Operational(name) {
		return domain.EventType{}, domain.Invalid("name", "%q is reserved for operational events", name)
	}
	if len(in.Description) > 1000 {
		return domain.EventType{}, domain.Invalid("description", "must be at most 1000 characters")
	}
	schema, err := validSchema(in.Schema)
	if err != nil {
		return domain.EventType{}, err
	}
	now := s.now()
	t := domain.EventType{Name: name, Description: strings.TrimSpace(in.Description), Schema: schema, Version: 1,
		Deprecated: in.Deprecated, CreatedAt: now, UpdatedAt: now}
	if err := s.d.Store.CreateEventType(ctx, t); err != nil {
		return domain.EventType{}, err
	}
	s.InvalidateTypes()
	s.audit(ctx, p, "event_type.created", name, "", nil)
	return t, nil
}

// UpdateEventType edits a catalogue entry (admin). A new schema raises the
// version; deprecating keeps the type deliverable but flags it.
func (s *Service) UpdateEventType(ctx context.Context, p domain.Principal, name string, in EventTypePatch) (domain.EventType, error) {
	if err := requireAdmin(p); err != nil {
		return domain.EventType{}, err
	}
	t, err := s.d.Store.EventType(ctx, name)
	if err != nil {
		return domain.EventType{}, err
	}
	if in.Description != nil {
		if len(*in.Description) > 1000 {
			return domain.EventType{}, domain.Invalid("description", "must be at most 1000 characters")
		}
		t.Description = strings.TrimSpace(*in.Description)
	}
	if in.Schema != nil {
		schema, err := validSchema(*in.Schema)
		if err != nil {
			return domain.EventType{}, err
		}
		if !bytes.Equal(schema, t.Schema) {
			t.Schema = schema
			t.Version++
		}
	}
	if in.Deprecated != nil {
		t.Deprecated = *in.Deprecated
	}
	t.UpdatedAt = s.now()
	if err := s.d.Store.UpdateEventType(ctx, t); err != nil {
		return domain.EventType{}, err
	}
	s.InvalidateTypes()
	s.audit(ctx, p, "event_type.updated", name, "", map[string]any{"version": t.Version, "deprecated": t.Deprecated})
	return t, nil
}
