// Package catalog is the seeded retail event-type catalogue: names,
// descriptions and the JSON Schema of each type's data. It imports only
// the domain package.
package catalog

import (
	"encoding/json"
	"time"

	"github.com/hookgate/hookgate/internal/domain"
)

type entry struct {
	name, description, model string
	props                    map[string]any
	required                 []string
}

var (
	integer  = map[string]any{"type": "integer"}
	number   = map[string]any{"type": "number"}
	str      = map[string]any{"type": "string"}
	boolean  = map[string]any{"type": "boolean"}
	ref      = map[string]any{"type": []string{"integer", "null"}, "description": "Odoo record id (many2one), null when empty"}
	ids      = map[string]any{"type": "array", "items": map[string]any{"type": "integer"}}
	optStr   = map[string]any{"type": []string{"string", "null"}}
	optNum   = map[string]any{"type": []string{"number", "null"}}
	dateTime = map[string]any{"type": []string{"string", "null"}, "format": "date-time"}
	date     = map[string]any{"type": []string{"string", "null"}, "format": "date"}
)

var entries = []entry{
	{"order.confirmed", "A sales order was confirmed (Odoo sale.order reached state sale).", "sale.order",
		map[string]any{"id": integer, "name": str, "state": str, "partner_id": ref, "partner_invoice_id": ref, "partner_shipping_id": ref,
			"currency_id": ref, "amount_untaxed": number, "amount_tax": number, "amount_total": number, "date_order": dateTime,
			"client_order_ref": optStr, "order_line": ids, "picking_ids": ids, "write_date": dateTime}, []string{"id", "name", "state"}},
	{"order.cancelled", "A sales order was cancelled (sale.order state cancel).", "sale.order",
		map[string]any{"id": integer, "name": str, "state": str, "partner_id": ref, "amount_total": number, "currency_id": ref,
			"order_line": ids, "write_date": dateTime}, []string{"id", "name", "state"}},
	{"shipment.dispatched", "An outgoing delivery was validated (stock.picking done, outgoing).", "stock.picking",
		map[string]any{"id": integer, "name": str, "state": str, "picking_type_code": str, "partner_id": ref, "sale_id": ref,
			"carrier_id": ref, "carrier_tracking_ref": optStr, "date_done": dateTime, "move_ids": ids, "origin": optStr}, []string{"id", "name"}},
	{"inventory.adjusted", "An on-hand stock level changed in an internal location (stock.quant; absolute level, not a delta).", "stock.quant",
		map[string]any{"id": integer, "product_id": ref, "location_id": ref, "lot_id": ref, "package_id": ref, "quantity": number,
			"reserved_quantity": optNum, "available_quantity": optNum, "write_date": dateTime}, []string{"id", "product_id", "quantity"}},
	{"product.updated", "A product's price or another watched field changed (product.template / product.product).", "product.template",
		map[string]any{"id": integer, "name": str, "default_code": optStr, "barcode": optStr, "list_price": number, "currency_id": ref,
			"active": boolean, "sale_ok": boolean, "write_date": dateTime}, []string{"id"}},
	{"customer.created", "A customer contact was created (res.partner).", "res.partner",
		map[string]any{"id": integer, "name": str, "display_name": optStr, "email": optStr, "phone": optStr, "street": optStr,
			"city": optStr, "zip": optStr, "country_id": ref, "is_company": boolean, "customer_rank": integer, "create_date": dateTime}, []string{"id", "name"}},
	{"invoice.posted", "A customer invoice was posted (account.move out_invoice, state posted).", "account.move",
		map[string]any{"id": integer, "name": str, "move_type": str, "state": str, "partner_id": ref, "currency_id": ref,
			"amount_untaxed": number, "amount_tax": number, "amount_total": number, "amount_residual": number,
			"invoice_date": date, "invoice_date_due": date, "invoice_origin": optStr, "invoice_line_ids": ids, "payment_state": optStr}, []string{"id", "name", "move_type"}},
	{"invoice.paid", "A customer invoice became in payment or paid (both may arrive).", "account.move",
		map[string]any{"id": integer, "name": str, "move_type": str, "payment_state": str, "partner_id": ref, "currency_id": ref,
			"amount_total": number, "amount_residual": number, "matched_payment_ids": ids}, []string{"id", "name", "payment_state"}},
	{"refund.issued", "A credit note was posted (account.move out_refund).", "account.move",
		map[string]any{"id": integer, "name": str, "move_type": str, "state": str, "partner_id": ref, "currency_id": ref,
			"amount_total": number, "reversed_entry_id": ref, "ref": optStr}, []string{"id", "name", "move_type"}},
	{"pos.order.paid", "A point-of-sale order was paid (pos.order state paid).", "pos.order",
		map[string]any{"id": integer, "name": str, "state": str, "partner_id": ref, "currency_id": ref, "amount_total": number,
			"amount_tax": number, "amount_paid": number, "amount_return": number, "date_order": dateTime, "lines": ids,
			"payment_ids": ids, "pos_reference": optStr}, []string{"id", "name", "state"}},
	{"return.received", "A customer return was received (incoming stock.picking done with return_id).", "stock.picking",
		map[string]any{"id": integer, "name": str, "state": str, "picking_type_code": str, "return_id": ref, "partner_id": ref,
			"sale_id": ref, "date_done": dateTime, "move_ids": ids, "origin": optStr}, []string{"id", "name"}},
	{"payment.received", "An inbound customer payment was registered (account.payment in process or paid).", "account.payment",
		map[string]any{"id": integer, "name": str, "state": str, "payment_type": str, "partner_type": str, "partner_id": ref,
			"amount": number, "currency_id": ref, "date": date, "memo": optStr, "reconciled_invoice_ids": ids}, []string{"id", "amount"}},
	{"endpoint.failing", "Operational: one of your endpoints keeps failing; its circuit opened and deliveries are held until a probe succeeds.", "",
		map[string]any{"endpoint_id": str, "url": str, "consecutive_failures": integer, "failing_since": dateTime, "next_probe_at": dateTime}, []string{"endpoint_id"}},
	{"endpoint.disabled", "Operational: one of your endpoints was disabled (410 Gone, or failing for too long); re-enable it after fixing it.", "",
		map[string]any{"endpoint_id": str, "url": str, "reason": str, "detail": str}, []string{"endpoint_id", "reason"}},
	{"endpoint.recovered", "Operational: a failing endpoint answered again; held deliveries were released.", "",
		map[string]any{"endpoint_id": str, "url": str, "released_deliveries": integer}, []string{"endpoint_id"}},
	{"delivery.exhausted", "Operational: a delivery failed its last scheduled attempt; it stays replayable.", "",
		map[string]any{"delivery_id": str, "event_id": str, "event_type": str, "endpoint_id": str, "attempts": integer,
			"last_response_status": integer, "last_error": str}, []string{"delivery_id", "event_id"}},
}

// Operational reports whether name is an operational event type (sent to
// a partner about its own endpoints; not subject to entitlements).
func Operational(name string) bool {
	switch name {
	case "endpoint.failing", "endpoint.disabled", "endpoint.recovered", "delivery.exhausted":
		return true
	}
	return false
}

// Seed returns the retail catalogue of DESIGN §5, version 1 of each type.
func Seed(now time.Time) []domain.EventType {
	out := make([]domain.EventType, 0, len(entries))
	for _, e := range entries {
		schema := map[string]any{
			"$schema":              "https://json-schema.org/draft/2020-12/schema",
			"title":                e.name,
			"description":          e.description,
			"type":                 "object",
			"properties":           withEnriched(e.name, e.props),
			"required":             e.required,
			"additionalProperties": true,
		}
		if e.model != "" {
			schema["x-odoo-model"] = e.model
		}
		b, _ := json.Marshal(schema)
		out = append(out, domain.EventType{
			Name: e.name, Description: e.description, Schema: b, Version: 1, CreatedAt: now, UpdatedAt: now,
		})
	}
	return out
}
