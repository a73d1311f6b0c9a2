package catalog

// Objects the Odoo connector adds to an event's data when the source has
// Odoo API credentials (internal/odoo Expand). They are optional in every
// schema: events of sources without credentials carry only the webhook's
// fields, under the same names.
var (
	optInt   = map[string]any{"type": []string{"integer", "null"}}
	namedRef = map[string]any{
		"type": []string{"object", "null"}, "required": []string{"id", "name"},
		"properties": map[string]any{"id": integer, "name": optStr},
	}
	partnerObj = map[string]any{
		"type": []string{"object", "null"}, "required": []string{"id", "name"},
		"description": "The contact a many2one names, read from Odoo (enriched events only).",
		"properties": map[string]any{
			"id": integer, "name": optStr, "display_name": optStr, "email": optStr, "phone": optStr,
			"street": optStr, "street2": optStr, "zip": optStr, "city": optStr, "vat": optStr,
			"is_company": boolean, "country": namedRef,
		},
	}
	currencyObj = map[string]any{
		"type": []string{"object", "null"}, "required": []string{"id", "code"},
		"description": "The currency, with its ISO code (enriched events only).",
		"properties":  map[string]any{"id": integer, "code": str},
	}
	productObj = map[string]any{
		"type": []string{"object", "null"}, "required": []string{"id", "name"},
		"properties": map[string]any{"id": integer, "name": optStr, "default_code": optStr, "barcode": optStr},
	}
	lineItems = map[string]any{
		"type":        "array",
		"description": "The document's lines with product, quantity and prices, read from Odoo (enriched events only).",
		"items": map[string]any{
			"type": "object", "required": []string{"id", "product", "quantity"},
			"properties": map[string]any{
				"id": integer, "product": productObj, "description": optStr, "quantity": optNum, "demand": optNum,
				"price_unit": optNum, "discount": optNum, "subtotal": optNum, "total": optNum,
			},
		},
	}
	carrierObj = map[string]any{
		"type": "object", "required": []string{"id", "name", "tracking_ref"},
		"description": "The carrier and tracking reference (enriched events only); the tracking reference may come in a later write.",
		"properties":  map[string]any{"id": optInt, "name": optStr, "tracking_ref": optStr},
	}
)

// enrichedProps lists, per event type, the objects enrichment adds.
var enrichedProps = map[string]map[string]any{
	"order.confirmed": {"customer": partnerObj, "invoice_address": partnerObj, "shipping_address": partnerObj,
		"currency": currencyObj, "line_items": lineItems},
	"order.cancelled": {"customer": partnerObj, "invoice_address": partnerObj, "shipping_address": partnerObj,
		"currency": currencyObj, "line_items": lineItems},
	"shipment.dispatched": {"customer": partnerObj, "carrier": carrierObj, "order": namedRef, "line_items": lineItems},
	"return.received":     {"customer": partnerObj, "carrier": carrierObj, "order": namedRef, "line_items": lineItems},
	"inventory.adjusted":  {"product": productObj, "location": namedRef},
	"product.updated":     {"currency": currencyObj, "category": namedRef},
	"customer.created":    {"country": namedRef},
	"invoice.posted":      {"customer": partnerObj, "currency": currencyObj, "line_items": lineItems},
	"invoice.paid":        {"customer": partnerObj, "currency": currencyObj, "line_items": lineItems},
	"refund.issued":       {"customer": partnerObj, "currency": currencyObj, "line_items": lineItems},
	"pos.order.paid":      {"customer": partnerObj, "currency": currencyObj, "line_items": lineItems},
	"payment.received":    {"customer": partnerObj, "currency": currencyObj},
}

// withEnriched returns the properties of type name with the enriched
// objects added.
func withEnriched(name string, props map[string]any) map[string]any {
	extra := enrichedProps[name]
	if len(extra) == 0 {
		return props
	}
	out := make(map[string]any, len(props)+len(extra))
	for k, v := range props {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}
