package odootest

// FieldDef describes one field of a fake model.
type FieldDef struct {
	Type     string // char, text, selection, integer, float, monetary, boolean, date, datetime, many2one, one2many, many2many
	Relation string // comodel of relational fields
	// MinVersion and MaxVersion bound the Odoo versions that have the
	// field (0: no bound).
	MinVersion, MaxVersion int
}

func char() FieldDef          { return FieldDef{Type: "char"} }
func sel() FieldDef           { return FieldDef{Type: "selection"} }
func num() FieldDef           { return FieldDef{Type: "float"} }
func money() FieldDef         { return FieldDef{Type: "monetary"} }
func integer() FieldDef       { return FieldDef{Type: "integer"} }
func boolean() FieldDef       { return FieldDef{Type: "boolean"} }
func date() FieldDef          { return FieldDef{Type: "date"} }
func datetime() FieldDef      { return FieldDef{Type: "datetime"} }
func m2o(rel string) FieldDef { return FieldDef{Type: "many2one", Relation: rel} }
func o2m(rel string) FieldDef { return FieldDef{Type: "one2many", Relation: rel} }
func m2m(rel string) FieldDef { return FieldDef{Type: "many2many", Relation: rel} }
func until(f FieldDef, v int) FieldDef {
	f.MaxVersion = v
	return f
}
func since(f FieldDef, v int) FieldDef {
	f.MinVersion = v
	return f
}

