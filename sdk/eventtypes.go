package sdk

import (
	"context"
	"encoding/json"
)

// EventTypeInput describes a catalogue entry an admin adds.
type EventTypeInput struct {
	// Name is the dotted type name, such as "order.shipped"; required.
	Name string `json:"name"`
	// Description says when the event is sent.
	Description string `json:"description,omitempty"`
	// Schema is the JSON Schema of the event's data; empty allows any
	// object.
	Schema json.RawMessage `json:"schema,omitempty"`
	// Deprecated marks the type as on its way out.
	Deprecated bool `json:"deprecated,omitempty"`
}

// EventTypeUpdate changes a catalogue entry; nil members stay as they are.
// A new Schema raises the type's version.
type EventTypeUpdate struct {
	// Description replaces the description.
	Description *string `json:"description,omitempty"`
	// Schema replaces the JSON Schema of the data.
	Schema json.RawMessage `json:"schema,omitempty"`
	// Deprecated marks or unmarks the type as deprecated.
	Deprecated *bool `json:"deprecated,omitempty"`
}

// AdminListEventTypes returns the whole event catalogue (admin).
func (c *Client) AdminListEventTypes(ctx context.Context) ([]EventType, error) {
	var l list[EventType]
	err := c.do(ctx, get("/v1/admin/event-types", nil), &l)
	return l.Data, err
}

// AdminCreateEventType adds a type to the catalogue (admin); partners
// entitled to it can subscribe at once.
func (c *Client) AdminCreateEventType(ctx context.Context, in EventTypeInput) (EventType, error) {
	var t EventType
	err := c.do(ctx, post("/v1/admin/event-types", in), &t)
	return t, err
}

// AdminUpdateEventType changes a catalogue entry's description, schema or
// deprecation (admin). Names never change: create a new type instead.
func (c *Client) AdminUpdateEventType(ctx context.Context, name string, upd EventTypeUpdate) (EventType, error) {
	var t EventType
	err := c.do(ctx, patch(pathf("/v1/admin/event-types/%s", name), upd), &t)
	return t, err
}
