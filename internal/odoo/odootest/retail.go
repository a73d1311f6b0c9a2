package odootest

import "fmt"

// Ids of the records SeedRetail creates; they match the fixtures'
// made-up database (customer 58, currency 2 = USD, country 57 = Germany,
// WH/Stock 8, Partners/Customers 5).
const (
	CompanyID       int64 = 1
	CurrencyUSD     int64 = 2
	CountryGermany  int64 = 57
	CustomerZoe     int64 = 58
	ShippingZoe     int64 = 59
	CustomerKai     int64 = 61
	LocationStock   int64 = 8
	LocationCustomr int64 = 5
	CarrierDHL      int64 = 1
	ProductPillow   int64 = 41
	ProductThrow    int64 = 42
	ProductCandle   int64 = 43
)

// SeedRetail creates the master data the retail documents refer to.
func (s *Server) SeedRetail() {
	s.Create("res.company", CompanyID, map[string]any{"name": "Linen & Co"})
	s.Create("res.currency", CurrencyUSD, map[string]any{"name": "USD", "symbol": "$"})
	s.Create("res.country", CountryGermany, map[string]any{"name": "Germany", "code": "DE"})
	s.Create("res.partner", CustomerZoe, map[string]any{
		"name": "Zoë Müller", "email": "zoe.mueller@example.com", "phone": "+49 30 1234567",
		"street": "Oranienstraße 12", "city": "Berlin", "zip": "10999", "country_id": CountryGermany,
		"customer_rank": 1, "type": "contact", "lang": "de_DE",
	})
	s.Create("res.partner", ShippingZoe, map[string]any{
		"name": "Zoë Müller (Lager)", "street": "Am Speicher 3", "city": "Hamburg", "zip": "20457",
		"country_id": CountryGermany, "parent_id": CustomerZoe, "type": "delivery",
	})
	s.Create("res.partner", CustomerKai, map[string]any{
		"name": "Kai Øster", "email": "kai@example.com", "city": "Copenhagen", "customer_rank": 1, "type": "contact",
	})
	s.Create("stock.location", LocationStock, map[string]any{"name": "WH/Stock"})
	s.Create("stock.location", LocationCustomr, map[string]any{"name": "Partners/Customers"})
	s.Create("delivery.carrier", CarrierDHL, map[string]any{"name": "DHL Express"})
	s.Create("product.category", 9, map[string]any{"name": "Home / Textiles"})
	s.Create("product.template", 36, map[string]any{
		"name": "Linen Throw Pillow", "default_code": "PIL-LIN-45", "list_price": 34.9, "currency_id": CurrencyUSD,
		"categ_id": 9, "sale_ok": true, "active": true, "type": "consu", "product_variant_ids": []int64{ProductPillow},
	})
	for _, p := range []struct {
		id         int64
		name, code string
		price      float64
	}{
		{ProductPillow, "Linen Throw Pillow", "PIL-LIN-45", 34.9},
		{ProductThrow, "Wool Throw Blanket", "THR-WOL-01", 89.0},
		{ProductCandle, "Beeswax Candle", "CAN-BEE-02", 12.5},
	} {
		s.Create("product.product", p.id, map[string]any{
			"name": p.name, "default_code": p.code, "barcode": fmt.Sprintf("59012341%05d", p.id), "list_price": p.price,
			"lst_price": p.price, "product_tmpl_id": 36, "active": true, "categ_id": 9, "currency_id": CurrencyUSD,
		})
	}
}

// Line is one order line for the document helpers.
type Line struct {
	Product  int64
	Quantity float64
	Price    float64
}

// lineAmounts returns untaxed, tax (15 %) and total of lines.
func lineAmounts(lines []Line) (untaxed, tax, total float64) {
	for _, l := range lines {
		untaxed += l.Quantity * l.Price
	}
	tax = float64(int64(untaxed*15+0.5)) / 100
	return untaxed, tax, untaxed + tax
}

