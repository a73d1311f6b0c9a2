package odoo

import (
	"embed"
	"sync"
)

// exampleFiles holds copies of testdata's fixtures (a test keeps them equal):
// real Odoo 18 bodies, one per catalogue event type.
//
//go:embed examples/*.json
var exampleFiles embed.FS

// example names the fixture behind one catalogue event type.
type example struct {
	eventType string
	model     string
	file      string
}

// catalogue lists hookgate's Odoo event types in the order of ODOO.md's
// fixture manifest. Read-only.
var catalogue = [...]example{
	{"order.confirmed", "sale.order", "01-sale-order-confirmed.json"},
	{"order.cancelled", "sale.order", "02-sale-order-cancelled.json"},
	{"shipment.dispatched", "stock.picking", "03-delivery-done.json"},
	{"inventory.adjusted", "stock.quant", "04-stock-quant-changed.json"},
	{"product.updated", "product.template", "05-product-price-changed.json"},
	{"customer.created", "res.partner", "06-customer-created.json"},
	{"invoice.posted", "account.move", "07-invoice-posted.json"},
	{"invoice.paid", "account.move", "08-invoice-paid.json"},
	{"refund.issued", "account.move", "09-credit-note-posted.json"},
	{"pos.order.paid", "pos.order", "10-pos-order-paid.json"},
	{"return.received", "stock.picking", "11-return-received.json"},
	{"payment.received", "account.payment", "12-payment-received.json"},
}

// EventTypes returns the catalogue event types that DefaultRules produces
// and ExampleData knows, in the order of the fixture manifest.
func EventTypes() []string {
	out := make([]string, len(catalogue))
	for i, e := range catalogue {
		out[i] = e.eventType
	}
	return out
}

// ExampleModel returns the Odoo model whose webhooks produce eventType, or
// "" for a type outside the catalogue. For product.updated, which two models
// produce, it returns "product.template".
func ExampleModel(eventType string) string {
	for _, e := range catalogue {
		if e.eventType == eventType {
			return e.model
		}
	}
	return ""
}

// ExampleData returns realistic normalised data for eventType, the Fields
// of a real Odoo webhook body that maps to it, or false for a type outside
// the catalogue. Each call returns a fresh copy the caller may change.
func ExampleData(eventType string) (map[string]any, bool) {
	rec, ok := exampleRecords()[eventType]
	if !ok {
		return nil, false
	}
	return cloneMap(rec.Fields), true
}

// exampleRecords parses the embedded fixtures once. A fixture that fails to
// parse is left out; the tests make sure none does.
var exampleRecords = sync.OnceValue(func() map[string]Record {
	out := make(map[string]Record, len(catalogue))
	for _, e := range catalogue {
		body, err := exampleFiles.ReadFile("examples/" + e.file)
		if err != nil {
			continue
		}
		rec, err := ParseWebhook(body)
		if err != nil {
			continue
		}
		out[e.eventType] = rec
	}
	return out
})

// cloneMap deep-copies the maps and slices of a decoded JSON object.
func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

// cloneValue deep-copies one decoded JSON value.
func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	default:
		return v
	}
}
