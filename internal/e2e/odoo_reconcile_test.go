package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/apptest"
	"github.com/hookgate/hookgate/internal/odoo/odootest"
)

// TestOdooReconcileTransitions checks what reconciliation reports when no
// webhook arrives at all: a state transition once (an order edited after
// its confirmation is not confirmed again; its cancellation is new), every
// stock or price change, a customer once at creation, and nothing that
// hookgate's own Odoo user wrote.
func TestOdooReconcileTransitions(t *testing.T) {
	g := apptest.Start(t, apptest.Options{SQLite: true, Env: map[string]string{"HOOKGATE_RECONCILE_INTERVAL": "1s"}})
	fake := odootest.Start(t, odootest.Options{Version: 18})
	fake.SeedRetail()
	order := fake.NewQuotation(odootest.CustomerZoe, odootest.Line{Product: odootest.ProductPillow, Quantity: 1, Price: 34.9})
	botOrder := fake.NewQuotation(odootest.CustomerKai, odootest.Line{Product: odootest.ProductCandle, Quantity: 2, Price: 12.5})
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))

	rc := newReceiver(t, nil)
	p := g.NewPartner("Reconciled")
	g.NewEndpoint(p, rc.URL, []string{"*"}, nil)
	src := g.Must(201, "POST", "/v1/admin/sources", apptest.AdminToken, map[string]any{"name": "odoo"}).Map(t)
	o := fake.Options()
	g.Must(200, "PATCH", "/v1/admin/sources/"+src["id"].(string), apptest.AdminToken, map[string]any{"odoo": map[string]any{
		"url": fake.URL, "database": o.Database, "login": o.Login, "api_key": o.APIKey}})

	events := func() map[string]int {
		out := map[string]int{}
		for _, r := range rc.requests() {
			var env envelope
			if err := json.Unmarshal(r.Body, &env); err != nil {
				t.Fatal(err)
			}
			out[fmt.Sprintf("%s %v", env.Type, env.Source["record_id"])]++
		}
		return out
	}
	waitFor := func(key string, n int) {
		t.Helper()
		apptest.Eventually(t, 20*time.Second, key, func() bool { return events()[key] >= n })
	}
	// No automation rules at all: every webhook is "lost".
	fake.Write("sale.order", order, map[string]any{"state": "sale"}, odootest.WriteOptions{})
	waitFor(fmt.Sprintf("order.confirmed %d", order), 1)
	fake.Write("sale.order", order, map[string]any{"client_order_ref": "PO-77"}, odootest.WriteOptions{})
	fake.Write("product.product", odootest.ProductThrow, map[string]any{"list_price": 79.0, "lst_price": 79.0}, odootest.WriteOptions{})
	waitFor(fmt.Sprintf("product.updated %d", odootest.ProductThrow), 1)
	fake.Write("product.product", odootest.ProductThrow, map[string]any{"list_price": 75.0, "lst_price": 75.0}, odootest.WriteOptions{})
	waitFor(fmt.Sprintf("product.updated %d", odootest.ProductThrow), 2)
	customer := fake.CreateRecord("res.partner", map[string]any{"name": "Ada Lovelace", "customer_rank": 1, "email": "ada@example.com"}, odootest.WriteOptions{})
	waitFor(fmt.Sprintf("customer.created %d", customer), 1)
	fake.Write("res.partner", customer, map[string]any{"phone": "+44 20 7946 0000"}, odootest.WriteOptions{})
	fake.Write("sale.order", botOrder, map[string]any{"state": "sale"}, odootest.WriteOptions{UID: o.UID})
	fake.Write("sale.order", order, map[string]any{"state": "cancel"}, odootest.WriteOptions{})
	waitFor(fmt.Sprintf("order.cancelled %d", order), 1)
	time.Sleep(2500 * time.Millisecond) // two more runs: nothing else may come

	want := map[string]int{
		fmt.Sprintf("order.confirmed %d", order):                 1,
		fmt.Sprintf("order.cancelled %d", order):                 1,
		fmt.Sprintf("product.updated %d", odootest.ProductThrow): 2,
		fmt.Sprintf("customer.created %d", customer):             1,
	}
	got := events()
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d events, want %d", k, got[k], n)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected event %s", k)
		}
	}
}
