package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookgate/hookgate/internal/odoo"
	"github.com/hookgate/hookgate/internal/odoo/odootest"
)

// compileSchemas compiles every seeded schema, asserting formats.
func compileSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	out := map[string]*jsonschema.Schema{}
	for _, et := range Seed(time.Now()) {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(et.Schema))
		if err != nil {
			t.Fatalf("%s: schema is not JSON: %v", et.Name, err)
		}
		url := "https://hookgate.dev/schemas/" + et.Name + ".json"
		if err := c.AddResource(url, doc); err != nil {
			t.Fatalf("%s: %v", et.Name, err)
		}
		s, err := c.Compile(url)
		if err != nil {
			t.Fatalf("%s: schema does not compile: %v", et.Name, err)
		}
		out[et.Name] = s
	}
	return out
}

// validate checks data against the schema of eventType.
func validate(t *testing.T, schemas map[string]*jsonschema.Schema, eventType string, data map[string]any) {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := schemas[eventType].Validate(v); err != nil {
		t.Errorf("%s: data does not validate against the catalogue schema: %v\n%s", eventType, err, b)
	}
}

// TestFixturesValidate checks every fixture's normalised data (what an
// un-enriched event carries) against its type's schema.
func TestFixturesValidate(t *testing.T) {
	schemas := compileSchemas(t)
	for _, typ := range odoo.EventTypes() {
		data, ok := odoo.ExampleData(typ)
		if !ok {
			t.Fatalf("%s: no example", typ)
		}
		validate(t, schemas, typ, data)
	}
}

// TestEnrichedDataValidates loads the fixtures' records into the fake Odoo,
// expands each as enrichment does, and checks the enriched data against the
// schema, for both API protocols.
func TestEnrichedDataValidates(t *testing.T) {
	schemas := compileSchemas(t)
	for _, version := range []int{18, 19} {
		fake := odootest.Start(t, odootest.Options{Version: version})
		fake.SeedRetail()
		loadFixtures(t, fake)
		o := fake.Options()
		client, err := odoo.NewClient(odoo.Connection{URL: fake.URL, Database: o.Database, Login: o.Login, APIKey: o.APIKey}, http.DefaultClient)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for _, typ := range odoo.EventTypes() {
			data, _ := odoo.ExampleData(typ)
			model := odoo.ExampleModel(typ)
			id, _ := data["id"].(json.Number).Int64()
			recs, err := client.Read(ctx, model, []int64{id}, odoo.ExpandFields(model))
			if err != nil || len(recs) != 1 {
				t.Fatalf("v%d %s: read %s %d: %v %v", version, typ, model, id, recs, err)
			}
			extra, err := odoo.Expand(ctx, client, model, recs[0])
			if err != nil {
				t.Fatalf("v%d %s: %v", version, typ, err)
			}
			if len(extra) == 0 {
				t.Errorf("v%d %s: nothing expanded", version, typ)
			}
			for k, v := range extra {
				data[k] = v
			}
			validate(t, schemas, typ, data)
			if items, ok := extra[odoo.KeyLineItems].([]any); ok && len(items) == 0 {
				t.Errorf("v%d %s: no line items", version, typ)
			}
		}
	}
}

// loadFixtures creates each fixture's record, and lines for its documents.
func loadFixtures(t *testing.T, fake *odootest.Server) {
	t.Helper()
	files, _ := filepath.Glob("../odoo/testdata/*.json")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var body map[string]any
		if err := dec.Decode(&body); err != nil {
			t.Fatal(err)
		}
		vals := map[string]any{}
		for k, v := range body {
			if !strings.HasPrefix(k, "_") && k != "id" {
				vals[k] = v
			}
		}
		id, _ := body["_id"].(json.Number).Int64()
		fake.Create(body["_model"].(string), id, vals)
	}
	line := func(model string, vals map[string]any) { fake.Create(model, 0, vals) }
	for _, order := range []int64{1287, 1290} {
		line("sale.order.line", map[string]any{"order_id": order, "product_id": odootest.ProductPillow, "name": "Linen Throw Pillow",
			"product_uom_qty": 2.0, "price_unit": 34.9, "price_subtotal": 69.8, "price_total": 80.27})
		line("sale.order.line", map[string]any{"order_id": order, "display_type": "line_section", "name": "Gifts"})
	}
	for _, picking := range []int64{57, 63} {
		line("stock.move", map[string]any{"picking_id": picking, "product_id": odootest.ProductPillow, "product_uom_qty": 2.0, "quantity": 2.0})
	}
	for _, move := range []int64{311, 318} {
		line("account.move.line", map[string]any{"move_id": move, "product_id": odootest.ProductPillow, "name": "Linen Throw Pillow",
			"quantity": 2.0, "price_unit": 34.9, "price_subtotal": 69.8, "price_total": 80.27, "display_type": "product"})
	}
	line("pos.order.line", map[string]any{"order_id": int64(4521), "product_id": odootest.ProductCandle, "full_product_name": "Beeswax Candle",
		"qty": 3.0, "price_unit": 12.5, "price_subtotal": 37.5, "price_subtotal_incl": 43.13})
}

// TestSchemasRejectWrongShapes makes sure the validation above can fail.
func TestSchemasRejectWrongShapes(t *testing.T) {
	schemas := compileSchemas(t)
	for _, tt := range []struct {
		typ  string
		data string
	}{
		{"order.confirmed", `{"id":1,"name":"S1","state":"sale","line_items":[{"id":1}]}`},
		{"order.confirmed", `{"id":1,"name":"S1","state":"sale","currency":{"id":2}}`},
		{"order.confirmed", `{"id":1,"name":"S1","state":"sale","write_date":"yesterday"}`},
		{"shipment.dispatched", `{"id":1,"name":"WH/OUT/1","carrier":"DHL"}`},
	} {
		var data map[string]any
		_ = json.Unmarshal([]byte(tt.data), &data)
		b, _ := json.Marshal(data)
		v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err := schemas[tt.typ].Validate(v); err == nil {
			t.Errorf("%s accepted %s", tt.typ, tt.data)
		}
	}
}
