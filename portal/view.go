package portal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/service"
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// funcs are the template helpers.
var funcs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04:05") + " UTC"
		case *time.Time:
			if v == nil || v.IsZero() {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04:05") + " UTC"
		}
		return ""
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"dur": func(d time.Duration) string {
		switch {
		case d <= 0:
			return "0"
		case d < time.Millisecond:
			return fmt.Sprintf("%d µs", d.Microseconds())
		case d < time.Second:
			return fmt.Sprintf("%d ms", d.Milliseconds())
		default:
			return d.Round(100 * time.Millisecond).String()
		}
	},
	"join": strings.Join,
	"has":  slices.Contains[[]string, string],
	"pct":  func(f float64) string { return fmt.Sprintf("%.1f %%", f*100) },
	"num":  func(n int64) string { return groupDigits(n) },
	"headers": func(h map[string]string) []string {
		keys := make([]string, 0, len(h))
		for k := range h {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = k + ": " + h[k]
		}
		return out
	},
	"body": func(b []byte) string {
		if len(b) == 0 {
			return ""
		}
		var buf bytes.Buffer
		if json.Indent(&buf, b, "", "  ") == nil {
			return buf.String()
		}
		return strings.ToValidUTF8(string(b), "�")
	},
	// raw shows a body exactly as sent or received (invalid UTF-8
	// replaced).
	"raw":         func(b []byte) string { return strings.ToValidUTF8(string(b), "�") },
	"statusClass": func(s any) string { return "st-" + fmt.Sprint(s) },
	"httpClass": func(code int) string {
		switch {
		case code >= 200 && code < 300:
			return "st-succeeded"
		case code == 0:
			return "st-pending"
		default:
			return "st-failed"
		}
	},
	"quotaLeft": func(used, limit int64) int64 { return max(0, limit-used) },
	"int64":     func(n int) int64 { return int64(n) },
	"percentOf": func(used, limit int64) int64 {
		if limit <= 0 {
			return 0
		}
		return min(100, used*100/limit)
	},
	"ctitle": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	"scopesDefault": func(sc string) bool { return slices.Contains(domain.PartnerScopes, sc) },
	"revoked": func(k domain.APIKey) bool {
		return k.RevokedAt != nil || (k.ExpiresAt != nil && !k.ExpiresAt.After(time.Now()))
	},
}

func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// activityChart draws the dashboard's stacked bar chart (succeeded,
// failed, held, pending per hour) as inline SVG. Every value written into
// it is a number the portal computed, so it is safe HTML.
func activityChart(buckets []service.ActivityBucket) template.HTML {
	const w, h, pad, axis = 600.0, 160.0, 4.0, 18.0
	var peak int64 = 1
	var total service.ActivityBucket
	for _, b := range buckets {
		peak = max(peak, b.Total())
		total.Succeeded += b.Succeeded
		total.Failed += b.Failed
		total.Held += b.Held
		total.Pending += b.Pending
	}
	n := float64(len(buckets))
	slot := (w - 2*pad) / n
	bar := slot * 0.72
	plot := h - axis - pad
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="chart-title">`, w, h)
	fmt.Fprintf(&sb, `<title id="chart-title">Deliveries in the last 24 hours: %d succeeded, %d failed, %d held, %d pending</title>`,
		total.Succeeded, total.Failed, total.Held, total.Pending)
	fmt.Fprintf(&sb, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="axis"/>`, pad, pad+plot, w-pad, pad+plot)
	for i, b := range buckets {
		x := pad + float64(i)*slot + (slot-bar)/2
		y := pad + plot
		fmt.Fprintf(&sb, `<g><title>%s–%s UTC: %d succeeded, %d failed, %d held, %d pending</title>`,
			b.Start.UTC().Format("15:04"), b.Start.UTC().Add(time.Hour).Format("15:04"), b.Succeeded, b.Failed, b.Held, b.Pending)
		for _, part := range []struct {
			n     int64
			class string
		}{{b.Succeeded, "ok"}, {b.Failed, "bad"}, {b.Held, "held"}, {b.Pending, "pend"}} {
			if part.n == 0 {
				continue
			}
			hh := plot * float64(part.n) / float64(peak)
			y -= hh
			fmt.Fprintf(&sb, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, part.class, x, y, bar, hh)
		}
		// An invisible full-height rect makes the whole slot hoverable.
		fmt.Fprintf(&sb, `<rect class="hit" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/></g>`, pad+float64(i)*slot, pad, slot, plot)
		if i%6 == 0 {
			fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" class="tick">%s</text>`, x, h-4, b.Start.UTC().Format("15:04"))
		}
	}
	fmt.Fprintf(&sb, `<text x="%.1f" y="%.1f" class="tick peak">max %d/h</text>`, pad+2, pad+10, peak)
	sb.WriteString(`</svg>`)
	return template.HTML(sb.String()) //nolint:gosec // numbers and fixed text only
}

