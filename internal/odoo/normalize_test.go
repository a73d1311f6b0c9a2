package odoo

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestNormalize checks the value rules on bodies decoded like ParseWebhook's.
func TestNormalize(t *testing.T) {
	n := func(s string) json.Number { return json.Number(s) }
	tests := []struct {
		name  string
		model string
		in    string // JSON object
		want  map[string]any
	}{
		{"datetime without fraction", "sale.order", `{"date_order":"2025-03-14 09:41:07"}`,
			map[string]any{"date_order": "2025-03-14T09:41:07Z"}},
		{"datetime with microseconds", "sale.order", `{"write_date":"2025-03-14 09:41:06.912345"}`,
			map[string]any{"write_date": "2025-03-14T09:41:06.912345Z"}},
		{"datetime fraction kept as sent", "sale.order", `{"a":"2025-03-14 09:41:06.9","b":"2025-03-14 09:41:06.120000"}`,
			map[string]any{"a": "2025-03-14T09:41:06.9Z", "b": "2025-03-14T09:41:06.120000Z"}},
		{"datetime on leap day", "sale.order", `{"a":"2024-02-29 23:59:59"}`,
			map[string]any{"a": "2024-02-29T23:59:59Z"}},
		{"date stays", "account.move", `{"invoice_date":"2025-03-15"}`,
			map[string]any{"invoice_date": "2025-03-15"}},
		{"near-datetimes stay", "sale.order", `{
			"t":"2025-03-14T09:41:07", "z":"2025-03-14T09:41:07Z", "sep":"2025-03-14_09:41:07",
			"dot":"2025-03-14 09:41:07.", "seven":"2025-03-14 09:41:07.1234567", "comma":"2025-03-14 09:41:07,5",
			"month":"2025-13-14 09:41:07", "day":"2025-02-29 09:41:07", "day0":"2025-03-00 09:41:07",
			"hour":"2025-03-14 24:00:00", "minute":"2025-03-14 09:60:07", "second":"2025-03-14 09:41:60",
			"short":"2025-3-14 09:41:07", "letters":"2025-03-1a 09:41:07", "tz":"2025-03-14 09:41:07+00:00",
			"ref":"S01287"}`,
			map[string]any{
				"t": "2025-03-14T09:41:07", "z": "2025-03-14T09:41:07Z", "sep": "2025-03-14_09:41:07",
				"dot": "2025-03-14 09:41:07.", "seven": "2025-03-14 09:41:07.1234567", "comma": "2025-03-14 09:41:07,5",
				"month": "2025-13-14 09:41:07", "day": "2025-02-29 09:41:07", "day0": "2025-03-00 09:41:07",
				"hour": "2025-03-14 24:00:00", "minute": "2025-03-14 09:60:07", "second": "2025-03-14 09:41:60",
				"short": "2025-3-14 09:41:07", "letters": "2025-03-1a 09:41:07", "tz": "2025-03-14 09:41:07+00:00",
				"ref": "S01287",
			}},
		{"false on many2one and char becomes null", "sale.order", `{"partner_id":false,"origin":false,"commitment_date":false}`,
			map[string]any{"partner_id": nil, "origin": nil, "commitment_date": nil}},
		{"false on known boolean kept", "sale.order", `{"locked":false,"require_signature":false}`,
			map[string]any{"locked": false, "require_signature": false}},
		{"known boolean of another model is not boolean", "res.partner", `{"locked":false}`,
			map[string]any{"locked": nil}},
		{"false on boolean by name kept", "x_custom.model", `{
			"active":false,"is_x":false,"has_y":false,"to_z":false,"sale_ok":false,"message_needaction":false,
			"inactive":false,"this_is_":false,"okay":false}`,
			map[string]any{
				"active": false, "is_x": false, "has_y": false, "to_z": false, "sale_ok": false, "message_needaction": false,
				"inactive": nil, "this_is_": nil, "okay": nil,
			}},
		{"true always kept", "sale.order", `{"partner_id":true,"locked":true}`,
			map[string]any{"partner_id": true, "locked": true}},
		{"numbers stay json.Number", "sale.order", `{"amount_untaxed":125.0,"partner_id":58,"big":1e400,"neg":-0.5}`,
			map[string]any{"amount_untaxed": n("125.0"), "partner_id": n("58"), "big": n("1e400"), "neg": n("-0.5")}},
		{"id lists stay lists", "sale.order", `{"order_line":[3415,3416,3417],"tag_ids":[]}`,
			map[string]any{"order_line": []any{n("3415"), n("3416"), n("3417")}, "tag_ids": []any{}}},
		{"nested values normalised", "sale.order", `{"x":[{"when":"2025-03-14 09:41:07","partner_id":false,"is_done":false,"d":"2025-03-14"},
			[false, "2025-03-14 09:41:06.5"]], "o":{"locked":false,"p":{"q":false}}}`,
			map[string]any{
				"x": []any{
					map[string]any{"when": "2025-03-14T09:41:07Z", "partner_id": nil, "is_done": false, "d": "2025-03-14"},
					[]any{nil, "2025-03-14T09:41:06.5Z"},
				},
				"o": map[string]any{"locked": false, "p": map[string]any{"q": nil}},
			}},
		{"false beside true in a list is a value", "sale.order", `{"flags":[true,false],"ids":[false,3]}`,
			map[string]any{"flags": []any{true, false}, "ids": []any{nil, n("3")}}},
		{"list of a boolean field keeps false", "sale.order", `{"is_x":[false]}`,
			map[string]any{"is_x": []any{false}}},
		{"non-ASCII escapes decoded", "res.partner", `{"name":"Zo\u00eb M\u00fcller","street":"Oranienstra\u00dfe 12"}`,
			map[string]any{"name": "Zoë Müller", "street": "Oranienstraße 12"}},
		{"null stays null", "sale.order", `{"x":null}`, map[string]any{"x": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := decode(t, tt.in).(map[string]any)
			before := decode(t, tt.in).(map[string]any)
			got := Normalize(tt.model, in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Normalize (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, in); diff != "" {
				t.Errorf("Normalize changed its input (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(got, Normalize(tt.model, got)); diff != "" {
				t.Errorf("Normalize is not idempotent (-once +twice):\n%s", diff)
			}
		})
	}
}

// TestNormalizeNil checks that a nil map stays nil.
func TestNormalizeNil(t *testing.T) {
	if got := Normalize("sale.order", nil); got != nil {
		t.Errorf("Normalize(nil) = %#v, want nil", got)
	}
}

// TestNormalizeKeepsOtherTypes checks that values Go code put in the map,
// rather than a decoder, pass through.
func TestNormalizeKeepsOtherTypes(t *testing.T) {
	in := map[string]any{"ints": []int{1, 2}, "n": 3, "f": 1.5, "t": time.Unix(0, 0).UTC()}
	got := Normalize("sale.order", in)
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("Normalize (-want +got):\n%s", diff)
	}
}

// TestIsBooleanField checks the known lists and the naming rule.
func TestIsBooleanField(t *testing.T) {
	tests := []struct {
		model, field string
		want         bool
	}{
		{"sale.order", "locked", true},
		{"sale.order", "state", false},
		{"sale.order", "partner_id", false},
		{"product.template", "active", true},
		{"product.template", "sale_ok", true},
		{"product.template", "purchase_ok", true},
		{"product.template", "is_storable", true},
		{"product.product", "available_in_pos", true},
		{"product.product", "is_product_variant", true},
		{"product.template", "available_in_pos", true},
		{"res.partner", "is_company", true},
		{"res.partner", "employee", true},
		{"res.partner", "parent_id", false},
		{"pos.order", "is_refund", true},
		{"pos.order", "to_invoice", true},
		{"pos.order", "partner_id", false},
		{"account.payment", "is_matched", true},
		{"account.payment", "is_reconciled", true},
		{"account.payment", "is_internal_transfer", true},
		{"account.move", "is_move_sent", true},
		{"account.move", "checked", true},
		{"account.move", "posted_before", true},
		{"account.move", "auto_post", false}, // a selection since 16.0
		{"account.move", "reversed_entry_id", false},
		{"stock.picking", "printed", true},
		{"stock.picking", "return_id", false},
		{"stock.quant", "inventory_quantity_set", true},
		{"stock.quant", "lot_id", false},
		{"unknown.model", "active", true},
		{"unknown.model", "is_x", true},
		{"unknown.model", "has_x", true},
		{"unknown.model", "to_x", true},
		{"unknown.model", "x_ok", true},
		{"unknown.model", "message_is_follower", true},
		{"unknown.model", "locked", false},
		{"unknown.model", "isx", false},
		{"unknown.model", "ok", false},
		{"", "active", true},
	}
	for _, tt := range tests {
		t.Run(tt.model+"/"+tt.field, func(t *testing.T) {
			if got := IsBooleanField(tt.model, tt.field); got != tt.want {
				t.Errorf("IsBooleanField(%q, %q) = %v, want %v", tt.model, tt.field, got, tt.want)
			}
		})
	}
}

// TestDatetimeAgreesWithTime checks the hand-written layout check against
// the time package on every day of four years, and a few odd clocks.
func TestDatetimeAgreesWithTime(t *testing.T) {
	const odoo = "2006-01-02 15:04:05.999999"
	check := func(s string) {
		t.Helper()
		conv, ok := odooDatetimeToRFC3339(s)
		want, err := time.Parse(odoo, s)
		if ok != (err == nil) {
			t.Fatalf("odooDatetimeToRFC3339(%q) ok = %v, time.Parse error = %v", s, ok, err)
		}
		if !ok {
			return
		}
		got, err := time.Parse(time.RFC3339Nano, conv)
		if err != nil || !got.Equal(want) {
			t.Fatalf("odooDatetimeToRFC3339(%q) = %q: parses to %v, %v; want %v", s, conv, got, err, want)
		}
	}
	for d := time.Date(1899, 12, 1, 0, 0, 0, 0, time.UTC); d.Year() < 1901; d = d.AddDate(0, 0, 1) {
		check(d.Format("2006-01-02 15:04:05"))
	}
	for d := time.Date(1999, 12, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2002; d = d.AddDate(0, 0, 1) {
		check(d.Format("2006-01-02") + " 23:59:59.000001")
	}
	for _, s := range []string{
		"2025-02-29 00:00:00", "2025-04-31 00:00:00", "2025-06-30 00:00:00", "0000-01-01 00:00:00",
		"2025-01-01 00:00:00.1", "2025-01-01 00:00:00.123456",
		"2025-01-01 -1:00:00", "2025-01-01 00:00:00Z", "2025-01-01 00:00:0a",
	} {
		check(s)
	}
}

// BenchmarkNormalizeDatetime measures the layout check on a datetime and on
// a string that only looks like one at first.
func BenchmarkNormalizeDatetime(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		odooDatetimeToRFC3339("2025-03-14 09:41:06.912345")
		odooDatetimeToRFC3339("Return of WH/OUT/00012")
	}
}
