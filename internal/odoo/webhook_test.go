package odoo

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fixture reads one body from testdata.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtureNames lists testdata's bodies.
func fixtureNames(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

// decode decodes JSON the way ParseWebhook does, without normalising.
func decode(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// TestParseWebhookFixtures checks every fixture against the manifest table
// of testdata/README.md.
func TestParseWebhookFixtures(t *testing.T) {
	tests := []struct {
		file      string
		model     string
		id        int64
		action    string
		eventType string
	}{
		{"01-sale-order-confirmed.json", "sale.order", 1287, "Gateway: order confirmed(#41)", "order.confirmed"},
		{"02-sale-order-cancelled.json", "sale.order", 1290, "Gateway: order cancelled(#42)", "order.cancelled"},
		{"03-delivery-done.json", "stock.picking", 57, "Gateway: delivery done(#43)", "shipment.dispatched"},
		{"04-stock-quant-changed.json", "stock.quant", 933, "Gateway: stock level changed(#44)", "inventory.adjusted"},
		{"05-product-price-changed.json", "product.template", 36, "Gateway: product price changed(#45)", "product.updated"},
		{"06-customer-created.json", "res.partner", 58, "Gateway: customer created(#46)", "customer.created"},
		{"07-invoice-posted.json", "account.move", 311, "Gateway: invoice posted(#47)", "invoice.posted"},
		{"08-invoice-paid.json", "account.move", 311, "Gateway: invoice paid(#48)", "invoice.paid"},
		{"09-credit-note-posted.json", "account.move", 318, "Gateway: credit note posted(#49)", "refund.issued"},
		{"10-pos-order-paid.json", "pos.order", 4521, "Gateway: POS order paid(#50)", "pos.order.paid"},
		{"11-return-received.json", "stock.picking", 63, "Gateway: return received(#51)", "return.received"},
		{"12-payment-received.json", "account.payment", 77, "Gateway: payment received(#52)", "payment.received"},
	}
	if got := len(fixtureNames(t)); got != len(tests) {
		t.Errorf("testdata holds %d fixtures, the table %d", got, len(tests))
	}
	rules := DefaultRules()
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := ParseWebhook(fixture(t, tt.file))
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			type head struct {
				Model  string
				ID     int64
				Action string
			}
			if diff := cmp.Diff(head{tt.model, tt.id, tt.action}, head{r.Model, r.ID, r.Action}); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
			for _, k := range []string{keyModel, keyID, keyAction} {
				if _, ok := r.Fields[k]; ok {
					t.Errorf("Fields still holds %q", k)
				}
			}
			if got, want := r.Fields["id"], json.Number(strconv.FormatInt(tt.id, 10)); got != want {
				t.Errorf(`Fields["id"] = %#v, want %#v`, got, want)
			}
			got, ok := Match(rules, r)
			if !ok || got != tt.eventType {
				t.Errorf("Match = %q, %v; want %q", got, ok, tt.eventType)
			}
			if _, ok := OccurredAt(r); !ok {
				t.Error("OccurredAt found no time")
			}
			if _, err := json.Marshal(r.Fields); err != nil {
				t.Errorf("Fields do not marshal: %v", err)
			}
		})
	}
}

