package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookgate/hookgate/internal/apptest"
	"github.com/hookgate/hookgate/internal/odoo/odootest"
)

// odooChange is one record change the fake Odoo makes in the scenario.
type odooChange struct {
	model string
	id    int64
	typ   string // the event type it must become ("" for rolled-back ones)
	vals  map[string]any
	lose  bool
	roll  bool
	at    time.Time
}

// TestOdooConnector is the connector's acceptance test, for both API
// protocols: the fake Odoo makes 500 record changes and loses 20 % of their
// webhooks, and rolls back 25 more changes after sending their webhooks.
// Every committed change must reach the endpoint as exactly one event
// within one reconciliation interval (2 s here) plus processing, enriched
// (order lines with product names and prices), valid against its type's
// catalogue schema; rolled-back changes must produce none.
func TestOdooConnector(t *testing.T) {
	for _, tt := range []struct {
		name    string
		version int
		config  string // the version saved in the source ("" = detect)
	}{
		{"jsonrpc-17", 17, "17"},
		{"json2-19", 19, ""},
	} {
		t.Run(tt.name, func(t *testing.T) { odooScenario(t, tt.version, tt.config) })
	}
}

func odooScenario(t *testing.T, version int, configured string) {
	const interval = 2 * time.Second
	g := apptest.Start(t, apptest.Options{Env: map[string]string{
		"HOOKGATE_RECONCILE_INTERVAL":  interval.String(),
		"HOOKGATE_ODOO_CONFIRM_WINDOW": "3s",
	}})
	fake := odootest.Start(t, odootest.Options{Version: version})
	fake.SeedRetail()
	rng := rand.New(rand.NewPCG(uint64(version), 42))

	// The documents the changes act on exist before hookgate connects.
	var changes []*odooChange
	lines := func() []odootest.Line {
		all := []odootest.Line{
			{Product: odootest.ProductPillow, Quantity: 2, Price: 34.9},
			{Product: odootest.ProductThrow, Quantity: 1, Price: 89},
			{Product: odootest.ProductCandle, Quantity: 4, Price: 12.5},
		}
		return all[:1+rng.IntN(3)]
	}
	customer := func() int64 {
		if rng.IntN(2) == 0 {
			return odootest.CustomerZoe
		}
		return odootest.CustomerKai
	}
	add := func(model string, id int64, typ string, vals map[string]any) {
		changes = append(changes, &odooChange{model: model, id: id, typ: typ, vals: vals})
	}
	for range 300 {
		add("sale.order", fake.NewQuotation(customer(), lines()...), "order.confirmed", map[string]any{"state": "sale", "invoice_status": "to invoice"})
	}
	for range 50 {
		add("sale.order", fake.NewQuotation(customer(), lines()...), "order.cancelled", map[string]any{"state": "cancel"})
	}
	for range 60 {
		c := customer()
		order := fake.NewQuotation(c, lines()...)
		add("stock.picking", fake.NewDelivery(order, c, lines()...), "shipment.dispatched",
			map[string]any{"state": "done", "date_done": time.Now().UTC().Truncate(time.Second), "carrier_tracking_ref": fmt.Sprintf("1Z999AA1%08d", order)})
	}
	for i := range 50 {
		add("account.move", fake.NewInvoice(customer(), lines()...), "invoice.posted",
			map[string]any{"state": "posted", "name": fmt.Sprintf("INV/2025/%05d", i+1), "invoice_date": "2025-03-15", "invoice_date_due": "2025-04-14"})
	}
	for range 40 {
		add("pos.order", fake.NewPOSOrder(customer(), lines()...), "pos.order.paid", map[string]any{"state": "paid", "amount_paid": 50.0})
	}
	if len(changes) != 500 {
		t.Fatalf("%d changes", len(changes))
	}
	for _, i := range rng.Perm(500)[:100] {
		changes[i].lose = true
	}
	for range 25 {
		changes = append(changes, &odooChange{model: "sale.order", id: fake.NewQuotation(customer(), lines()...),
			vals: map[string]any{"state": "sale"}, roll: true})
	}
	rng.Shuffle(len(changes), func(i, j int) { changes[i], changes[j] = changes[j], changes[i] })

	// A partner endpoint for everything.
	rc := newReceiver(t, nil)
	p := g.NewPartner("Odoo Watcher")
	g.NewEndpoint(p, rc.URL+"/hooks", []string{"*"}, nil)

	// Odoo's API compares write_date to the second, so reconciliation reads
	// from the second the credentials are saved in: let the set-up writes
	// above (master data, never sent as webhooks) fall in an earlier second.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))

	// The source, its credentials, a connection check.
	src := g.Must(201, "POST", "/v1/admin/sources", apptest.AdminToken, map[string]any{"name": "odoo-prod", "kind": "odoo"}).Map(t)
	srcID, ingestURL := src["id"].(string), src["ingest_url"].(string)
	o := fake.Options()
	patched := g.Must(200, "PATCH", "/v1/admin/sources/"+srcID, apptest.AdminToken, map[string]any{"odoo": map[string]any{
		"url": fake.URL, "database": o.Database, "login": o.Login, "api_key": o.APIKey, "version": configured,
	}})
	if bytes.Contains(patched.Body, []byte(o.APIKey)) {
		t.Fatalf("the API key came back: %s", patched.Body)
	}
	check := g.Must(200, "POST", "/v1/admin/sources/"+srcID+"/check", apptest.AdminToken, nil).Map(t)
	if check["ok"] != true || check["uid"] != float64(o.UID) || check["user"] != "Hookgate Bot" ||
		!strings.HasPrefix(check["version"].(string), strconv.Itoa(version)) {
		t.Fatalf("check: %v", check)
	}
	for _, a := range fake.RetailAutomations(ingestURL) {
		fake.AddAutomation(a)
	}

	// The changes, as users make them in Odoo.
	start := time.Now()
	for _, c := range changes {
		c.at = time.Now()
		fake.Write(c.model, c.id, c.vals, odootest.WriteOptions{Lose: c.lose, RollBack: c.roll})
	}
	made := time.Since(start)
	lost := 0
	for _, s := range fake.Sent() {
		if s.Lost {
			lost++
		}
	}
	if lost != 100 {
		t.Fatalf("the fake lost %d webhooks, want 100", lost)
	}

	// Every committed change arrives once.
	want := map[string]*odooChange{}
	for _, c := range changes {
		if !c.roll {
			want[fmt.Sprintf("%s/%d/%s", c.model, c.id, c.typ)] = c
		}
	}
	type got struct {
		env  envelope
		raw  json.RawMessage
		at   time.Time
		body []byte
	}
	var mu sync.Mutex
	byKey := map[string][]got{}
	seen := 0
	collect := func() int {
		mu.Lock()
		defer mu.Unlock()
		reqs := rc.requests()
		for _, r := range reqs[seen:] {
			var env envelope
			var raw struct {
				Data json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(r.Body, &env); err != nil {
				t.Fatalf("not an envelope: %s", r.Body)
			}
			_ = json.Unmarshal(r.Body, &raw)
			k := fmt.Sprintf("%v/%v/%s", env.Source["model"], env.Source["record_id"], env.Type)
			byKey[k] = append(byKey[k], got{env: env, raw: raw.Data, at: r.At, body: r.Body})
		}
		seen = len(reqs)
		return len(byKey)
	}
	apptest.Eventually(t, 60*time.Second, "500 distinct events", func() bool { return collect() >= 500 })
	all := time.Since(start)
	// Long enough for a duplicate to show: two more reconciliation runs and
	// the confirm window of the rolled-back changes.
	time.Sleep(2*interval + 3*time.Second)
	collect()

	// An event is its id (webhook-id): delivery is at least once, so the
	// same event may arrive twice, but a change must never become two events.
	var worst time.Duration
	redelivered := 0
	for k, c := range want {
		evs := byKey[k]
		ids := map[string]bool{}
		for _, e := range evs {
			ids[e.env.ID] = true
		}
		redelivered += len(evs) - len(ids)
		if len(ids) != 1 {
			t.Errorf("%s (lost=%v): %d events, want 1", k, c.lose, len(ids))
			continue
		}
		if c.lose {
			worst = max(worst, evs[0].at.Sub(c.at))
		}
	}
	for k := range byKey {
		if want[k] == nil {
			t.Errorf("unexpected event %s (a rolled-back change?)", k)
		}
	}
	t.Logf("Odoo %d: 500 changes made in %s (100 webhooks lost, 25 rolled back); all delivered %s after the first change; "+
		"slowest lost change delivered %s after it was made; %d redeliveries of the same event", version, made.Round(time.Millisecond), all.Round(time.Millisecond), worst.Round(time.Millisecond), redelivered)
	if worst > interval+5*time.Second {
		t.Errorf("a lost change took %s to arrive; want within one reconciliation interval (%s) plus processing", worst, interval)
	}

	// Rolled-back changes were dropped with their reason, and counted.
	metrics := string(g.Must(200, "GET", "/metrics", "", nil).Body)
	re := regexp.MustCompile(`hookgate_events_ignored_total\{reason="rolled_back",source="odoo-prod"\} (\d+)`)
	if m := re.FindStringSubmatch(metrics); m == nil || m[1] != "25" {
		t.Errorf("rolled_back counter: %v", m)
	}
	if !strings.Contains(metrics, `hookgate_reconcile_lag_seconds{source="odoo-prod"}`) {
		t.Error("no reconcile lag metric")
	}

	// Enriched data, valid against the catalogue's schemas.
	schemas := catalogueSchemas(t, g, p)
	enrichedOrders := 0
	for k, evs := range byKey {
		for _, e := range evs {
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(e.raw))
			if err != nil {
				t.Fatal(err)
			}
			if err := schemas[e.env.Type].Validate(v); err != nil {
				t.Errorf("%s: data does not validate: %v\n%s", k, err, e.raw)
			}
		}
		e := evs[0].env
		if e.Type != "order.confirmed" {
			continue
		}
		items, _ := e.Data["line_items"].([]any)
		cust, _ := e.Data["customer"].(map[string]any)
		cur, _ := e.Data["currency"].(map[string]any)
		if len(items) == 0 || cust == nil || cust["name"] == nil || cur == nil || cur["code"] != "USD" {
			t.Errorf("%s: not enriched: %s", k, evs[0].body)
			continue
		}
		for _, it := range items {
			item := it.(map[string]any)
			prod, _ := item["product"].(map[string]any)
			if prod == nil || prod["name"] == nil || item["price_unit"] == nil || item["quantity"] == nil {
				t.Errorf("%s: line without product name or price: %v", k, item)
			}
		}
		if e.Data["state"] != "sale" || e.Data["partner_id"] == nil || e.Data["write_date"] == nil {
			t.Errorf("%s: webhook fields missing next to the enriched ones: %v", k, e.Data)
		}
		enrichedOrders++
	}
	if enrichedOrders != 300 {
		t.Errorf("%d enriched order.confirmed events, want 300", enrichedOrders)
	}
	for k, evs := range byKey {
		if strings.HasPrefix(k, "stock.picking/") {
			carrier, _ := evs[0].env.Data["carrier"].(map[string]any)
			if carrier == nil || carrier["name"] != "DHL Express" || carrier["tracking_ref"] == nil {
				t.Errorf("%s: carrier not expanded: %v", k, evs[0].env.Data["carrier"])
			}
			break
		}
	}

	// The source shows its connector and progress, never the key.
	view := g.Must(200, "GET", "/v1/admin/sources/"+srcID, apptest.AdminToken, nil)
	if bytes.Contains(view.Body, []byte(o.APIKey)) {
		t.Fatalf("the API key came back: %s", view.Body)
	}
	vm := view.Map(t)
	od := vm["odoo"].(map[string]any)
	rec := vm["reconcile"].(map[string]any)
	if od["has_api_key"] != true || od["user_id"] != float64(o.UID) || vm["rules_default"] != true ||
		rec["reconciled_total"].(float64) < 100 || rec["last_error"] != "" || rec["watermark"] == nil {
		t.Errorf("source view: %s", view.Body)
	}
	t.Logf("reconciliation: %v events emitted in all, watermark %v, lag %.1fs", rec["reconciled_total"], rec["watermark"], rec["lag_seconds"])
}

// catalogueSchemas compiles the schemas GET /v1/event-types returns.
func catalogueSchemas(t *testing.T, g *apptest.Gateway, p apptest.Partner) map[string]*jsonschema.Schema {
	t.Helper()
	var list struct {
		Data []struct {
			Name   string          `json:"name"`
			Schema json.RawMessage `json:"schema"`
		} `json:"data"`
	}
	g.Must(200, "GET", "/v1/event-types", p.Key, nil).JSON(t, &list)
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	out := map[string]*jsonschema.Schema{}
	for _, et := range list.Data {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(et.Schema))
		if err != nil {
			t.Fatal(err)
		}
		url := "https://hookgate.dev/schemas/" + et.Name + ".json"
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
		if out[et.Name], err = c.Compile(url); err != nil {
			t.Fatalf("%s: %v", et.Name, err)
		}
	}
	return out
}
