package odoo

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMatchDefaultRules covers the default table beyond the fixtures.
func TestMatchDefaultRules(t *testing.T) {
	tests := []struct {
		name   string
		model  string
		fields string // JSON object, normalised like a body
		want   string // "" for no match
	}{
		{"order confirmed", "sale.order", `{"state":"sale"}`, "order.confirmed"},
		{"order cancelled", "sale.order", `{"state":"cancel"}`, "order.cancelled"},
		{"draft order", "sale.order", `{"state":"draft"}`, ""},
		{"order without state", "sale.order", `{"name":"S01287"}`, ""},
		{"state of another model", "purchase.order", `{"state":"sale"}`, ""},
		{"delivery done", "stock.picking", `{"state":"done","picking_type_code":"outgoing","return_id":false}`, "shipment.dispatched"},
		{"delivery ready", "stock.picking", `{"state":"assigned","picking_type_code":"outgoing"}`, ""},
		{"return received", "stock.picking", `{"state":"done","picking_type_code":"incoming","return_id":57}`, "return.received"},
		{"receipt, not a return", "stock.picking", `{"state":"done","picking_type_code":"incoming","return_id":false}`, ""},
		{"receipt, return_id not selected", "stock.picking", `{"state":"done","picking_type_code":"incoming"}`, ""},
		{"internal transfer", "stock.picking", `{"state":"done","picking_type_code":"internal"}`, ""},
		{"quant, no condition", "stock.quant", `{}`, "inventory.adjusted"},
		{"product template", "product.template", `{"list_price":34.9}`, "product.updated"},
		{"product variant", "product.product", `{"lst_price":34.9}`, "product.updated"},
		{"partner", "res.partner", `{"customer_rank":0}`, "customer.created"},
		{"invoice in payment", "account.move", `{"move_type":"out_invoice","state":"posted","payment_state":"in_payment"}`, "invoice.paid"},
		{"invoice paid", "account.move", `{"move_type":"out_invoice","state":"posted","payment_state":"paid"}`, "invoice.paid"},
		{"invoice partial", "account.move", `{"move_type":"out_invoice","state":"posted","payment_state":"partial"}`, "invoice.posted"},
		{"invoice paid, state not selected", "account.move", `{"move_type":"out_invoice","payment_state":"paid"}`, "invoice.paid"},
		{"draft invoice", "account.move", `{"move_type":"out_invoice","state":"draft","payment_state":"not_paid"}`, ""},
		{"credit note", "account.move", `{"move_type":"out_refund","state":"posted","payment_state":"paid"}`, "refund.issued"},
		{"vendor bill", "account.move", `{"move_type":"in_invoice","state":"posted","payment_state":"paid"}`, ""},
		{"payment 18 in process", "account.payment", `{"payment_type":"inbound","partner_type":"customer","state":"in_process"}`, "payment.received"},
		{"payment 18 paid", "account.payment", `{"payment_type":"inbound","partner_type":"customer","state":"paid"}`, "payment.received"},
		{"payment 17 posted", "account.payment", `{"payment_type":"inbound","partner_type":"customer","state":"posted"}`, "payment.received"},
		{"payment draft", "account.payment", `{"payment_type":"inbound","partner_type":"customer","state":"draft"}`, ""},
		{"vendor payment", "account.payment", `{"payment_type":"outbound","partner_type":"supplier","state":"paid"}`, ""},
		{"customer refund payment", "account.payment", `{"payment_type":"outbound","partner_type":"customer","state":"paid"}`, ""},
		{"pos paid", "pos.order", `{"state":"paid"}`, "pos.order.paid"},
		{"pos invoiced (17)", "pos.order", `{"state":"invoiced"}`, "pos.order.paid"},
		{"pos done", "pos.order", `{"state":"done"}`, "pos.order.paid"},
		{"pos draft", "pos.order", `{"state":"draft"}`, ""},
		{"unknown model", "hr.employee", `{"active":true}`, ""},
	}
	rules := DefaultRules()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields := Normalize(tt.model, decode(t, tt.fields).(map[string]any))
			got, ok := Match(rules, Record{Model: tt.model, ID: 1, Fields: fields})
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("Match = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

// TestConditionHolds covers the operators and value comparisons.
func TestConditionHolds(t *testing.T) {
	fields := map[string]any{
		"state":      "sale",
		"partner_id": json.Number("58"),
		"amount":     json.Number("125.0"),
		"big":        json.Number("9007199254740993"),
		"ref":        "100045",
		"locked":     false,
		"active":     true,
		"origin":     nil,
		"order_line": []any{json.Number("3415"), json.Number("3416")},
		"tag_ids":    []any{},
		"name":       "Zoë",
	}
	tests := []struct {
		name string
		cond Condition
		want bool
	}{
		{"eq string", Condition{"state", OpEq, "sale"}, true},
		{"eq string differs", Condition{"state", OpEq, "Sale"}, false},
		{"eq non-ASCII", Condition{"name", OpEq, "Zoë"}, true},
		{"eq absent", Condition{"missing", OpEq, "sale"}, false},
		{"eq number as int", Condition{"partner_id", OpEq, 58}, true},
		{"eq number as int64", Condition{"partner_id", OpEq, int64(58)}, true},
		{"eq number as uint8", Condition{"partner_id", OpEq, uint8(58)}, true},
		{"eq number as float64", Condition{"partner_id", OpEq, 58.0}, true},
		{"eq number as json.Number", Condition{"partner_id", OpEq, json.Number("58.00")}, true},
		{"eq number as string", Condition{"partner_id", OpEq, "58"}, true},
		{"eq number other value", Condition{"partner_id", OpEq, 59}, false},
		{"eq number vs text", Condition{"partner_id", OpEq, "fifty-eight"}, false},
		{"eq fraction vs int", Condition{"amount", OpEq, 125}, true},
		{"eq big int exact", Condition{"big", OpEq, int64(9007199254740993)}, true},
		{"eq big int off by one", Condition{"big", OpEq, int64(9007199254740992)}, false},
		{"eq numeric string vs number", Condition{"ref", OpEq, 100045}, true},
		{"eq string vs bool", Condition{"state", OpEq, true}, false},
		{"eq false on boolean", Condition{"locked", OpEq, false}, true},
		{"eq true on boolean", Condition{"locked", OpEq, true}, false},
		{"eq true", Condition{"active", OpEq, true}, true},
		{"eq false matches null", Condition{"origin", OpEq, false}, true},
		{"eq nil matches null", Condition{"origin", OpEq, nil}, true},
		{"eq nil matches false", Condition{"locked", OpEq, nil}, true},
		{"eq nil vs value", Condition{"state", OpEq, nil}, false},
		{"eq 0 vs null", Condition{"origin", OpEq, 0}, false},
		{"eq list", Condition{"order_line", OpEq, []any{3415, 3416}}, true},
		{"eq typed list", Condition{"order_line", OpEq, []int{3415, 3416}}, true},
		{"eq list order matters", Condition{"order_line", OpEq, []any{3416, 3415}}, false},
		{"eq list vs scalar", Condition{"order_line", OpEq, 3415}, false},
		{"ne string", Condition{"state", OpNe, "cancel"}, true},
		{"ne same", Condition{"state", OpNe, "sale"}, false},
		{"ne absent", Condition{"missing", OpNe, "sale"}, false},
		{"ne false vs null", Condition{"origin", OpNe, false}, false},
		{"in strings", Condition{"state", OpIn, []any{"draft", "sale"}}, true},
		{"in typed strings", Condition{"state", OpIn, []string{"draft", "sale"}}, true},
		{"in miss", Condition{"state", OpIn, []any{"draft", "sent"}}, false},
		{"in numbers", Condition{"partner_id", OpIn, []any{1.0, 58.0}}, true},
		{"in config numbers", Condition{"partner_id", OpIn, []any{json.Number("58")}}, true},
		{"in absent", Condition{"missing", OpIn, []any{"sale"}}, false},
		{"in list field any element", Condition{"order_line", OpIn, []any{1, 3416}}, true},
		{"in list field no element", Condition{"order_line", OpIn, []any{1, 2}}, false},
		{"in empty list field", Condition{"tag_ids", OpIn, []any{1}}, false},
		{"in not a list", Condition{"state", OpIn, "sale"}, false},
		{"in false matches null", Condition{"origin", OpIn, []any{false}}, true},
		{"set string", Condition{Field: "state", Op: OpSet}, true},
		{"set list", Condition{Field: "order_line", Op: OpSet}, true},
		{"set true", Condition{Field: "active", Op: OpSet}, true},
		{"set null", Condition{Field: "origin", Op: OpSet}, false},
		{"set false", Condition{Field: "locked", Op: OpSet}, false},
		{"set empty list", Condition{Field: "tag_ids", Op: OpSet}, false},
		{"set absent", Condition{Field: "missing", Op: OpSet}, false},
		{"unset absent", Condition{Field: "missing", Op: OpUnset}, true},
		{"unset null", Condition{Field: "origin", Op: OpUnset}, true},
		{"unset false", Condition{Field: "locked", Op: OpUnset}, true},
		{"unset empty list", Condition{Field: "tag_ids", Op: OpUnset}, true},
		{"unset value", Condition{Field: "state", Op: OpUnset}, false},
		{"unknown op", Condition{"state", "gt", "a"}, false},
		{"empty op", Condition{Field: "state"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cond.Holds(fields); got != tt.want {
				t.Errorf("%+v.Holds = %v, want %v", tt.cond, got, tt.want)
			}
		})
	}
}

// TestMatchOrder checks that the first matching rule wins and that other
// models' rules are skipped.
func TestMatchOrder(t *testing.T) {
	rec := Record{Model: "sale.order", ID: 1, Fields: map[string]any{"state": "sale"}}
	tests := []struct {
		name   string
		rules  []Rule
		want   string
		wantOK bool
	}{
		{"no rules", nil, "", false},
		{"first of two", []Rule{
			{Model: "sale.order", EventType: "a"},
			{Model: "sale.order", EventType: "b"},
		}, "a", true},
		{"skips other model", []Rule{
			{Model: "sale.order.line", EventType: "a"},
			{Model: "sale.order", EventType: "b"},
		}, "b", true},
		{"skips failing condition", []Rule{
			{Model: "sale.order", When: []Condition{{"state", OpEq, "cancel"}}, EventType: "a"},
			{Model: "sale.order", When: []Condition{{"state", OpEq, "sale"}}, EventType: "b"},
		}, "b", true},
		{"all conditions must hold", []Rule{
			{Model: "sale.order", When: []Condition{{"state", OpEq, "sale"}, {"locked", OpEq, true}}, EventType: "a"},
		}, "", false},
		{"empty when matches", []Rule{{Model: "sale.order", When: []Condition{}, EventType: "a"}}, "a", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Match(tt.rules, rec)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Match = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestRulesFromJSON checks that rules loaded from configuration (numbers as
// float64) round-trip and behave like the defaults.
func TestRulesFromJSON(t *testing.T) {
	b, err := json.Marshal(DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	var loaded []Rule
	if err := json.Unmarshal(b, &loaded); err != nil {
		t.Fatal(err)
	}
	if err := ValidateRules(loaded); err != nil {
		t.Fatalf("ValidateRules: %v", err)
	}
	if diff := cmp.Diff(DefaultRules(), loaded); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	const config = `[{"model":"res.partner","when":[{"field":"customer_rank","op":"in","value":[1,2,3]},
		{"field":"parent_id","op":"unset"}],"event_type":"customer.created"}]`
	var rules []Rule
	if err := json.Unmarshal([]byte(config), &rules); err != nil {
		t.Fatal(err)
	}
	if err := ValidateRules(rules); err != nil {
		t.Fatalf("ValidateRules: %v", err)
	}
	r, err := ParseWebhook(fixture(t, "06-customer-created.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := Match(rules, r); !ok || got != "customer.created" {
		t.Errorf("Match = %q, %v; want customer.created", got, ok)
	}
}

// TestDefaultRulesFresh checks that callers cannot change the defaults.
func TestDefaultRulesFresh(t *testing.T) {
	a := DefaultRules()
	a[0].EventType = "changed"
	a[0].When[0].Value = "changed"
	a[len(a)-1].When[0].Value.([]any)[0] = "changed"
	b := DefaultRules()
	if b[0].EventType != "order.confirmed" || b[0].When[0].Value != "sale" || b[len(b)-1].When[0].Value.([]any)[0] != "paid" {
		t.Errorf("DefaultRules shares state between calls: %+v", b)
	}
}

// TestDefaultRulesCoverCatalogue checks that the defaults are valid and
// produce exactly the catalogue event types.
func TestDefaultRulesCoverCatalogue(t *testing.T) {
	rules := DefaultRules()
	if err := ValidateRules(rules); err != nil {
		t.Fatalf("ValidateRules(DefaultRules()) = %v", err)
	}
	seen := map[string]bool{}
	for _, r := range rules {
		seen[r.EventType] = true
	}
	want := map[string]bool{}
	for _, et := range EventTypes() {
		want[et] = true
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("event types of DefaultRules (-catalogue +rules):\n%s", diff)
	}
}

// TestValidate covers the rule and condition checks.
func TestValidate(t *testing.T) {
	ok := Condition{Field: "state", Op: OpEq, Value: "sale"}
	tests := []struct {
		name    string
		rule    Rule
		wantMsg string // "" for valid
	}{
		{"valid", Rule{Model: "sale.order", When: []Condition{ok}, EventType: "order.confirmed"}, ""},
		{"valid without conditions", Rule{Model: "stock.quant", EventType: "inventory.adjusted"}, ""},
		{"eq nil is valid", Rule{Model: "a", When: []Condition{{Field: "x", Op: OpEq}}, EventType: "e"}, ""},
		{"empty model", Rule{EventType: "e"}, "model is empty"},
		{"bad model", Rule{Model: "Sale Order", EventType: "e"}, `model "Sale Order" is not an Odoo model name`},
		{"empty event type", Rule{Model: "sale.order"}, "sale.order: event_type is empty"},
		{"empty field", Rule{Model: "a", When: []Condition{ok, {Op: OpEq, Value: 1}}, EventType: "e"},
			"a -> e: when[1]: field is empty"},
		{"unknown op", Rule{Model: "a", When: []Condition{{Field: "x", Op: "gt", Value: 1}}, EventType: "e"},
			`when[0]: x: unknown op "gt"`},
		{"empty op", Rule{Model: "a", When: []Condition{{Field: "x"}}, EventType: "e"}, `unknown op ""`},
		{"in without list", Rule{Model: "a", When: []Condition{{Field: "x", Op: OpIn, Value: "sale"}}, EventType: "e"},
			`x: op "in" needs a non-empty list value`},
		{"in empty list", Rule{Model: "a", When: []Condition{{Field: "x", Op: OpIn, Value: []any{}}}, EventType: "e"},
			`op "in" needs a non-empty list value`},
		{"set with value", Rule{Model: "a", When: []Condition{{Field: "x", Op: OpSet, Value: true}}, EventType: "e"},
			`x: op "set" takes no value`},
		{"unset with value", Rule{Model: "a", When: []Condition{{Field: "x", Op: OpUnset, Value: false}}, EventType: "e"},
			`x: op "unset" takes no value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rule.Validate()
			if tt.wantMsg == "" {
				if err != nil {
					t.Errorf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidRule) {
				t.Fatalf("Validate = %v, want an error wrapping ErrInvalidRule", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Validate = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}

	err := ValidateRules([]Rule{{Model: "a", EventType: "e"}, {Model: "a"}})
	if !errors.Is(err, ErrInvalidRule) || !strings.HasPrefix(err.Error(), "rule 1: ") {
		t.Errorf("ValidateRules = %v, want rule 1 named and ErrInvalidRule wrapped", err)
	}
	if err := (Condition{Field: "x", Op: "bad"}).Validate(); !errors.Is(err, ErrInvalidRule) {
		t.Errorf("Condition.Validate = %v, want ErrInvalidRule", err)
	}
}

// BenchmarkMatch measures the default table on the last rule's model.
func BenchmarkMatch(b *testing.B) {
	r, err := ParseWebhook(fixture(b, "10-pos-order-paid.json"))
	if err != nil {
		b.Fatal(err)
	}
	rules := DefaultRules()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Match(rules, r); !ok {
			b.Fatal("no match")
		}
	}
}
