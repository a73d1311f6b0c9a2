package odoo

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// Reader is the part of Client that enrichment uses.
type Reader interface {
	Read(ctx context.Context, model string, ids []int64, fields []string) ([]map[string]any, error)
	SearchRead(ctx context.Context, model string, domain []any, fields []string, order string, limit, offset int) ([]map[string]any, error)
}

var _ Reader = (*Client)(nil)

// The keys Expand adds to an event's data. They never clash with an Odoo
// field of the model they are added to (pos.order has a native "lines"
// field, hence "line_items").
const (
	KeyCustomer        = "customer"
	KeyInvoiceAddress  = "invoice_address"
	KeyShippingAddress = "shipping_address"
	KeyCurrency        = "currency"
	KeyLineItems       = "line_items"
	KeyCarrier         = "carrier"
	KeyOrder           = "order"
	KeyProduct         = "product"
	KeyLocation        = "location"
	KeyCategory        = "category"
	KeyCountry         = "country"
)

// ExpandFields returns the fields of model that Expand needs from the
// record itself, beyond those the event already has.
func ExpandFields(model string) []string {
	switch model {
	case "sale.order":
		return []string{"partner_id", "partner_invoice_id", "partner_shipping_id", "currency_id"}
	case "stock.picking":
		return []string{"partner_id", "carrier_id", "carrier_tracking_ref", "sale_id"}
	case "account.move":
		return []string{"partner_id", "currency_id"}
	case "account.payment":
		return []string{"partner_id", "currency_id"}
	case "pos.order":
		return []string{"partner_id", "currency_id"}
	case "stock.quant":
		return []string{"product_id", "location_id"}
	case "product.template", "product.product":
		return []string{"currency_id", "categ_id"}
	case "res.partner":
		return []string{"country_id"}
	}
	return nil
}