// odooStep is one automation rule an Odoo admin creates for a source.
type odooStep struct {
	EventType string
	Model     string
	Trigger   string
	ApplyOn   string
	Fields    string
}

// odooSteps are the automation rules of /work/shared/fixtures/odoo's
// manifest (ODOO.md): one per canonical event type.
var odooSteps = []odooStep{
	{"order.confirmed", "sale.order", "State is set to: Sales Order", "[('state','=','sale')]",
		"name, state, partner_id, partner_invoice_id, partner_shipping_id, date_order, amount_untaxed, amount_tax, amount_total, currency_id, order_line, client_order_ref, write_date"},
	{"order.cancelled", "sale.order", "State is set to: Cancelled", "[('state','=','cancel')]",
		"name, state, partner_id, amount_total, currency_id, order_line, write_date"},
	{"shipment.dispatched", "stock.picking", "State is set to: Done", "[('state','=','done'),('picking_type_code','=','outgoing')]",
		"name, state, picking_type_code, partner_id, origin, sale_id, carrier_id, carrier_tracking_ref, move_ids, date_done, return_id, write_date"},
	{"return.received", "stock.picking", "State is set to: Done", "[('state','=','done'),('picking_type_code','=','incoming'),('return_id','!=',False)]",
		"name, state, picking_type_code, return_id, partner_id, origin, move_ids, date_done, write_date"},
	{"inventory.adjusted", "stock.quant", "On save; When updating: Quantity", "[('location_id.usage','=','internal')]",
		"product_id, location_id, lot_id, package_id, quantity, reserved_quantity, available_quantity, product_uom_id, write_date"},
	{"product.updated", "product.template", "On save; When updating: Sales Price", "(none)",
		"name, default_code, barcode, list_price, currency_id, active, sale_ok, type, write_date"},
	{"customer.created", "res.partner", "On creation", "[('customer_rank','>',0)] (optional)",
		"name, display_name, email, phone, street, city, zip, country_id, vat, is_company, customer_rank, create_date, write_date"},
	{"invoice.posted", "account.move", "State is set to: Posted", "[('state','=','posted'),('move_type','=','out_invoice')]",
		"name, state, move_type, partner_id, invoice_date, invoice_date_due, amount_untaxed, amount_tax, amount_total, amount_residual, currency_id, payment_state, invoice_origin, write_date"},
	{"invoice.paid", "account.move", "On save; When updating: Payment Status", "[('move_type','=','out_invoice'),('payment_state','in',['in_payment','paid'])]",
		"name, state, move_type, payment_state, partner_id, amount_total, amount_residual, currency_id, write_date"},
	{"refund.issued", "account.move", "State is set to: Posted", "[('state','=','posted'),('move_type','=','out_refund')]",
		"name, state, move_type, partner_id, reversed_entry_id, ref, amount_total, currency_id, write_date"},
	{"pos.order.paid", "pos.order", "State is set to: Paid", "[('state','=','paid')]",
		"name, state, pos_reference, partner_id, amount_total, amount_paid, amount_tax, currency_id, lines, payment_ids, session_id, write_date"},
	{"payment.received", "account.payment", "On save; When updating: Status", "[('payment_type','=','inbound'),('partner_type','=','customer'),('state','in',['in_process','paid'])]",
		"name, state, payment_type, partner_type, partner_id, amount, currency_id, memo, date, reconciled_invoice_ids, write_date"},
}
