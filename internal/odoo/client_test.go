package odoo

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookgate/hookgate/internal/odoo/odootest"
)

// newFake starts a fake Odoo of version v with the retail data.
func newFake(t *testing.T, v int) (*odootest.Server, Connection) {
	t.Helper()
	s := odootest.Start(t, odootest.Options{Version: v})
	s.SeedRetail()
	o := s.Options()
	return s, Connection{URL: s.URL, Database: o.Database, Login: o.Login, APIKey: o.APIKey}
}

// TestClientProtocols drives every client method against both protocols,
// with the version given and detected.
func TestClientProtocols(t *testing.T) {
	for _, tt := range []struct {
		name      string
		version   int
		configure string
		want      Protocol
	}{
		{"17 detected", 17, "", ProtocolJSONRPC},
		{"18 configured", 18, "18.0", ProtocolJSONRPC},
		{"19 detected", 19, "", ProtocolJSON2},
		{"19 configured", 19, "19", ProtocolJSON2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake, conn := newFake(t, tt.version)
			conn.Version = tt.configure
			c, err := NewClient(conn, &http.Client{Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			v, err := c.Version(ctx)
			if err != nil || v.Major != tt.version {
				t.Fatalf("Version = %+v, %v", v, err)
			}
			p, err := c.Protocol(ctx)
			if err != nil || p != tt.want {
				t.Fatalf("Protocol = %s, %v; want %s", p, err, tt.want)
			}
			u, err := c.WhoAmI(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(User{UID: 7, Name: "Hookgate Bot", Login: "hookgate-bot"}, u); diff != "" {
				t.Errorf("WhoAmI (-want +got):\n%s", diff)
			}
			order := fake.NewQuotation(CustomerForTest, odootest.Line{Product: odootest.ProductPillow, Quantity: 2, Price: 34.9})
			recs, err := c.SearchRead(ctx, "sale.order", []any{[]any{"id", "=", order}}, []string{"name", "partner_id", "write_date", "amount_untaxed"}, "write_date, id", 10, 0)
			if err != nil || len(recs) != 1 {
				t.Fatalf("SearchRead = %v, %v", recs, err)
			}
			if got := recs[0]["partner_id"]; !cmp.Equal(got, []any{json.Number("58"), "Zoë Müller"}) {
				t.Errorf("many2one read as %#v", got)
			}
			if got := recs[0]["amount_untaxed"]; got != json.Number("69.8") {
				t.Errorf("amount_untaxed = %#v", got)
			}
			read, err := c.Read(ctx, "res.partner", []int64{58, 9999}, []string{"name", "country_id"})
			if err != nil || len(read) != 1 || read[0]["name"] != "Zoë Müller" {
				t.Errorf("Read = %v, %v", read, err)
			}
			fields, err := c.FieldsGet(ctx, "sale.order")
			if err != nil || fields["partner_id"] != (Field{Type: "many2one", Relation: "res.partner"}) {
				t.Errorf("FieldsGet partner_id = %+v, %v", fields["partner_id"], err)
			}
			// Paging with limit and offset.
			var ids []any
			for off := 0; ; off += 2 {
				page, err := c.SearchRead(ctx, "product.product", nil, []string{"id"}, "id", 2, off)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range page {
					ids = append(ids, r["id"])
				}
				if len(page) < 2 {
					break
				}
			}
			if diff := cmp.Diff([]any{json.Number("41"), json.Number("42"), json.Number("43")}, ids); diff != "" {
				t.Errorf("paged ids (-want +got):\n%s", diff)
			}
		})
	}
}

// CustomerForTest is the fixtures' customer.
const CustomerForTest = odootest.CustomerZoe

// TestClientErrors checks that failures come back typed.
func TestClientErrors(t *testing.T) {
	ctx := context.Background()
	for _, v := range []int{17, 19} {
		fake, conn := newFake(t, v)
		bad := conn
		bad.APIKey = "wrong"
		c, _ := NewClient(bad, http.DefaultClient)
		if _, err := c.Authenticate(ctx); !errors.Is(err, ErrAccessDenied) {
			t.Errorf("v%d: bad key: %v, want ErrAccessDenied", v, err)
		}
		c, _ = NewClient(conn, http.DefaultClient)
		_, err := c.SearchRead(ctx, "sale.order", []any{[]any{"no_such_field", "=", 1}}, nil, "", 0, 0)
		var oe *Error
		if !errors.As(err, &oe) || oe.Name != "builtins.ValueError" {
			t.Errorf("v%d: bad domain: %v, want a ValueError *Error", v, err)
		}
		if _, err := c.Read(ctx, "no.such.model", []int64{1}, nil); !errors.As(err, &oe) {
			t.Errorf("v%d: unknown model: %v, want *Error", v, err)
		}
		fake.FailNext(1)
		if _, err := c.Read(ctx, "res.partner", []int64{58}, nil); !errors.Is(err, ErrBadResponse) {
			t.Errorf("v%d: 502 proxy page: %v, want ErrBadResponse", v, err)
		}
	}
	dead := Connection{URL: "http://127.0.0.1:1", Database: "d", Login: "l", APIKey: "k"}
	c, _ := NewClient(dead, &http.Client{Timeout: time.Second})
	if _, err := c.Version(ctx); !errors.Is(err, ErrUnreachable) {
		t.Errorf("closed port: %v, want ErrUnreachable", err)
	}
	for _, conn := range []Connection{
		{URL: "ftp://x", Database: "d", Login: "l", APIKey: "k"},
		{URL: "http://x", Login: "l", APIKey: "k"},
		{URL: "http://u:p@x", Database: "d", Login: "l", APIKey: "k"},
		{URL: "http://x", Database: "d", Login: "l", APIKey: "k", Version: "seventeen"},
	} {
		if _, err := NewClient(conn, http.DefaultClient); !errors.Is(err, ErrBadConnection) {
			t.Errorf("NewClient(%+v) = %v, want ErrBadConnection", conn, err)
		}
	}
}

// TestExpandSaleOrder checks the enrichment of an order: customer with its
// address, currency code, lines with product names and prices.
func TestExpandSaleOrder(t *testing.T) {
	for _, v := range []int{18, 19} {
		fake, conn := newFake(t, v)
		c, _ := NewClient(conn, http.DefaultClient)
		ctx := context.Background()
		order := fake.NewQuotation(odootest.CustomerZoe,
			odootest.Line{Product: odootest.ProductPillow, Quantity: 2, Price: 34.9},
			odootest.Line{Product: odootest.ProductCandle, Quantity: 1, Price: 12.5})
		recs, err := c.Read(ctx, "sale.order", []int64{order}, ExpandFields("sale.order"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Expand(ctx, c, "sale.order", recs[0])
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(got)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		if m["currency"].(map[string]any)["code"] != "USD" {
			t.Errorf("v%d currency %v", v, m["currency"])
		}
		cust := m["customer"].(map[string]any)
		if cust["name"] != "Zoë Müller" || cust["city"] != "Berlin" || cust["country"].(map[string]any)["name"] != "Germany" {
			t.Errorf("v%d customer %v", v, cust)
		}
		items := m["line_items"].([]any)
		if len(items) != 2 {
			t.Fatalf("v%d line_items %v", v, items)
		}
		first := items[0].(map[string]any)
		if first["product"].(map[string]any)["name"] != "Linen Throw Pillow" || first["price_unit"] != 34.9 || first["quantity"] != 2.0 {
			t.Errorf("v%d first line %v", v, first)
		}
	}
}