// schemas are the fake's models: the retail models of ODOO.md with every
// field the fixtures carry, plus what enrichment reads. Every model also
// gets id, display_name, create_date, write_date, create_uid and write_uid.
var schemas = map[string]map[string]FieldDef{
	"sale.order": {
		"name": char(), "state": sel(), "partner_id": m2o("res.partner"), "partner_invoice_id": m2o("res.partner"),
		"partner_shipping_id": m2o("res.partner"), "currency_id": m2o("res.currency"), "company_id": m2o("res.company"),
		"amount_untaxed": money(), "amount_tax": money(), "amount_total": money(), "client_order_ref": char(),
		"commitment_date": datetime(), "date_order": datetime(), "delivery_status": sel(), "invoice_status": sel(),
		"locked": boolean(), "order_line": o2m("sale.order.line"), "origin": char(), "picking_ids": o2m("stock.picking"),
		"team_id": m2o("crm.team"), "user_id": m2o("res.users"),
	},
	"sale.order.line": {
		"order_id": m2o("sale.order"), "product_id": m2o("product.product"), "name": FieldDef{Type: "text"},
		"product_uom_qty": num(), "price_unit": num(), "discount": num(), "price_subtotal": money(),
		"price_total": money(), "display_type": sel(),
	},
	"res.partner": {
		"name": char(), "email": char(), "phone": char(), "mobile": until(char(), 18), "street": char(),
		"street2": char(), "city": char(), "zip": char(), "country_id": m2o("res.country"), "state_id": m2o("res.country.state"),
		"company_id": m2o("res.company"), "customer_rank": integer(), "is_company": boolean(), "lang": sel(),
		"parent_id": m2o("res.partner"), "ref": char(), "type": sel(), "vat": char(),
	},
	"res.currency": {"name": char(), "symbol": char()},
	"res.country":  {"name": char(), "code": char()},
	"res.users":    {"name": char(), "login": char()},
	"res.company":  {"name": char()},
	"product.product": {
		"name": char(), "default_code": char(), "barcode": char(), "list_price": num(), "lst_price": num(),
		"product_tmpl_id": m2o("product.template"), "active": boolean(), "categ_id": m2o("product.category"),
		"currency_id": m2o("res.currency"),
	},
	"product.template": {
		"name": char(), "active": boolean(), "barcode": char(), "categ_id": m2o("product.category"),
		"currency_id": m2o("res.currency"), "default_code": char(), "is_storable": since(boolean(), 18),
		"list_price": num(), "product_variant_ids": o2m("product.product"), "sale_ok": boolean(), "type": sel(),
	},
	"product.category": {"name": char()},
	"stock.picking": {
		"name": char(), "state": sel(), "backorder_id": m2o("stock.picking"), "carrier_id": m2o("delivery.carrier"),
		"carrier_tracking_ref": char(), "company_id": m2o("res.company"), "date_done": datetime(),
		"location_dest_id": m2o("stock.location"), "location_id": m2o("stock.location"), "move_ids": o2m("stock.move"),
		"origin": char(), "partner_id": m2o("res.partner"), "picking_type_code": sel(),
		"picking_type_id": m2o("stock.picking.type"), "return_id": m2o("stock.picking"), "sale_id": m2o("sale.order"),
		"scheduled_date": datetime(),
	},
	"stock.move": {
		"picking_id": m2o("stock.picking"), "product_id": m2o("product.product"), "product_uom_qty": num(), "quantity": num(),
	},
	"delivery.carrier":   {"name": char()},
	"stock.location":     {"name": char()},
	"stock.picking.type": {"name": char()},
	"stock.quant": {
		"available_quantity": num(), "company_id": m2o("res.company"), "in_date": datetime(),
		"location_id": m2o("stock.location"), "lot_id": m2o("stock.lot"), "owner_id": m2o("res.partner"),
		"package_id": m2o("stock.quant.package"), "product_id": m2o("product.product"), "product_uom_id": m2o("uom.uom"),
		"quantity": num(), "reserved_quantity": num(),
	},
	"account.move": {
		"name": char(), "state": sel(), "amount_residual": money(), "amount_tax": money(), "amount_total": money(),
		"amount_untaxed": money(), "company_id": m2o("res.company"), "currency_id": m2o("res.currency"),
		"invoice_date": date(), "invoice_date_due": date(), "invoice_line_ids": o2m("account.move.line"),
		"invoice_origin": char(), "journal_id": m2o("account.journal"),
		"matched_payment_ids": since(m2m("account.payment"), 18), "move_type": sel(), "partner_id": m2o("res.partner"),
		"payment_reference": char(), "payment_state": sel(), "ref": char(), "reversed_entry_id": m2o("account.move"),
	},
	"account.move.line": {
		"move_id": m2o("account.move"), "product_id": m2o("product.product"), "name": char(), "quantity": num(),
		"price_unit": num(), "discount": num(), "price_subtotal": money(), "price_total": money(), "display_type": sel(),
	},
	"account.payment": {
		"name": char(), "state": sel(), "amount": money(), "company_id": m2o("res.company"),
		"currency_id": m2o("res.currency"), "date": date(), "is_matched": boolean(), "is_reconciled": boolean(),
		"journal_id": m2o("account.journal"), "memo": since(char(), 18), "move_id": m2o("account.move"),
		"partner_id": m2o("res.partner"), "partner_type": sel(),
		"payment_method_line_id": m2o("account.payment.method.line"), "payment_type": sel(),
		"reconciled_invoice_ids": m2m("account.move"),
	},
	"pos.order": {
		"name": char(), "state": sel(), "account_move": m2o("account.move"), "amount_paid": num(), "amount_return": num(),
		"amount_tax": num(), "amount_total": num(), "company_id": m2o("res.company"), "config_id": m2o("pos.config"),
		"currency_id": m2o("res.currency"), "date_order": datetime(), "is_refund": since(boolean(), 18),
		"lines": o2m("pos.order.line"), "partner_id": m2o("res.partner"), "payment_ids": o2m("pos.payment"),
		"pos_reference": char(), "session_id": m2o("pos.session"), "user_id": m2o("res.users"),
	},
	"pos.order.line": {
		"order_id": m2o("pos.order"), "product_id": m2o("product.product"), "full_product_name": char(), "qty": num(),
		"price_unit": num(), "discount": num(), "price_subtotal": num(), "price_subtotal_incl": num(),
	},
}

// magic are the fields every model has.
var magic = map[string]FieldDef{
	"id": integer(), "display_name": char(), "create_date": datetime(), "write_date": datetime(),
	"create_uid": m2o("res.users"), "write_uid": m2o("res.users"),
}

// fieldsOf returns model's fields in version v.
func fieldsOf(model string, v int) (map[string]FieldDef, bool) {
	s, ok := schemas[model]
	if !ok {
		return nil, false
	}
	out := make(map[string]FieldDef, len(s)+len(magic))
	for k, f := range magic {
		out[k] = f
	}
	for k, f := range s {
		if (f.MinVersion != 0 && v < f.MinVersion) || (f.MaxVersion != 0 && v > f.MaxVersion) {
			continue
		}
		out[k] = f
	}
	return out, true
}
