package odoo

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExamplesMatchTestdata keeps the embedded copies equal to testdata's
// fixtures.
func TestExamplesMatchTestdata(t *testing.T) {
	names := fixtureNames(t)
	entries, err := exampleFiles.ReadDir("examples")
	if err != nil {
		t.Fatal(err)
	}
	var embedded []string
	for _, e := range entries {
		embedded = append(embedded, e.Name())
	}
	if diff := cmp.Diff(names, embedded); diff != "" {
		t.Fatalf("examples/ and testdata/ hold different files (-testdata +examples):\n%s", diff)
	}
	for _, name := range names {
		got, err := exampleFiles.ReadFile("examples/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, fixture(t, name)) {
			t.Errorf("examples/%s differs from testdata/%s", name, name)
		}
	}
}

// TestExampleData checks that every catalogue type has data that parses
// from a body of its model and maps back to it.
func TestExampleData(t *testing.T) {
	rules := DefaultRules()
	for _, et := range EventTypes() {
		t.Run(et, func(t *testing.T) {
			data, ok := ExampleData(et)
			if !ok {
				t.Fatal("ExampleData found nothing")
			}
			model := ExampleModel(et)
			if model == "" {
				t.Fatal("ExampleModel found nothing")
			}
			if got, ok := Match(rules, Record{Model: model, ID: 1, Fields: data}); !ok || got != et {
				t.Errorf("Match(ExampleModel, ExampleData) = %q, %v", got, ok)
			}
			if _, ok := data["id"].(json.Number); !ok {
				t.Errorf(`data["id"] = %#v, want a json.Number`, data["id"])
			}
			if diff := cmp.Diff(Normalize(model, data), data); diff != "" {
				t.Errorf("data is not normalised (-normalised +data):\n%s", diff)
			}
			if _, err := json.Marshal(data); err != nil {
				t.Errorf("data does not marshal: %v", err)
			}
		})
	}
}

// TestExampleDataFresh checks that callers cannot change later results.
func TestExampleDataFresh(t *testing.T) {
	a, _ := ExampleData("order.confirmed")
	a["state"] = "changed"
	a["order_line"].([]any)[0] = "changed"
	b, _ := ExampleData("order.confirmed")
	if b["state"] != "sale" || b["order_line"].([]any)[0] != json.Number("3415") {
		t.Errorf("ExampleData shares state between calls: %v", b)
	}
}

// TestExampleUnknown checks types outside the catalogue.
func TestExampleUnknown(t *testing.T) {
	for _, et := range []string{"", "order.shipped", "ORDER.CONFIRMED"} {
		if data, ok := ExampleData(et); ok || data != nil {
			t.Errorf("ExampleData(%q) = %v, %v; want nil, false", et, data, ok)
		}
		if got := ExampleModel(et); got != "" {
			t.Errorf("ExampleModel(%q) = %q, want \"\"", et, got)
		}
	}
}

// TestExampleDataSample spells out one example in full.
func TestExampleDataSample(t *testing.T) {
	n := func(s string) json.Number { return json.Number(s) }
	want := map[string]any{
		"amount": n("143.75"), "company_id": n("1"), "currency_id": n("2"), "date": "2025-03-18",
		"id": n("77"), "is_matched": false, "is_reconciled": true, "journal_id": n("7"),
		"memo": "INV/2025/00118", "move_id": n("415"), "name": "PBNK1/2025/00031", "partner_id": n("58"),
		"partner_type": "customer", "payment_method_line_id": n("3"), "payment_type": "inbound",
		"reconciled_invoice_ids": []any{n("311")}, "state": "in_process",
		"write_date": "2025-03-18T10:04:55.830216Z",
	}
	got, ok := ExampleData("payment.received")
	if !ok {
		t.Fatal("ExampleData found nothing")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ExampleData(payment.received) (-want +got):\n%s", diff)
	}
	if got := ExampleModel("payment.received"); got != "account.payment" {
		t.Errorf("ExampleModel = %q, want account.payment", got)
	}
}
