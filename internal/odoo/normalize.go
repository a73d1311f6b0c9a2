package odoo

import "strings"

// Normalize returns a normalised deep copy of fields, the values of one
// record of model; fields itself is not modified. ParseWebhook applies the
// same rules to every body.
//
//   - A string "YYYY-MM-DD HH:MM:SS" with an optional ".f" to ".ffffff"
//     (Odoo's naive UTC datetime) becomes RFC 3339 in UTC, keeping the
//     fraction as sent: "2025-03-14 09:41:06.912345" becomes
//     "2025-03-14T09:41:06.912345Z". A date "YYYY-MM-DD" stays as it is.
//   - false, Odoo's way of saying "empty", becomes nil (JSON null), except
//     on a boolean field (see IsBooleanField) and inside an array that also
//     holds true, where false is a real value. true is always kept.
//   - Arrays (lists of ids) stay arrays and objects stay objects; their
//     contents are normalised the same way, keys of nested objects being
//     judged as fields of model.
//   - Everything else, json.Number included, is kept as it is.
//
// Normalize is idempotent.
func Normalize(model string, fields map[string]any) map[string]any {
	if fields == nil {
		return nil
	}
	n := normalizer{model: model, bools: knownBoolean[model], copy: true}
	return n.object(fields)
}

// IsBooleanField reports whether field of model is an Odoo Boolean field,
// whose false is a value rather than "empty". It knows the boolean fields of
// the retail models hookgate maps (as of Odoo 17, 18 and 19) and the
// mail.thread flags, and otherwise follows Odoo's naming habit: a field
// named "active", or starting with "is_", "has_" or "to_", or ending in
// "_ok" is boolean.
func IsBooleanField(model, field string) bool {
	if _, ok := knownBoolean[model][field]; ok {
		return true
	}
	return booleanByName(field)
}

// booleanByName applies the model-independent part of IsBooleanField.
func booleanByName(field string) bool {
	if _, ok := commonBoolean[field]; ok {
		return true
	}
	return field == "active" ||
		strings.HasPrefix(field, "is_") ||
		strings.HasPrefix(field, "has_") ||
		strings.HasPrefix(field, "to_") ||
		strings.HasSuffix(field, "_ok")
}

// normalizer carries what normalising one record needs.
type normalizer struct {
	model string
	bools map[string]struct{} // knownBoolean[model], looked up once
	copy  bool                // build new maps and slices instead of rewriting in place
}

// isBoolean is IsBooleanField with the model's set already looked up.
func (n *normalizer) isBoolean(field string) bool {
	if _, ok := n.bools[field]; ok {
		return true
	}
	return booleanByName(field)
}

// object normalises the values of m, in place unless n.copy is set.
func (n *normalizer) object(m map[string]any) map[string]any {
	out := m
	if n.copy {
		out = make(map[string]any, len(m))
	}
	for k, v := range m {
		out[k] = n.value(v, n.isBoolean(k))
	}
	return out
}

// value normalises one value; boolean says whether false is a real value here.
func (n *normalizer) value(v any, boolean bool) any {
	switch x := v.(type) {
	case bool:
		if !x && !boolean {
			return nil
		}
		return x
	case string:
		if s, ok := odooDatetimeToRFC3339(x); ok {
			return s
		}
		return x
	case []any:
		elemBoolean := boolean || containsTrue(x)
		out := x
		if n.copy {
			out = make([]any, len(x))
		}
		for i, e := range x {
			out[i] = n.value(e, elemBoolean)
		}
		return out
	case map[string]any:
		return n.object(x)
	default:
		return v
	}
}

// containsTrue reports whether list holds the boolean true, which makes its
// false elements real booleans too.
func containsTrue(list []any) bool {
	for _, e := range list {
		if b, ok := e.(bool); ok && b {
			return true
		}
	}
	return false
}

// odooDatetimeToRFC3339 converts Odoo's naive UTC datetime
// "YYYY-MM-DD HH:MM:SS[.f{1,6}]" to "YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z". ok is
// false, and s is left alone, for any other string, including impossible
// dates such as February 30. It checks the byte layout by hand because it
// runs on every string of every body.
func odooDatetimeToRFC3339(s string) (string, bool) {
	n := len(s)
	if n != 19 && (n < 21 || n > 26) {
		return "", false
	}
	if s[10] != ' ' || !validDate(s[:10]) || !validClock(s[11:19]) {
		return "", false
	}
	if n > 19 {
		if s[19] != '.' || !allDigits(s[20:]) {
			return "", false
		}
	}
	var b strings.Builder
	b.Grow(n + 1)
	b.WriteString(s[:10])
	b.WriteByte('T')
	b.WriteString(s[11:])
	b.WriteByte('Z')
	return b.String(), true
}

