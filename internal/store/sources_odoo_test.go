package store_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/odoo"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/testenv"
)

// TestOdooConnectorStorage covers migration 4 on both databases: sealed
// credentials, rules, watermark, reconciliation runs, enrichment and
// dropped events, record states.
func TestOdooConnectorStorage(t *testing.T) {
	for _, b := range testenv.Backends {
		t.Run(b.Name, func(t *testing.T) {
			st := open(t, b)
			t.Run("settings", func(t *testing.T) { testOdooSettings(t, st) })
			t.Run("events", func(t *testing.T) { testOdooEvents(t, st) })
			t.Run("record states", func(t *testing.T) { testOdooRecordStates(t, st) })
		})
	}
}

func newSource(t *testing.T, st *store.Store) domain.Source {
	t.Helper()
	n := now()
	src := domain.Source{ID: ids.New(ids.Source), Name: "odoo-prod", Kind: domain.SourceOdoo, CreatedAt: n, UpdatedAt: n}
	if err := st.CreateSource(ctx, src, ids.New("hash")); err != nil {
		t.Fatal(err)
	}
	return src
}

func testOdooSettings(t *testing.T, st *store.Store) {
	src := newSource(t, st)
	o, err := st.SourceOdoo(ctx, src.ID)
	if err != nil || o.Connection != nil || o.Rules != nil || o.Watermark != nil {
		t.Fatalf("fresh source: %+v, %v", o, err)
	}
	conn := odoo.Connection{URL: "http://10.0.0.5:8069", Database: "retail", Login: "bot", APIKey: "secret-key-123", Version: "18"}
	saved := now()
	if err := st.UpdateSourceOdoo(ctx, src.ID, store.SourceOdooUpdate{SetConnection: true, Connection: &conn}, saved); err != nil {
		t.Fatal(err)
	}
	// The key is sealed: the raw column does not hold it.
	var row struct{ OdooConfig []byte }
	if err := st.DB().Raw(`SELECT odoo_config FROM sources WHERE id = ?`, src.ID).Scan(&row).Error; err != nil {
		t.Fatal(err)
	}
	raw := row.OdooConfig
	if len(raw) == 0 || bytes.Contains(raw, []byte("secret-key-123")) {
		t.Fatalf("odoo_config is not sealed: %q", raw)
	}
	o, err = st.SourceOdoo(ctx, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&conn, o.Connection); diff != "" {
		t.Errorf("connection (-want +got):\n%s", diff)
	}
	if o.Watermark == nil || !o.Watermark.Equal(saved) || o.CredentialsSavedAt == nil {
		t.Errorf("first watermark %v, want the moment the credentials were saved %v", o.Watermark, saved)
	}
	// New credentials keep the watermark; rules and interval round-trip.
	later := saved.Add(time.Minute)
	rules := []odoo.Rule{{Model: "sale.order", When: []odoo.Condition{{Field: "state", Op: odoo.OpEq, Value: "sale"}}, EventType: "order.confirmed"}}
	iv := 90 * time.Second
	conn.APIKey = "another-key"
	if err := st.UpdateSourceOdoo(ctx, src.ID, store.SourceOdooUpdate{SetConnection: true, Connection: &conn,
		SetRules: true, Rules: rules, ReconcileInterval: &iv}, later); err != nil {
		t.Fatal(err)
	}
	o, _ = st.SourceOdoo(ctx, src.ID)
	if !o.Watermark.Equal(saved) || o.Connection.APIKey != "another-key" || o.ReconcileInterval != iv || !cmp.Equal(rules, o.Rules) {
		t.Errorf("after the second update: %+v", o)
	}
	creds, err := st.CredentialedSources(ctx)
	if err != nil || len(creds) != 1 || creds[0].SourceID != src.ID {
		t.Errorf("credentialed sources: %+v, %v", creds, err)
	}
	// A run moves the watermark forward only from the one it started at.
	w := saved.Add(30 * time.Second)
	if err := st.RecordReconcile(ctx, src.ID, store.ReconcileRun{At: later, Scanned: 10, Emitted: 2, Watermark: &w, Since: saved}); err != nil {
		t.Fatal(err)
	}
	stale := saved.Add(time.Hour)
	if err := st.RecordReconcile(ctx, src.ID, store.ReconcileRun{At: later, Err: "odoo: unreachable", Watermark: &stale, Since: saved}); err != nil {
		t.Fatal(err)
	}
	o, _ = st.SourceOdoo(ctx, src.ID)
	if !o.Watermark.Equal(w) || o.ReconciledTotal != 2 || o.LastReconcileError != "odoo: unreachable" || o.LastReconcileOKAt == nil {
		t.Errorf("after two runs: watermark %v total %d error %q ok %v", o.Watermark, o.ReconciledTotal, o.LastReconcileError, o.LastReconcileOKAt)
	}
	// Backfill resets the watermark and makes a run due.
	since := saved.Add(-48 * time.Hour)
	if err := st.SetWatermark(ctx, src.ID, since); err != nil {
		t.Fatal(err)
	}
	o, _ = st.SourceOdoo(ctx, src.ID)
	if !o.Watermark.Equal(since) || o.LastReconcileAt != nil {
		t.Errorf("after backfill: %+v", o)
	}
	// Removing the credentials removes the watermark too.
	if err := st.UpdateSourceOdoo(ctx, src.ID, store.SourceOdooUpdate{SetConnection: true, SetRules: true}, later); err != nil {
		t.Fatal(err)
	}
	o, _ = st.SourceOdoo(ctx, src.ID)
	if o.Connection != nil || o.Watermark != nil || o.Rules != nil {
		t.Errorf("after removal: %+v", o)
	}
}