// NewQuotation creates a draft sale.order with lines and returns its id.
func (s *Server) NewQuotation(partner int64, lines ...Line) int64 {
	untaxed, tax, total := lineAmounts(lines)
	s.mu.Lock()
	id := s.models["sale.order"].next
	s.mu.Unlock()
	var lineIDs []int64
	for _, l := range lines {
		lineIDs = append(lineIDs, s.Create("sale.order.line", 0, map[string]any{
			"order_id": id, "product_id": l.Product, "name": s.displayNameLocked("product.product", l.Product),
			"product_uom_qty": l.Quantity, "price_unit": l.Price, "discount": 0.0,
			"price_subtotal": l.Quantity * l.Price, "price_total": l.Quantity * l.Price * 1.15, "display_type": false,
		}))
	}
	return s.Create("sale.order", id, map[string]any{
		"name": fmt.Sprintf("S%05d", id), "state": "draft", "partner_id": partner, "partner_invoice_id": partner,
		"partner_shipping_id": partner, "currency_id": CurrencyUSD, "company_id": CompanyID,
		"amount_untaxed": untaxed, "amount_tax": tax, "amount_total": total, "order_line": lineIDs,
		"date_order": s.o.Clock(), "invoice_status": "no", "user_id": int64(2), "team_id": int64(1),
	})
}

// NewDelivery creates an outgoing picking, ready to validate, for an order.
func (s *Server) NewDelivery(order int64, partner int64, lines ...Line) int64 {
	s.mu.Lock()
	id := s.models["stock.picking"].next
	s.mu.Unlock()
	var moves []int64
	for _, l := range lines {
		moves = append(moves, s.Create("stock.move", 0, map[string]any{
			"picking_id": id, "product_id": l.Product, "product_uom_qty": l.Quantity, "quantity": l.Quantity,
		}))
	}
	return s.Create("stock.picking", id, map[string]any{
		"name": fmt.Sprintf("WH/OUT/%05d", id), "state": "assigned", "picking_type_code": "outgoing",
		"partner_id": partner, "sale_id": order, "carrier_id": CarrierDHL, "location_id": LocationStock,
		"location_dest_id": LocationCustomr, "move_ids": moves, "company_id": CompanyID, "scheduled_date": s.o.Clock(),
	})
}

// NewInvoice creates a draft customer invoice with lines.
func (s *Server) NewInvoice(partner int64, lines ...Line) int64 {
	untaxed, tax, total := lineAmounts(lines)
	s.mu.Lock()
	id := s.models["account.move"].next
	s.mu.Unlock()
	var lineIDs []int64
	for _, l := range lines {
		lineIDs = append(lineIDs, s.Create("account.move.line", 0, map[string]any{
			"move_id": id, "product_id": l.Product, "name": s.displayNameLocked("product.product", l.Product),
			"quantity": l.Quantity, "price_unit": l.Price, "discount": 0.0, "price_subtotal": l.Quantity * l.Price,
			"price_total": l.Quantity * l.Price * 1.15, "display_type": "product",
		}))
	}
	return s.Create("account.move", id, map[string]any{
		"name": false, "state": "draft", "move_type": "out_invoice", "partner_id": partner, "currency_id": CurrencyUSD,
		"company_id": CompanyID, "amount_untaxed": untaxed, "amount_tax": tax, "amount_total": total,
		"amount_residual": total, "invoice_line_ids": lineIDs, "payment_state": "not_paid", "journal_id": int64(1),
	})
}

// NewPOSOrder creates a draft point-of-sale order with lines.
func (s *Server) NewPOSOrder(partner int64, lines ...Line) int64 {
	untaxed, tax, total := lineAmounts(lines)
	s.mu.Lock()
	id := s.models["pos.order"].next
	s.mu.Unlock()
	var lineIDs []int64
	for _, l := range lines {
		lineIDs = append(lineIDs, s.Create("pos.order.line", 0, map[string]any{
			"order_id": id, "product_id": l.Product, "full_product_name": s.displayNameLocked("product.product", l.Product),
			"qty": l.Quantity, "price_unit": l.Price, "discount": 0.0, "price_subtotal": l.Quantity * l.Price,
			"price_subtotal_incl": l.Quantity * l.Price * 1.15,
		}))
	}
	_ = untaxed
	return s.Create("pos.order", id, map[string]any{
		"name": fmt.Sprintf("Shop/%04d", id), "state": "draft", "partner_id": partner, "currency_id": CurrencyUSD,
		"company_id": CompanyID, "amount_tax": tax, "amount_total": total, "amount_paid": 0.0, "amount_return": 0.0,
		"lines": lineIDs, "date_order": s.o.Clock(), "pos_reference": fmt.Sprintf("Order 00012-003-%04d", id),
		"session_id": int64(12), "config_id": int64(1), "user_id": int64(2),
	})
}