// TestParseWebhookGolden compares two fixtures field by field.
func TestParseWebhookGolden(t *testing.T) {
	n := func(s string) json.Number { return json.Number(s) }
	tests := []struct {
		file string
		want Record
	}{
		{"06-customer-created.json", Record{
			Model: "res.partner", ID: 58, Action: "Gateway: customer created(#46)",
			Fields: map[string]any{
				"city":          "Berlin",
				"company_id":    nil,
				"country_id":    n("57"),
				"create_date":   "2025-03-14T09:38:21.551002Z",
				"customer_rank": n("1"),
				"display_name":  "Zoë Müller",
				"email":         "zoe.mueller@example.com",
				"id":            n("58"),
				"is_company":    false,
				"lang":          "de_DE",
				"mobile":        nil,
				"name":          "Zoë Müller",
				"parent_id":     nil,
				"phone":         "+49 30 1234567",
				"ref":           nil,
				"state_id":      nil,
				"street":        "Oranienstraße 12",
				"street2":       nil,
				"type":          "contact",
				"vat":           nil,
				"write_date":    "2025-03-14T09:38:21.551002Z",
				"zip":           "10999",
			},
		}},
		{"10-pos-order-paid.json", Record{
			Model: "pos.order", ID: 4521, Action: "Gateway: POS order paid(#50)",
			Fields: map[string]any{
				"account_move":  nil,
				"amount_paid":   n("47.99"),
				"amount_return": n("2.01"),
				"amount_tax":    n("7.66"),
				"amount_total":  n("47.99"),
				"company_id":    n("1"),
				"config_id":     n("1"),
				"currency_id":   n("2"),
				"date_order":    "2025-03-16T16:27:44Z",
				"id":            n("4521"),
				"is_refund":     false,
				"lines":         []any{n("9811"), n("9812")},
				"name":          "Shop/0042",
				"partner_id":    nil,
				"payment_ids":   []any{n("6120"), n("6121")},
				"pos_reference": "Order 00012-003-0042",
				"session_id":    n("12"),
				"state":         "paid",
				"user_id":       n("6"),
				"write_date":    "2025-03-16T16:27:45.118204Z",
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseWebhook(fixture(t, tt.file))
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseWebhook (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseWebhookAccepts covers bodies that are odd but valid.
func TestParseWebhookAccepts(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Record
	}{
		{"minimal", `{"_model":"sale.order","_id":1}`,
			Record{Model: "sale.order", ID: 1, Fields: map[string]any{}}},
		{"surrounding whitespace", " \r\n\t{\"_id\": 7, \"_model\": \"res.partner\"}\n ",
			Record{Model: "res.partner", ID: 7, Fields: map[string]any{}}},
		{"unknown and underscore fields kept", `{"_model":"x_studio.thing","_id":9007199254740993,"_extra":{"a":[1]},"x_color":"red"}`,
			Record{Model: "x_studio.thing", ID: 9007199254740993, Fields: map[string]any{
				"_extra": map[string]any{"a": []any{json.Number("1")}}, "x_color": "red",
			}}},
		{"exact big amount", `{"_model":"account.move","_id":3,"amount_total":12345678901234567890.123456789}`,
			Record{Model: "account.move", ID: 3, Fields: map[string]any{
				"amount_total": json.Number("12345678901234567890.123456789"),
			}}},
		{"non-ASCII escapes", `{"_model":"res.partner","_id":58,"_action":"Envoi \u00e0 Zo\u00eb","name":"Zo\u00eb M\u00fcller \ud83d\ude00"}`,
			Record{Model: "res.partner", ID: 58, Action: "Envoi à Zoë", Fields: map[string]any{
				"name": "Zoë Müller 😀",
			}}},
		// Objects, not lists: cmp's slice diff is exponential in the nesting.
		{"nesting at the limit", `{"_model":"a","_id":1,"x":` + strings.Repeat(`{"x":`, MaxDepth-2) + `[]` + strings.Repeat("}", MaxDepth-2) + `}`,
			Record{Model: "a", ID: 1, Fields: map[string]any{"x": nestedObject(MaxDepth - 1)}}},
		{"brackets inside strings do not count", `{"_model":"a","_id":1,"s":"` + strings.Repeat("[{", 100) + `\"["}`,
			Record{Model: "a", ID: 1, Fields: map[string]any{"s": strings.Repeat("[{", 100) + `"[`}}},
		{"duplicate key, last wins", `{"_model":"a","_model":"b","_id":1}`,
			Record{Model: "b", ID: 1, Fields: map[string]any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWebhook([]byte(tt.body))
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseWebhook (-want +got):\n%s", diff)
			}
		})
	}
}

// nestedObject returns depth-1 objects {"x": …} around an empty list.
func nestedObject(depth int) any {
	var v any = []any{}
	for i := 1; i < depth; i++ {
		v = map[string]any{"x": v}
	}
	return v
}

// TestParseWebhookMalformed checks that every bad body is rejected with
// ErrMalformed and a helpful message.
func TestParseWebhookMalformed(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantMsg string
	}{
		{"empty", ``, "body is empty"},
		{"whitespace only", " \n\t", "body is empty"},
		{"not JSON", `_model=sale.order&_id=1`, "not valid JSON: invalid character '_'"},
		{"truncated", `{"_model":"sale.order","_id":1`, "not valid JSON: unexpected end of input"},
		{"bad escape", `{"_model":"sale\x","_id":1}`, "not valid JSON"},
		{"array", `[{"_model":"sale.order","_id":1}]`, "body must be a JSON object, got array"},
		{"string", `"sale.order"`, "body must be a JSON object, got string"},
		{"null", `null`, "body must be a JSON object, got null"},
		{"number", `12`, "body must be a JSON object, got number"},
		{"_model missing", `{"_id":1}`, "_model is missing"},
		{"_model empty", `{"_model":"","_id":1}`, "_model is empty"},
		{"_model number", `{"_model":42,"_id":1}`, "_model must be a string, got number"},
		{"_model false", `{"_model":false,"_id":1}`, "_model must be a string, got boolean"},
		{"_model null", `{"_model":null,"_id":1}`, "_model must be a string, got null"},
		{"_model uppercase", `{"_model":"Sale.Order","_id":1}`, `_model "Sale.Order" is not an Odoo model name`},
		{"_model with space", `{"_model":"sale order","_id":1}`, "is not an Odoo model name"},
		{"_model too long", `{"_model":"` + strings.Repeat("a", maxModelLen+1) + `","_id":1}`, "is not an Odoo model name"},
		{"_id missing", `{"_model":"sale.order"}`, "_id is missing"},
		{"_id negative", `{"_model":"sale.order","_id":-5}`, "_id must be positive, got -5"},
		{"_id zero", `{"_model":"sale.order","_id":0}`, "_id must be positive, got 0"},
		{"_id minus zero", `{"_model":"sale.order","_id":-0}`, "_id must be positive"},
		{"_id float", `{"_model":"sale.order","_id":1.5}`, "_id must be an integer, got 1.5"},
		{"_id float without fraction", `{"_model":"sale.order","_id":1.0}`, "_id must be an integer, got 1.0"},
		{"_id exponent", `{"_model":"sale.order","_id":1e3}`, "_id must be an integer, got 1e3"},
		{"_id string", `{"_model":"sale.order","_id":"1287"}`, "_id must be a number, got string"},
		{"_id false", `{"_model":"sale.order","_id":false}`, "_id must be a number, got boolean"},
		{"_id too big", `{"_model":"sale.order","_id":9223372036854775808}`, "_id is out of range"},
		{"_action not string", `{"_model":"sale.order","_id":1,"_action":false}`, "_action must be a string, got boolean"},
		{"trailing garbage", `{"_model":"sale.order","_id":1}x`, "unexpected data after the JSON value at byte 31"},
		{"trailing garbage after space", `{"_model":"sale.order","_id":1} ,`, "unexpected data after the JSON value at byte 32"},
		{"second object", `{"_model":"sale.order","_id":1}{"_model":"sale.order","_id":2}`, "unexpected data after the JSON value"},
		{"too deep", `{"_model":"a","_id":1,"x":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`,
			"JSON nesting is deeper than 32 levels"},
		{"very deep", strings.Repeat("[", 100000), "JSON nesting is deeper than 32 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWebhook([]byte(tt.body))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseWebhook = %+v, %v; want an error wrapping ErrMalformed", got, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), ErrMalformed.Error()+": ") {
				t.Errorf("error %q does not start with %q", err, ErrMalformed)
			}
			if diff := cmp.Diff(Record{}, got); diff != "" {
				t.Errorf("record on error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOccurredAt checks the choice and parsing of the event time.
func TestOccurredAt(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name   string
		fields map[string]any
		want   time.Time
		wantOK bool
	}{
		{"write_date first", map[string]any{
			"write_date": "2025-03-14T09:41:06.912345Z", "date_order": "2025-03-14T09:41:07Z",
		}, at("2025-03-14T09:41:06.912345Z"), true},
		{"date_done before date_order", map[string]any{
			"date_done": "2025-03-15T14:02:51Z", "date_order": "2025-03-14T09:41:07Z", "create_date": "2025-01-01T00:00:00Z",
		}, at("2025-03-15T14:02:51Z"), true},
		{"date_order", map[string]any{"date_order": "2025-03-16T16:27:44Z", "create_date": "2025-01-01T00:00:00Z"},
			at("2025-03-16T16:27:44Z"), true},
		{"create_date only", map[string]any{"create_date": "2025-03-14T09:38:21.551002Z"},
			at("2025-03-14T09:38:21.551002Z"), true},
		{"raw Odoo form", map[string]any{"write_date": "2025-03-14 09:41:06.912345"},
			at("2025-03-14T09:41:06.912345Z"), true},
		{"offset converted to UTC", map[string]any{"write_date": "2025-03-14T10:41:06+01:00"},
			at("2025-03-14T09:41:06Z"), true},
		{"unset and garbage skipped", map[string]any{
			"write_date": nil, "date_done": "soon", "date_order": false, "create_date": "2025-03-14T09:38:21Z",
		}, at("2025-03-14T09:38:21Z"), true},
		{"date only is not a time", map[string]any{"date": "2025-03-18", "write_date": "2025-03-18"}, time.Time{}, false},
		{"none", map[string]any{"state": "done"}, time.Time{}, false},
		{"nil fields", nil, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := OccurredAt(Record{Model: "sale.order", ID: 1, Fields: tt.fields})
			if ok != tt.wantOK || !got.Equal(tt.want) {
				t.Errorf("OccurredAt = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
			if ok && got.Location() != time.UTC {
				t.Errorf("OccurredAt location = %v, want UTC", got.Location())
			}
		})
	}
}

// BenchmarkParseWebhook measures the ingest hot path on a typical body.
func BenchmarkParseWebhook(b *testing.B) {
	body := fixture(b, "01-sale-order-confirmed.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseWebhook(body); err != nil {
			b.Fatal(err)
		}
	}
}