// Expand reads what rec refers to and returns the objects to add to its
// event's data: customer and addresses with their names, the currency
// code, order, invoice, picking and POS lines with product, quantity and
// price, the picking's carrier and tracking reference, a quant's product
// and location. rec is the record as the API read it (many2one values as
// [id, "name"]), with at least ExpandFields(model). Models it does not know
// give an empty map.
func Expand(ctx context.Context, r Reader, model string, rec map[string]any) (map[string]any, error) {
	id, ok := intOf(rec["id"])
	if !ok {
		return nil, fmt.Errorf("odoo: expand %s: the record has no id", model)
	}
	out := map[string]any{}
	var err error
	switch model {
	case "sale.order":
		err = expandPartners(ctx, r, rec, out, map[string]string{
			"partner_id": KeyCustomer, "partner_invoice_id": KeyInvoiceAddress, "partner_shipping_id": KeyShippingAddress,
		})
		expandCurrency(rec, out)
		if err == nil {
			err = expandLines(ctx, r, out, "sale.order.line", []any{[]any{"order_id", "=", id}},
				[]string{"product_id", "name", "product_uom_qty", "price_unit", "discount", "price_subtotal", "price_total", "display_type"},
				lineSpec{qty: "product_uom_qty", price: "price_unit", subtotal: "price_subtotal", total: "price_total", description: "name"})
		}
	case "stock.picking":
		err = expandPartners(ctx, r, rec, out, map[string]string{"partner_id": KeyCustomer})
		carrier := map[string]any{"id": nil, "name": nil, "tracking_ref": nil}
		if cid, name, ok := Many2one(rec["carrier_id"]); ok {
			carrier["id"], carrier["name"] = cid, name
		}
		if ref, ok := rec["carrier_tracking_ref"].(string); ok && ref != "" {
			carrier["tracking_ref"] = ref
		}
		out[KeyCarrier] = carrier
		if sid, name, ok := Many2one(rec["sale_id"]); ok {
			out[KeyOrder] = map[string]any{"id": sid, "name": name}
		}
		if err == nil {
			err = expandLines(ctx, r, out, "stock.move", []any{[]any{"picking_id", "=", id}},
				[]string{"product_id", "product_uom_qty", "quantity"},
				lineSpec{qty: "quantity", demand: "product_uom_qty"})
		}
	case "account.move":
		err = expandPartners(ctx, r, rec, out, map[string]string{"partner_id": KeyCustomer})
		expandCurrency(rec, out)
		if err == nil {
			err = expandLines(ctx, r, out, "account.move.line",
				[]any{[]any{"move_id", "=", id}, []any{"display_type", "=", "product"}},
				[]string{"product_id", "name", "quantity", "price_unit", "discount", "price_subtotal", "price_total"},
				lineSpec{qty: "quantity", price: "price_unit", subtotal: "price_subtotal", total: "price_total", description: "name"})
		}
	case "account.payment":
		err = expandPartners(ctx, r, rec, out, map[string]string{"partner_id": KeyCustomer})
		expandCurrency(rec, out)
	case "pos.order":
		err = expandPartners(ctx, r, rec, out, map[string]string{"partner_id": KeyCustomer})
		expandCurrency(rec, out)
		if err == nil {
			err = expandLines(ctx, r, out, "pos.order.line", []any{[]any{"order_id", "=", id}},
				[]string{"product_id", "full_product_name", "qty", "price_unit", "discount", "price_subtotal", "price_subtotal_incl"},
				lineSpec{qty: "qty", price: "price_unit", subtotal: "price_subtotal", total: "price_subtotal_incl", description: "full_product_name"})
		}
	case "stock.quant":
		if pid, _, ok := Many2one(rec["product_id"]); ok {
			var products map[int64]map[string]any
			products, err = readProducts(ctx, r, []int64{pid})
			if p, ok := products[pid]; ok {
				out[KeyProduct] = p
			}
		}
		if lid, name, ok := Many2one(rec["location_id"]); ok {
			out[KeyLocation] = map[string]any{"id": lid, "name": name}
		}
	case "product.template", "product.product":
		expandCurrency(rec, out)
		if cid, name, ok := Many2one(rec["categ_id"]); ok {
			out[KeyCategory] = map[string]any{"id": cid, "name": name}
		}
	case "res.partner":
		if cid, name, ok := Many2one(rec["country_id"]); ok {
			out[KeyCountry] = map[string]any{"id": cid, "name": name}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("odoo: expand %s %d: %w", model, id, err)
	}
	return out, nil
}

// expandCurrency adds {"id","code"} for currency_id ([2, "USD"]).
func expandCurrency(rec map[string]any, out map[string]any) {
	if id, code, ok := Many2one(rec["currency_id"]); ok {
		out[KeyCurrency] = map[string]any{"id": id, "code": code}
	} else {
		out[KeyCurrency] = nil
	}
}

// partnerFields are read for every customer and address.
var partnerFields = []string{"name", "display_name", "email", "phone", "street", "street2", "zip", "city", "country_id", "vat", "is_company"}

// expandPartners reads the partners that the many2one fields of rec name
// and adds them under the keys keys maps the fields to.
func expandPartners(ctx context.Context, r Reader, rec, out map[string]any, keys map[string]string) error {
	var ids []int64
	for field, key := range keys {
		out[key] = nil
		if id, _, ok := Many2one(rec[field]); ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	recs, err := r.Read(ctx, "res.partner", uniq(ids), partnerFields)
	if err != nil {
		return err
	}
	byID := map[int64]map[string]any{}
	for _, p := range recs {
		pid, ok := intOf(p["id"])
		if !ok {
			continue
		}
		obj := map[string]any{"id": pid}
		for _, f := range []string{"name", "display_name", "email", "phone", "street", "street2", "zip", "city", "vat"} {
			obj[f] = stringOrNil(p[f])
		}
		obj["is_company"] = p["is_company"] == true
		obj["country"] = nil
		if cid, name, ok := Many2one(p["country_id"]); ok {
			obj["country"] = map[string]any{"id": cid, "name": name}
		}
		byID[pid] = obj
	}
	for field, key := range keys {
		if id, name, ok := Many2one(rec[field]); ok {
			if obj, found := byID[id]; found {
				out[key] = obj
			} else {
				out[key] = map[string]any{"id": id, "name": name}
			}
		}
	}
	return nil
}

// lineSpec names a line model's fields.
type lineSpec struct {
	qty, demand, price, subtotal, total, description string
}

// expandLines reads the lines of a document and their products.
func expandLines(ctx context.Context, r Reader, out map[string]any, model string, domain []any, fields []string, spec lineSpec) error {
	lines, err := r.SearchRead(ctx, model, domain, fields, "id", 0, 0)
	if err != nil {
		return err
	}
	var pids []int64
	for _, l := range lines {
		if pid, _, ok := Many2one(l["product_id"]); ok {
			pids = append(pids, pid)
		}
	}
	products, err := readProducts(ctx, r, uniq(pids))
	if err != nil {
		return err
	}
	items := make([]any, 0, len(lines))
	for _, l := range lines {
		if dt, ok := l["display_type"].(string); ok && dt != "" && dt != "product" {
			continue // section and note lines of a sales order
		}
		item := map[string]any{"id": l["id"], "product": nil}
		if pid, name, ok := Many2one(l["product_id"]); ok {
			if p, found := products[pid]; found {
				item["product"] = p
			} else {
				item["product"] = map[string]any{"id": pid, "name": name, "default_code": nil, "barcode": nil}
			}
		}
		put := func(key, field string) {
			if field != "" {
				item[key] = numberOrNil(l[field])
			}
		}
		put("quantity", spec.qty)
		put("demand", spec.demand)
		put("price_unit", spec.price)
		put("subtotal", spec.subtotal)
		put("total", spec.total)
		if f := spec.price; f != "" {
			item["discount"] = numberOrNil(l["discount"])
		}
		if spec.description != "" {
			item["description"] = stringOrNil(l[spec.description])
		}
		items = append(items, item)
	}
	out[KeyLineItems] = items
	return nil
}

// readProducts reads product.product names and codes by id.
func readProducts(ctx context.Context, r Reader, ids []int64) (map[int64]map[string]any, error) {
	out := map[int64]map[string]any{}
	if len(ids) == 0 {
		return out, nil
	}
	recs, err := r.Read(ctx, "product.product", ids, []string{"name", "default_code", "barcode"})
	if err != nil {
		return nil, err
	}
	for _, p := range recs {
		pid, ok := intOf(p["id"])
		if !ok {
			continue
		}
		out[pid] = map[string]any{
			"id": pid, "name": stringOrNil(p["name"]), "default_code": stringOrNil(p["default_code"]),
			"barcode": stringOrNil(p["barcode"]),
		}
	}
	return out, nil
}

// stringOrNil keeps strings and turns Odoo's false into null.
func stringOrNil(v any) any {
	if s, ok := v.(string); ok {
		return s
	}
	return nil
}

// numberOrNil keeps numbers and turns Odoo's false into null.
func numberOrNil(v any) any {
	switch x := v.(type) {
	case json.Number:
		return x
	case float64:
		return json.Number(strconv.FormatFloat(x, 'f', -1, 64))
	}
	return nil
}

// uniq sorts and de-duplicates ids.
func uniq(ids []int64) []int64 {
	if len(ids) < 2 {
		return ids
	}
	s := append([]int64(nil), ids...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	out := s[:1]
	for _, v := range s[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}