// displayNameLocked is displayName taking the lock.
func (s *Server) displayNameLocked(model string, id int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.displayName(model, id)
}

// RetailAutomations returns the automation rules README "Connect your
// Odoo" tells admins to create, posting to ingestURL: one per default
// mapping, each selecting the fields of the matching fixture plus
// write_uid, with the gateway's own user excluded from the domain.
func (s *Server) RetailAutomations(ingestURL string) []Automation {
	uid := s.o.UID
	notBot := func(r map[string]any) bool { return r["write_uid"] != uid }
	is := func(field string, v any) func(map[string]any) bool {
		return func(r map[string]any) bool { return r[field] == v }
	}
	all := func(fs ...func(map[string]any) bool) func(map[string]any) bool {
		return func(r map[string]any) bool {
			for _, f := range fs {
				if !f(r) {
					return false
				}
			}
			return true
		}
	}
	orderFields := []string{"amount_tax", "amount_total", "amount_untaxed", "client_order_ref", "commitment_date",
		"company_id", "currency_id", "date_order", "delivery_status", "invoice_status", "locked", "name", "order_line",
		"origin", "partner_id", "partner_invoice_id", "partner_shipping_id", "picking_ids", "state", "team_id",
		"user_id", "write_date", "write_uid"}
	pickingFields := []string{"backorder_id", "carrier_id", "carrier_tracking_ref", "company_id", "date_done",
		"location_dest_id", "location_id", "move_ids", "name", "origin", "partner_id", "picking_type_code",
		"picking_type_id", "return_id", "sale_id", "scheduled_date", "state", "write_date", "write_uid"}
	moveFields := []string{"amount_residual", "amount_tax", "amount_total", "amount_untaxed", "company_id",
		"currency_id", "invoice_date", "invoice_date_due", "invoice_line_ids", "invoice_origin", "journal_id",
		"matched_payment_ids", "move_type", "name", "partner_id", "payment_reference", "payment_state", "ref",
		"reversed_entry_id", "state", "write_date", "write_uid"}
	posFields := []string{"account_move", "amount_paid", "amount_return", "amount_tax", "amount_total", "company_id",
		"config_id", "currency_id", "date_order", "is_refund", "lines", "name", "partner_id", "payment_ids",
		"pos_reference", "session_id", "state", "user_id", "write_date", "write_uid"}
	return []Automation{
		{ID: 41, Name: "Gateway: order confirmed", Model: "sale.order", Trigger: []string{"state"},
			Match: all(is("state", "sale"), notBot), Fields: orderFields, URL: ingestURL},
		{ID: 42, Name: "Gateway: order cancelled", Model: "sale.order", Trigger: []string{"state"},
			Match: all(is("state", "cancel"), notBot), Fields: orderFields, URL: ingestURL},
		{ID: 43, Name: "Gateway: delivery done", Model: "stock.picking", Trigger: []string{"state"},
			Match: all(is("state", "done"), is("picking_type_code", "outgoing"), notBot), Fields: pickingFields, URL: ingestURL},
		{ID: 47, Name: "Gateway: invoice posted", Model: "account.move", Trigger: []string{"state"},
			Match: all(is("state", "posted"), is("move_type", "out_invoice"), notBot), Fields: moveFields, URL: ingestURL},
		{ID: 50, Name: "Gateway: POS order paid", Model: "pos.order", Trigger: []string{"state"},
			Match: all(is("state", "paid"), notBot), Fields: posFields, URL: ingestURL},
	}
}
