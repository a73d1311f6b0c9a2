package sdk_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/hookgate/hookgate/sdk"
)

func TestAdminEventTypes(t *testing.T) {
	e := start(t)
	ctx := testContext(t)
	_, pc := e.partner(t, ctx, "catalogue")

	schema := json.RawMessage(`{"type":"object","required":["id"],"properties":{"id":{"type":"integer"}}}`)
	et, err := e.admin.AdminCreateEventType(ctx, sdk.EventTypeInput{Name: "order.shipped", Description: "An order left the warehouse.", Schema: schema})
	if err != nil {
		t.Fatalf("AdminCreateEventType: %v", err)
	}
	if et.Name != "order.shipped" || et.Version != 1 || et.Deprecated || et.Description != "An order left the warehouse." {
		t.Errorf("AdminCreateEventType answered %+v", et)
	}
	if _, err := e.admin.AdminCreateEventType(ctx, sdk.EventTypeInput{Name: "order.shipped"}); !errors.Is(err, sdk.ErrConflict) {
		t.Errorf("creating it twice: %v, want ErrConflict", err)
	}
	if _, err := e.admin.AdminCreateEventType(ctx, sdk.EventTypeInput{Name: "Not A Name"}); !errors.Is(err, sdk.ErrValidation) {
		t.Errorf("a malformed name: %v, want ErrValidation", err)
	}
	if _, err := pc.AdminCreateEventType(ctx, sdk.EventTypeInput{Name: "order.partner"}); !errors.Is(err, sdk.ErrForbidden) {
		t.Errorf("a partner adding a type: %v, want ErrForbidden", err)
	}

	all, err := e.admin.AdminListEventTypes(ctx)
	if err != nil {
		t.Fatalf("AdminListEventTypes: %v", err)
	}
	if !slices.ContainsFunc(all, func(x sdk.EventType) bool { return x.Name == "order.shipped" }) || len(all) < 13 {
		t.Errorf("AdminListEventTypes: %d types, want the seed and order.shipped", len(all))
	}
	// The new type can be published and is offered to entitled partners.
	if _, err := e.admin.CreateEvent(ctx, sdk.EventInput{Type: "order.shipped", Data: map[string]any{"id": 1}}); err != nil {
		t.Errorf("CreateEvent of the new type: %v", err)
	}
	mine, err := pc.ListEventTypes(ctx)
	if err != nil || !slices.ContainsFunc(mine, func(x sdk.EventType) bool { return x.Name == "order.shipped" }) {
		t.Errorf("the partner's catalogue lacks order.shipped: %v", err)
	}

	v2 := json.RawMessage(`{"type":"object","required":["id","carrier"]}`)
	upd, err := e.admin.AdminUpdateEventType(ctx, "order.shipped", sdk.EventTypeUpdate{
		Description: sdk.Ptr("Shipped, with the carrier."), Schema: v2, Deprecated: sdk.Ptr(true),
	})
	if err != nil {
		t.Fatalf("AdminUpdateEventType: %v", err)
	}
	if upd.Version != 2 || !upd.Deprecated || upd.Description != "Shipped, with the carrier." {
		t.Errorf("AdminUpdateEventType answered %+v, want version 2, deprecated", upd)
	}
	if _, err := e.admin.AdminUpdateEventType(ctx, "no.such.type", sdk.EventTypeUpdate{Deprecated: sdk.Ptr(true)}); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("updating an unknown type: %v, want ErrNotFound", err)
	}
}