func testOdooEvents(t *testing.T, st *store.Store) {
	src := newSource(t, st)
	n := now().Add(-time.Minute)
	mk := func(key string, enriched bool) domain.Event {
		return domain.Event{ID: ids.NewAt(ids.Event, n), Type: "order.confirmed", SourceID: src.ID, Model: "sale.order",
			RecordID: 1287, OccurredAt: n, ReceivedAt: n, IdempotencyKey: key, Payload: []byte(`{"data":{}}`), Enriched: enriched}
	}
	a, b, c := mk("odoo:sale.order:1287:20250314T094106Z:order.confirmed", false), mk("k2", true), mk("k3", false)
	if _, err := st.InsertEvents(ctx, []domain.Event{a, b, c}, time.Hour, n); err != nil {
		t.Fatal(err)
	}
	claimed, err := st.ClaimedIdempotencyKeys(ctx, src.ID, []string{a.IdempotencyKey, "unknown"}, n)
	if err != nil || !cmp.Equal(claimed, map[string]bool{a.IdempotencyKey: true}) {
		t.Errorf("claimed keys: %v, %v", claimed, err)
	}
	if err := st.MarkEventEnriched(ctx, a.ID, []byte(`{"data":{"line_items":[]}}`), n); err != nil {
		t.Fatal(err)
	}
	if err := st.DropEvent(ctx, c.ID, "rolled_back"); err != nil {
		t.Fatal(err)
	}
	unfanned, err := st.UnfannedEvents(ctx, time.Now(), 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range unfanned {
		if e.SourceID == src.ID {
			got[e.ID] = e.Enriched
		}
	}
	if diff := cmp.Diff(map[string]bool{a.ID: true, b.ID: true}, got); diff != "" {
		t.Errorf("unfanned events and their enriched flag (-want +got):\n%s", diff)
	}
	ev, _ := st.Event(ctx, a.ID)
	if string(ev.Payload) != `{"data":{"line_items":[]}}` {
		t.Errorf("payload not rewritten: %s", ev.Payload)
	}
	state, err := st.OdooEventState(ctx, c.ID)
	if err != nil || !state.FannedOut || state.DroppedReason != "rolled_back" {
		t.Errorf("dropped event state: %+v, %v", state, err)
	}
}

func testOdooRecordStates(t *testing.T, st *store.Store) {
	src := newSource(t, st)
	t0 := now().Truncate(time.Second)
	save := func(states ...domain.OdooRecordState) {
		t.Helper()
		if err := st.SaveOdooRecordStates(ctx, src.ID, "sale.order", states, t0); err != nil {
			t.Fatal(err)
		}
	}
	save(domain.OdooRecordState{RecordID: 1, EventType: "", WriteDate: t0},
		domain.OdooRecordState{RecordID: 2, EventType: "order.confirmed", WriteDate: t0},
		domain.OdooRecordState{RecordID: 2, EventType: "order.cancelled", WriteDate: t0.Add(time.Second)})
	save(domain.OdooRecordState{RecordID: 1, EventType: "order.confirmed", WriteDate: t0.Add(2 * time.Second)},
		domain.OdooRecordState{RecordID: 2, EventType: "order.confirmed", WriteDate: t0}) // older: ignored
	got, err := st.OdooRecordStates(ctx, src.ID, "sale.order", []int64{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]domain.OdooRecordState{
		1: {RecordID: 1, EventType: "order.confirmed", WriteDate: t0.Add(2 * time.Second)},
		2: {RecordID: 2, EventType: "order.cancelled", WriteDate: t0.Add(time.Second)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("record states (-want +got):\n%s", diff)
	}
}
