package e2e

import (
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/apptest"
)

// TestAdminEventCatalogue: admins add and edit event types; a new schema
// raises the version envelopes carry; bad schemas and reserved names are
// refused; partners see new types within their entitlements and may always
// subscribe to operational events.
func TestAdminEventCatalogue(t *testing.T) {
	g := apptest.Start(t, apptest.Options{SQLite: true})
	admin := apptest.AdminToken
	created := g.Must(201, "POST", "/v1/admin/event-types", admin, map[string]any{
		"name": "loyalty.points_earned", "description": "Points earned",
		"schema": map[string]any{"type": "object", "required": []string{"points"}},
	}).Map(t)
	if created["version"] != float64(1) {
		t.Fatalf("created: %v", created)
	}
	g.Must(409, "POST", "/v1/admin/event-types", admin, map[string]any{"name": "loyalty.points_earned"})
	g.Must(422, "POST", "/v1/admin/event-types", admin, map[string]any{"name": "Bad Name"})
	g.Must(422, "POST", "/v1/admin/event-types", admin, map[string]any{"name": "endpoint.failing"})
	g.Must(422, "POST", "/v1/admin/event-types", admin, map[string]any{"name": "x.y", "schema": map[string]any{"type": 12}})
	g.Must(404, "PATCH", "/v1/admin/event-types/no.such", admin, map[string]any{"deprecated": true})
	up := g.Must(200, "PATCH", "/v1/admin/event-types/loyalty.points_earned", admin, map[string]any{
		"schema": map[string]any{"type": "object", "required": []string{"points", "customer_id"}},
	}).Map(t)
	if up["version"] != float64(2) {
		t.Errorf("schema change did not raise the version: %v", up)
	}
	all := g.Must(200, "GET", "/v1/admin/event-types", admin, nil).Map(t)["data"].([]any)
	if len(all) < 17 {
		t.Errorf("admin catalogue has %d types", len(all))
	}

	rc := newReceiver(t, nil)
	ops := newReceiver(t, nil)
	p := g.NewPartner("Loyalty Co")
	g.Must(200, "PATCH", "/v1/admin/partners/"+p.ID, admin, map[string]any{"entitlements": []string{"loyalty.*"}})
	g.NewEndpoint(p, rc.URL, []string{"loyalty.*"}, nil)
	g.NewEndpoint(p, ops.URL, []string{"endpoint.*", "delivery.exhausted"}, nil)
	g.Must(422, "POST", "/v1/endpoints", p.Key, map[string]any{"url": rc.URL, "event_types": []string{"order.*"}})
	types := g.Must(200, "GET", "/v1/event-types", p.Key, nil).Map(t)["data"].([]any)
	names := map[string]bool{}
	for _, x := range types {
		names[x.(map[string]any)["name"].(string)] = true
	}
	if !names["loyalty.points_earned"] || names["order.confirmed"] || !names["endpoint.failing"] {
		t.Errorf("partner catalogue: %v", names)
	}
	g.Must(202, "POST", "/v1/events", admin, map[string]any{"type": "loyalty.points_earned", "data": map[string]any{"points": 5, "customer_id": 58}})
	apptest.Eventually(t, 10*time.Second, "the new type's event", func() bool { return rc.count() == 1 })
	var env envelope
	rc.requests()[0].JSON(t, &env)
	if env.Version != 2 || env.Type != "loyalty.points_earned" {
		t.Errorf("envelope %+v", env)
	}
}