// validDate reports whether s is a real date "YYYY-MM-DD".
func validDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' ||
		!allDigits(s[0:4]) || !allDigits(s[5:7]) || !allDigits(s[8:10]) {
		return false
	}
	year := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	month := twoDigits(s[5:7])
	day := twoDigits(s[8:10])
	return month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month)
}

// validClock reports whether s is a time of day "HH:MM:SS".
func validClock(s string) bool {
	if len(s) != 8 || s[2] != ':' || s[5] != ':' ||
		!allDigits(s[0:2]) || !allDigits(s[3:5]) || !allDigits(s[6:8]) {
		return false
	}
	return twoDigits(s[0:2]) <= 23 && twoDigits(s[3:5]) <= 59 && twoDigits(s[6:8]) <= 59
}

// daysIn returns the number of days in month of year (proleptic Gregorian).
func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	default:
		return 31
	}
}

// twoDigits returns the value of two ASCII digits.
func twoDigits(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }

// allDigits reports whether s is non-empty and only ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// set builds a lookup set.
func set(names ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(names))
	for _, name := range names {
		m[name] = struct{}{}
	}
	return m
}

// commonBoolean holds the boolean fields that mail.thread adds to most
// models and that the naming rule would miss.
var commonBoolean = set(
	"message_is_follower", "message_needaction", "message_has_error", "message_has_sms_error",
	"website_published",
)

// productBoolean holds the boolean fields shared by product.template and
// product.product.
var productBoolean = []string{
	"active", "sale_ok", "purchase_ok", "is_storable", "rent_ok", "available_in_pos",
	"can_be_expensed", "can_image_1024_be_zoomed", "has_configurable_attributes",
	"is_favorite", "is_published", "is_kits", "use_expiration_date", "to_weight",
	"self_order_available", "allow_out_of_stock_order", "show_availability",
	"show_on_hand_qty_status_button", "show_forecasted_qty_status_button",
}

// knownBoolean lists, per model, the Boolean fields of Odoo 17, 18 and 19
// that a webhook may carry. Names that left or joined a version are kept:
// a field missing from a version is simply never sent. Read-only.
var knownBoolean = map[string]map[string]struct{}{
	"sale.order": set(
		"locked", "require_signature", "require_payment", "show_update_pricelist",
		"show_update_fpos", "show_json_popover", "delivery_set", "recompute_delivery_price",
		"is_expired", "has_archived_products", "has_active_pricelist", "is_all_service",
		"is_abandoned_cart",
	),
	"stock.picking": set(
		"printed", "is_locked", "immediate_transfer", "show_check_availability",
		"show_allocation", "show_operations", "show_reserved", "show_lots_text",
		"show_validate", "use_create_lots", "use_existing_lots", "hide_picking_type",
		"picking_type_entire_packs", "has_tracking", "has_scrap_move", "has_packages",
		"has_deadline_issue", "is_return_picking", "is_signed", "is_date_editable",
		"is_dropship",
	),
	"stock.quant": set(
		"inventory_quantity_set", "on_hand", "sn_duplicated", "is_outdated", "is_favorite",
	),
	"product.template": set(productBoolean...),
	"product.product":  set(append([]string{"is_product_variant"}, productBoolean...)...),
	"res.partner": set(
		"active", "is_company", "employee", "partner_share", "is_public", "is_blacklisted",
		"has_unreconciled_entries", "ignore_abnormal_invoice_date",
		"ignore_abnormal_invoice_amount", "show_credit_limit", "use_partner_credit_limit",
		"is_coa_installed", "is_published",
	),
	"pos.order": set(
		"is_refund", "to_invoice", "is_invoiced", "is_tipped", "is_total_cost_computed",
		"has_refundable_lines", "is_edited", "to_ship",
	),
	"account.payment": set(
		"is_matched", "is_reconciled", "is_internal_transfer", "is_sent", "is_move_sent",
		"is_donation", "require_partner_bank_account", "show_partner_bank_account",
		"show_require_partner_bank", "use_electronic_payment_method", "need_cancel_request",
		"to_check", "checked",
	),
	"account.move": set(
		"is_move_sent", "is_being_sent", "checked", "to_check", "posted_before", "is_storno",
		"always_tax_exigible", "show_name_warning", "invoice_has_outstanding",
		"restrict_mode_hash_table", "show_reset_to_draft_button",
		"show_payment_term_details", "show_discount_details", "quick_edit_mode",
		"need_cancel_request", "display_inactive_currency_warning", "made_sequence_gap",
		"hide_post_button", "display_qr_code", "no_followup", "is_manually_modified",
		"has_reconciled_entries", "is_purchase_matched",
	),
}
