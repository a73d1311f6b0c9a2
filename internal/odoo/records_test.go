package odoo

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestFromAPIMatchesWebhook checks that a record read through the API
// normalises to what the same record's webhook body gives.
func TestFromAPIMatchesWebhook(t *testing.T) {
	hook, err := ParseWebhook([]byte(`{"_action": "a(#1)", "_id": 1287, "_model": "sale.order", "id": 1287, "partner_id": 58, "origin": false, "locked": false, "order_line": [3415, 3416], "date_order": "2025-03-14 09:41:07", "amount_total": 143.75, "state": "sale"}`))
	if err != nil {
		t.Fatal(err)
	}
	api := map[string]any{
		"id": json.Number("1287"), "partner_id": []any{json.Number("58"), "Zoë Müller"}, "origin": false, "locked": false,
		"order_line": []any{json.Number("3415"), json.Number("3416")}, "date_order": "2025-03-14 09:41:07",
		"amount_total": json.Number("143.75"), "state": "sale",
	}
	fields := map[string]Field{"partner_id": {Type: "many2one", Relation: "res.partner"}, "locked": {Type: "boolean"}, "origin": {Type: "char"}}
	if diff := cmp.Diff(hook.Fields, FromAPI("sale.order", api, fields)); diff != "" {
		t.Errorf("API record vs webhook fields (-webhook +api):\n%s", diff)
	}
	// Without field types a [id, name] pair is still a many2one.
	if got := FromAPI("sale.order", api, nil)["partner_id"]; got != json.Number("58") {
		t.Errorf("partner_id without fields_get: %#v", got)
	}
}

// TestChangeKey checks that a webhook's write_date (microseconds) and an
// API read's (seconds) give the same key.
func TestChangeKey(t *testing.T) {
	hook, _ := ParseTime("2025-03-14T09:41:06.912345Z")
	api, _ := ParseTime("2025-03-14 09:41:06")
	a := ChangeKey("sale.order", 1287, hook, "order.confirmed")
	b := ChangeKey("sale.order", 1287, api, "order.confirmed")
	if a != b || a != "odoo:sale.order:1287:20250314T094106Z:order.confirmed" {
		t.Errorf("keys %q and %q", a, b)
	}
	if ChangeKey("sale.order", 1287, api.Add(time.Second), "order.confirmed") == a {
		t.Error("a later write has the same key")
	}
	rec := Record{Model: "res.partner", ID: 58, Fields: map[string]any{"create_date": "2025-03-14T09:38:21.551002Z", "write_date": "2025-03-15T10:00:00Z"}}
	at, ok := ChangeTime(Rule{Model: "res.partner", EventType: "customer.created", On: TriggerCreate}, rec)
	if !ok || !at.Equal(time.Date(2025, 3, 14, 9, 38, 21, 551002000, time.UTC)) {
		t.Errorf("create rules are keyed by create_date: %v %v", at, ok)
	}
}

// TestRuleTrigger checks the "on" member of a rule.
func TestRuleTrigger(t *testing.T) {
	if (Rule{}).Trigger() != TriggerEnter {
		t.Error("default trigger")
	}
	bad := Rule{Model: "sale.order", EventType: "order.confirmed", On: "delete"}
	if err := bad.Validate(); !errors.Is(err, ErrInvalidRule) {
		t.Errorf("on=delete: %v", err)
	}
	if err := ValidateRules(DefaultRules()); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
