package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hookgate/hookgate/internal/apptest"
	"github.com/hookgate/hookgate/internal/odoo/odootest"
	"github.com/hookgate/hookgate/sdk"
)

// These tests drive a real gateway (in-process, on PostgreSQL and Redis)
// through every SDK method; every request and answer is also checked
// against openapi.yaml by contractTransport.

// approxTime tolerates the sub-microsecond digits a creating answer has
// and the stored copy does not.
var approxTime = cmpopts.EquateApproxTime(time.Millisecond)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestAdminPartnersAndKeys(t *testing.T) {
	e := start(t)
	ctx := testContext(t)

	created, err := e.admin.AdminCreatePartner(ctx, sdk.PartnerInput{
		Name: "Carrier One", Email: "ops@carrier.example", Entitlements: []string{"shipment.*", "order.confirmed"},
		Quota: &sdk.Quota{MonthlyDeliveries: 1000, MaxEndpoints: 3, MaxRatePerSecond: 10},
	})
	if err != nil {
		t.Fatalf("AdminCreatePartner: %v", err)
	}
	if !strings.HasPrefix(created.ID, "ptn_") || created.Status != sdk.PartnerPending {
		t.Errorf("created partner %+v: want a ptn_ id and status pending", created)
	}
	if diff := cmp.Diff(sdk.Quota{MonthlyDeliveries: 1000, MaxEndpoints: 3, MaxRatePerSecond: 10}, created.Quota); diff != "" {
		t.Errorf("quota (-want +got):\n%s", diff)
	}

	got, err := e.admin.AdminGetPartner(ctx, created.ID)
	if err != nil {
		t.Fatalf("AdminGetPartner: %v", err)
	}
	if diff := cmp.Diff(created, got, approxTime); diff != "" {
		t.Errorf("AdminGetPartner (-created +got):\n%s", diff)
	}

	// A key of a pending partner does not work yet; approval makes it work.
	key, err := e.admin.AdminCreatePartnerAPIKey(ctx, created.ID, sdk.APIKeyInput{
		Name: "ci", Scopes: []string{sdk.ScopeEndpointsRead, sdk.ScopeDeliveriesRead},
	})
	if err != nil {
		t.Fatalf("AdminCreatePartnerAPIKey: %v", err)
	}
	if !strings.HasPrefix(key.Key, "hg_") || !strings.HasPrefix(key.Key, key.Prefix) || key.PartnerID != created.ID {
		t.Errorf("key %+v: want the hg_ secret, its prefix and the partner id", key)
	}
	if diff := cmp.Diff([]string{sdk.ScopeEndpointsRead, sdk.ScopeDeliveriesRead}, key.Scopes); diff != "" {
		t.Errorf("scopes (-want +got):\n%s", diff)
	}
	pc := e.client(key.Key)
	if _, err := pc.Me(ctx); !errors.Is(err, sdk.ErrUnauthorized) {
		t.Errorf("Me as a pending partner: err %v, want ErrUnauthorized", err)
	}
	updated, err := e.admin.AdminUpdatePartner(ctx, created.ID, sdk.PartnerUpdate{
		Status: sdk.Ptr(sdk.PartnerActive), Name: sdk.Ptr("Carrier One Ltd"),
	})
	if err != nil {
		t.Fatalf("AdminUpdatePartner: %v", err)
	}
	if updated.Status != sdk.PartnerActive || updated.Name != "Carrier One Ltd" || updated.Email != created.Email {
		t.Errorf("updated partner %+v", updated)
	}
	me, err := pc.Me(ctx)
	if err != nil {
		t.Fatalf("Me: %v", err)
	}
	if diff := cmp.Diff(updated, me, approxTime); diff != "" {
		t.Errorf("Me (-admin view +partner view):\n%s", diff)
	}

	// The partner sees the catalogue entries its entitlements allow.
	types, err := pc.ListEventTypes(ctx)
	if err != nil {
		t.Fatalf("ListEventTypes: %v", err)
	}
	var names []string
	for _, et := range types {
		names = append(names, et.Name)
		if et.Version < 1 || len(et.Schema) == 0 {
			t.Errorf("event type %+v: want a version and a schema", et)
		}
	}
	// Beside operational events (endpoint.*, …), which every partner gets,
	// only the entitled retail types are offered.
	for _, want := range []string{"order.confirmed", "shipment.dispatched"} {
		if !slices.Contains(names, want) {
			t.Errorf("entitled type %s missing from %v", want, names)
		}
	}
	for _, not := range []string{"order.cancelled", "invoice.paid", "product.updated", "refund.issued"} {
		if slices.Contains(names, not) {
			t.Errorf("type %s offered beyond the entitlements: %v", not, names)
		}
	}
	all, err := e.admin.ListEventTypes(ctx)
	if err != nil || len(all) < 12 {
		t.Errorf("ListEventTypes as admin: %d types, err %v; want the whole catalogue", len(all), err)
	}

	// Pages and the iterator see every partner exactly once.
	want := []string{created.ID}
	for i := range 4 {
		p, err := e.admin.AdminCreatePartner(ctx, sdk.PartnerInput{Name: fmt.Sprintf("Partner %d", i), Email: fmt.Sprintf("p%d@example.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, p.ID)
	}
	page, err := e.admin.AdminListPartners(ctx, sdk.PartnerListParams{Limit: 2})
	if err != nil {
		t.Fatalf("AdminListPartners: %v", err)
	}
	if len(page.Data) != 2 || page.NextCursor == "" {
		t.Fatalf("first page: %d partners, cursor %q; want 2 and a cursor", len(page.Data), page.NextCursor)
	}
	var seen []string
	for p, err := range e.admin.AdminPartners(ctx, sdk.PartnerListParams{Limit: 2}) {
		if err != nil {
			t.Fatalf("AdminPartners: %v", err)
		}
		seen = append(seen, p.ID)
	}
	slices.Sort(seen)
	slices.Sort(want)
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("iterated partners (-want +got):\n%s", diff)
	}
	var active []string
	for p, err := range e.admin.AdminPartners(ctx, sdk.PartnerListParams{Status: sdk.PartnerActive}) {
		if err != nil {
			t.Fatal(err)
		}
		active = append(active, p.ID)
	}
	if diff := cmp.Diff([]string{created.ID}, active); diff != "" {
		t.Errorf("active partners (-want +got):\n%s", diff)
	}
}

func TestEndpoints(t *testing.T) {
	e := start(t)
	ctx := testContext(t)
	_, pc := e.partner(t, ctx, "market")
	_, other := e.partner(t, ctx, "rival")

	in := sdk.EndpointInput{
		URL: "https://hooks.market.example/hookgate", Description: "orders", EventTypes: []string{"order.*"},
		RateLimitPerSecond: 5, RetrySchedule: sdk.Durations{5 * time.Second, time.Minute}, TimeoutSeconds: 10,
		Headers: map[string]string{"X-Team": "orders"},
	}
	ep, err := pc.CreateEndpoint(ctx, in)
	if err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	if !strings.HasPrefix(ep.ID, "ep_") || !strings.HasPrefix(ep.Secret, "whsec_") || ep.Status != sdk.EndpointActive {
		t.Errorf("created endpoint %+v: want an ep_ id, a whsec_ secret, status active", ep)
	}
	if diff := cmp.Diff(in.RetrySchedule, ep.RetrySchedule); diff != "" {
		t.Errorf("retry schedule (-want +got):\n%s", diff)
	}
	if _, err := sdk.NewVerifier([]string{ep.Secret}); err != nil {
		t.Errorf("the endpoint secret does not make a Verifier: %v", err)
	}

	got, err := pc.GetEndpoint(ctx, ep.ID)
	if err != nil {
		t.Fatalf("GetEndpoint: %v", err)
	}
	wantGot := ep
	wantGot.Secret = ""
	if diff := cmp.Diff(wantGot, got, approxTime); diff != "" {
		t.Errorf("GetEndpoint (-want +got):\n%s", diff)
	}
	if _, err := other.GetEndpoint(ctx, ep.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("another partner's GetEndpoint: %v, want ErrNotFound", err)
	}

	upd, err := pc.UpdateEndpoint(ctx, ep.ID, sdk.EndpointUpdate{
		Description: sdk.Ptr("all orders"), Status: sdk.Ptr(sdk.EndpointPaused),
		RetrySchedule: sdk.Ptr(sdk.Durations{2 * time.Second}),
	})
	if err != nil {
		t.Fatalf("UpdateEndpoint: %v", err)
	}
	if upd.Description != "all orders" || upd.Status != sdk.EndpointPaused || upd.URL != in.URL ||
		!slices.Equal(upd.RetrySchedule, sdk.Durations{2 * time.Second}) {
		t.Errorf("updated endpoint %+v", upd)
	}

	enabled, err := pc.EnableEndpoint(ctx, ep.ID)
	if err != nil {
		t.Fatalf("EnableEndpoint: %v", err)
	}
	if enabled.Status != sdk.EndpointActive || enabled.StatusReason != "" {
		t.Errorf("enabled endpoint: status %q reason %q", enabled.Status, enabled.StatusReason)
	}
	if _, err := other.EnableEndpoint(ctx, ep.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("another partner's EnableEndpoint: %v, want ErrNotFound", err)
	}

	sec, err := pc.GetEndpointSecret(ctx, ep.ID)
	if err != nil {
		t.Fatalf("GetEndpointSecret: %v", err)
	}
	if diff := cmp.Diff(sdk.EndpointSecret{Secret: ep.Secret}, sec); diff != "" {
		t.Errorf("GetEndpointSecret (-want +got):\n%s", diff)
	}
	if _, err := other.GetEndpointSecret(ctx, ep.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("another partner's GetEndpointSecret: %v, want ErrNotFound", err)
	}
	_, err = pc.RotateEndpointSecret(ctx, ep.ID, sdk.RotateParams{GracePeriod: sdk.Ptr(30 * 24 * time.Hour)})
	if !errors.Is(err, sdk.ErrValidation) {
		t.Errorf("RotateEndpointSecret with a 30-day grace: %v, want ErrValidation", err)
	}
	rot, err := pc.RotateEndpointSecret(ctx, ep.ID, sdk.RotateParams{})
	if err != nil {
		t.Fatalf("RotateEndpointSecret: %v", err)
	}
	if rot.Secret == ep.Secret || !strings.HasPrefix(rot.Secret, "whsec_") || rot.PreviousSecretExpiresAt == nil ||
		rot.PreviousSecretExpiresAt.Before(time.Now().Add(23*time.Hour)) {
		t.Errorf("rotated secret %+v: want a new whsec_ and the old one valid for about 24h", rot)
	}
	ed, err := pc.UpdateEndpoint(ctx, ep.ID, sdk.EndpointUpdate{Ed25519Signing: sdk.Ptr(true)})
	if err != nil || !ed.Ed25519Signing {
		t.Fatalf("UpdateEndpoint Ed25519Signing: %+v, %v", ed, err)
	}
	sec, err = pc.GetEndpointSecret(ctx, ep.ID)
	if err != nil || sec.Secret != rot.Secret || !strings.HasPrefix(sec.PublicKey, "whpk_") {
		t.Fatalf("GetEndpointSecret with Ed25519: %+v, %v", sec, err)
	}
	if _, err := sdk.NewVerifier(nil, sdk.WithPublicKeys(sec.PublicKey)); err != nil {
		t.Errorf("the public key does not make a Verifier: %v", err)
	}

	_, err = pc.UpdateEndpoint(ctx, ep.ID, sdk.EndpointUpdate{URL: sdk.Ptr("ftp://nope")})
	var ae *sdk.APIError
	if !errors.As(err, &ae) || !errors.Is(err, sdk.ErrValidation) || len(ae.Errors) == 0 || ae.Errors[0].Field != "url" {
		t.Errorf("bad URL: %v; want ErrValidation naming url", err)
	}

	// Pagination over several pages.
	ids := []string{ep.ID}
	for i := range 4 {
		x, err := pc.CreateEndpoint(ctx, sdk.EndpointInput{URL: fmt.Sprintf("https://hooks.market.example/%d", i), EventTypes: []string{"*"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, x.ID)
	}
	page, err := pc.ListEndpoints(ctx, sdk.ListParams{Limit: 2})
	if err != nil || len(page.Data) != 2 || page.NextCursor == "" {
		t.Fatalf("ListEndpoints: %d endpoints, cursor %q, err %v; want 2 and a cursor", len(page.Data), page.NextCursor, err)
	}
	var seen []string
	for x, err := range pc.Endpoints(ctx, sdk.ListParams{Limit: 2}) {
		if err != nil {
			t.Fatalf("Endpoints: %v", err)
		}
		seen = append(seen, x.ID)
	}
	slices.Sort(seen)
	slices.Sort(ids)
	if diff := cmp.Diff(ids, seen); diff != "" {
		t.Errorf("iterated endpoints (-want +got):\n%s", diff)
	}
	// Breaking out early is fine.
	n := 0
	for _, err := range pc.Endpoints(ctx, sdk.ListParams{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	for x, err := range other.Endpoints(ctx, sdk.ListParams{}) {
		t.Errorf("another partner sees endpoint %v (err %v)", x.ID, err)
	}

	if err := other.DeleteEndpoint(ctx, ep.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("another partner's DeleteEndpoint: %v, want ErrNotFound", err)
	}
	if err := pc.DeleteEndpoint(ctx, ep.ID); err != nil {
		t.Fatalf("DeleteEndpoint: %v", err)
	}
	if _, err := pc.GetEndpoint(ctx, ep.ID); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("GetEndpoint after delete: %v, want ErrNotFound", err)
	}
}

func TestEventsAndDeliveries(t *testing.T) {
	e := start(t)
	ctx := testContext(t)
	_, pc := e.partner(t, ctx, "analytics")
	rc := newReceiver(t)
	ep, err := pc.CreateEndpoint(ctx, sdk.EndpointInput{URL: rc.URL + "/hooks", EventTypes: []string{"order.*"}})
	if err != nil {
		t.Fatal(err)
	}
	rc.setSecrets(ep.Secret)

	// Five events, one of them sent twice with the same idempotency key.
	occurred := time.Date(2025, 3, 14, 9, 41, 7, 0, time.UTC)
	var eventIDs []string
	for i := range 5 {
		res, err := e.admin.CreateEvent(ctx, sdk.EventInput{
			Type: "order.confirmed", Data: map[string]any{"id": i, "name": fmt.Sprintf("S%05d", i), "state": "sale"},
			IdempotencyKey: fmt.Sprintf("order-%d", i), OccurredAt: occurred,
		})
		if err != nil {
			t.Fatalf("CreateEvent: %v", err)
		}
		if !strings.HasPrefix(res.ID, "msg_") || res.Status != "accepted" || res.Duplicate || res.Type != "order.confirmed" {
			t.Errorf("CreateEvent answered %+v", res)
		}
		eventIDs = append(eventIDs, res.ID)
	}
	dup, err := e.admin.CreateEvent(ctx, sdk.EventInput{
		Type: "order.confirmed", Data: map[string]any{"id": 0, "name": "S00000", "state": "sale"}, IdempotencyKey: "order-0", OccurredAt: occurred,
	})
	if err != nil {
		t.Fatalf("CreateEvent again: %v", err)
	}
	if !dup.Duplicate || dup.ID != eventIDs[0] {
		t.Errorf("repeated idempotency key answered %+v, want a duplicate of %s", dup, eventIDs[0])
	}
	// The same key with another event is a conflict, not a silent duplicate.
	if _, err := e.admin.CreateEvent(ctx, sdk.EventInput{Type: "order.confirmed", Data: map[string]any{"id": 1000, "name": "S01000", "state": "sale"}, IdempotencyKey: "order-0"}); !errors.Is(err, sdk.ErrConflict) {
		t.Errorf("reusing a key for another event: %v, want ErrConflict", err)
	}
	// Without a key the event is not deduplicated (and not retried).
	if _, err := e.admin.CreateEvent(ctx, sdk.EventInput{Type: "order.cancelled", Data: map[string]any{"id": 99, "name": "S00099", "state": "cancel"}}); err != nil {
		t.Fatalf("CreateEvent without key: %v", err)
	}

	apptest.Eventually(t, 20*time.Second, "6 verified webhooks", func() bool { return len(rc.received()) >= 6 })
	for _, ev := range rc.received() {
		if ev.Type == "order.confirmed" && !ev.OccurredAt.Equal(occurred) {
			t.Errorf("event %s occurred_at %v, want %v", ev.ID, ev.OccurredAt, occurred)
		}
	}

	// The log, page by page, and through the iterator.
	var succeeded []sdk.Delivery
	apptest.Eventually(t, 10*time.Second, "6 succeeded deliveries", func() bool {
		succeeded = succeeded[:0]
		for d, err := range pc.Deliveries(ctx, sdk.DeliveryListParams{Status: sdk.DeliverySucceeded, Limit: 2}) {
			if err != nil {
				t.Fatalf("Deliveries: %v", err)
			}
			succeeded = append(succeeded, d)
		}
		return len(succeeded) == 6
	})
	page, err := pc.ListDeliveries(ctx, sdk.DeliveryListParams{EndpointID: ep.ID, Limit: 4})
	if err != nil || len(page.Data) != 4 || page.NextCursor == "" {
		t.Fatalf("ListDeliveries: %d, cursor %q, err %v; want 4 and a cursor", len(page.Data), page.NextCursor, err)
	}
	rest, err := pc.ListDeliveries(ctx, sdk.DeliveryListParams{EndpointID: ep.ID, Limit: 4, Cursor: page.NextCursor})
	if err != nil || len(rest.Data) != 2 || rest.NextCursor != "" {
		t.Fatalf("second page: %d, cursor %q, err %v; want the last 2", len(rest.Data), rest.NextCursor, err)
	}
	var cancelled []string
	for d, err := range pc.Deliveries(ctx, sdk.DeliveryListParams{
		EventType: "order.cancelled", Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Hour),
	}) {
		if err != nil {
			t.Fatal(err)
		}
		cancelled = append(cancelled, d.EventType)
	}
	if diff := cmp.Diff([]string{"order.cancelled"}, cancelled); diff != "" {
		t.Errorf("filtered by type (-want +got):\n%s", diff)
	}
	byEvent, err := pc.ListDeliveries(ctx, sdk.DeliveryListParams{EventID: eventIDs[2]})
	if err != nil || len(byEvent.Data) != 1 || byEvent.Data[0].EventID != eventIDs[2] {
		t.Fatalf("ListDeliveries by event: %+v, %v", byEvent, err)
	}

	d, err := pc.GetDelivery(ctx, byEvent.Data[0].ID)
	if err != nil {
		t.Fatalf("GetDelivery: %v", err)
	}
	if d.Event == nil || d.Event.ID != eventIDs[2] || d.Event.Type != "order.confirmed" || !strings.Contains(string(d.Event.Data), `"S00002"`) {
		t.Errorf("GetDelivery event: %+v", d.Event)
	}
	attempts, err := pc.ListDeliveryAttempts(ctx, d.ID)
	if err != nil {
		t.Fatalf("ListDeliveryAttempts: %v", err)
	}
	if len(attempts) != 1 || attempts[0].Trigger != "scheduled" || attempts[0].Response == nil || attempts[0].Response.Status != 204 ||
		attempts[0].Request.Headers["webhook-id"] != eventIDs[2] && attempts[0].Request.Headers["Webhook-Id"] != eventIDs[2] {
		t.Errorf("attempts: %+v", attempts)
	}

	// A manual retry makes a second, verified attempt with the same id.
	retried, err := pc.RetryDelivery(ctx, d.ID)
	if err != nil {
		t.Fatalf("RetryDelivery: %v", err)
	}
	if retried.ID != d.ID {
		t.Errorf("RetryDelivery answered %s, want %s", retried.ID, d.ID)
	}
	apptest.Eventually(t, 10*time.Second, "a manual attempt", func() bool {
		as, err := pc.ListDeliveryAttempts(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(as) == 2 && as[1].Trigger == "manual"
	})
	if _, err := pc.RetryDelivery(ctx, "dlv_nope"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("RetryDelivery of an unknown id: %v, want ErrNotFound", err)
	}

	// After a rotation both secrets sign, and with Ed25519 on, the public
	// key verifies too: check the recorded request with each alone.
	rot, err := pc.RotateEndpointSecret(ctx, ep.ID, sdk.RotateParams{GracePeriod: sdk.Ptr(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.UpdateEndpoint(ctx, ep.ID, sdk.EndpointUpdate{Ed25519Signing: sdk.Ptr(true)}); err != nil {
		t.Fatal(err)
	}
	sec, err := pc.GetEndpointSecret(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.admin.CreateEvent(ctx, sdk.EventInput{Type: "order.confirmed", Data: map[string]any{"id": 42, "name": "S00042", "state": "sale"}, IdempotencyKey: "order-42"})
	if err != nil {
		t.Fatal(err)
	}
	var last sdk.Attempt
	apptest.Eventually(t, 10*time.Second, "the event after rotation", func() bool {
		for d, err := range pc.Deliveries(ctx, sdk.DeliveryListParams{EventID: res.ID, Status: sdk.DeliverySucceeded}) {
			if err != nil {
				t.Fatal(err)
			}
			as, err := pc.ListDeliveryAttempts(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(as) > 0 {
				last = as[len(as)-1]
				return true
			}
		}
		return false
	})
	h := http.Header{}
	for k, v := range last.Request.Headers {
		h.Set(k, v)
	}
	for name, v := range map[string]func() (*sdk.Verifier, error){
		"old secret": func() (*sdk.Verifier, error) { return sdk.NewVerifier([]string{ep.Secret}) },
		"new secret": func() (*sdk.Verifier, error) { return sdk.NewVerifier([]string{rot.Secret}) },
		"public key": func() (*sdk.Verifier, error) { return sdk.NewVerifier(nil, sdk.WithPublicKeys(sec.PublicKey)) },
	} {
		ver, err := v()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ver.VerifyEvent([]byte(last.Request.Body), h); err != nil {
			t.Errorf("the recorded delivery does not verify with the %s: %v (headers %v)", name, err, h)
		}
	}

	// Partners cannot publish events.
	if _, err := pc.CreateEvent(ctx, sdk.EventInput{Type: "order.confirmed", Data: map[string]any{}}); !errors.Is(err, sdk.ErrForbidden) {
		t.Errorf("CreateEvent as a partner: %v, want ErrForbidden", err)
	}
	_, err = e.admin.CreateEvent(ctx, sdk.EventInput{Type: "no.such.type", Data: map[string]any{}})
	var ae *sdk.APIError
	if !errors.As(err, &ae) || ae.Status != 422 || len(ae.Errors) != 1 || ae.Errors[0].Field != "type" || ae.RequestID == "" {
		t.Errorf("unknown type: %#v; want a 422 naming type, with a request id", err)
	}
}

func TestSources(t *testing.T) {
	e := start(t)
	ctx := testContext(t)
	_, pc := e.partner(t, ctx, "warehouse")
	rc := newReceiver(t)
	ep, err := pc.CreateEndpoint(ctx, sdk.EndpointInput{URL: rc.URL, EventTypes: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	rc.setSecrets(ep.Secret)

	odoo, err := e.admin.AdminCreateSource(ctx, sdk.SourceInput{Name: "odoo-prod", Kind: "odoo"})
	if err != nil {
		t.Fatalf("AdminCreateSource: %v", err)
	}
	if !strings.HasPrefix(odoo.ID, "src_") || odoo.Token == "" || !strings.HasSuffix(odoo.IngestURL, "/ingest/odoo/"+odoo.Token) {
		t.Errorf("created source %+v: want a src_ id, a token and the ingest URL", odoo)
	}
	api, err := e.admin.AdminCreateSource(ctx, sdk.SourceInput{Name: "shop-api", Kind: "api"})
	if err != nil {
		t.Fatalf("AdminCreateSource api: %v", err)
	}

	got, err := e.admin.AdminGetSource(ctx, odoo.ID)
	if err != nil {
		t.Fatalf("AdminGetSource: %v", err)
	}
	if got.Token != "" || got.IngestURL != "" || got.Name != "odoo-prod" || got.Kind != "odoo" {
		t.Errorf("AdminGetSource %+v: want no credentials", got)
	}
	list, err := e.admin.AdminListSources(ctx)
	if err != nil {
		t.Fatalf("AdminListSources: %v", err)
	}
	var names []string
	for _, s := range list {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	if diff := cmp.Diff([]string{"odoo-prod", "shop-api"}, names); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}

	// Odoo's body, posted the way Odoo posts it.
	res, err := e.admin.IngestOdoo(ctx, odoo.Token, apptest.Fixture(t, "01-sale-order-confirmed.json"), "")
	if err != nil {
		t.Fatalf("IngestOdoo: %v", err)
	}
	if res.Type != "order.confirmed" || res.Status != "accepted" {
		t.Errorf("IngestOdoo answered %+v", res)
	}
	// An api source's token publishes canonical events.
	src := e.client(api.Token)
	if _, err := src.CreateEvent(ctx, sdk.EventInput{Type: "product.updated", Data: map[string]any{"id": 7}, IdempotencyKey: "p7"}); err != nil {
		t.Fatalf("CreateEvent with a source token: %v", err)
	}
	apptest.Eventually(t, 20*time.Second, "2 webhooks", func() bool { return len(rc.received()) >= 2 })
	sources := map[string]string{}
	for _, ev := range rc.received() {
		sources[ev.Type] = ev.Source.Kind + "/" + ev.Source.Name
	}
	if diff := cmp.Diff(map[string]string{"order.confirmed": "odoo/odoo-prod", "product.updated": "api/shop-api"}, sources); diff != "" {
		t.Errorf("event sources (-want +got):\n%s", diff)
	}

	// Rotation without grace: the old token stops at once.
	rotated, err := e.admin.AdminRotateSourceToken(ctx, odoo.ID, sdk.RotateParams{GracePeriod: sdk.Ptr(time.Duration(0))})
	if err != nil {
		t.Fatalf("AdminRotateSourceToken: %v", err)
	}
	if rotated.Token == "" || rotated.Token == odoo.Token || rotated.ID != odoo.ID {
		t.Errorf("rotated source %+v", rotated)
	}
	// The gateway caches ingest tokens for a moment.
	apptest.Eventually(t, 5*time.Second, "the old token refused", func() bool {
		_, err := e.admin.IngestOdoo(ctx, odoo.Token, apptest.Fixture(t, "08-invoice-paid.json"), "")
		if err != nil && !errors.Is(err, sdk.ErrNotFound) && !errors.Is(err, sdk.ErrUnauthorized) {
			t.Fatalf("IngestOdoo with the old token: %v, want ErrUnauthorized or ErrNotFound", err)
		}
		return err != nil
	})
	if res, err := e.admin.IngestOdoo(ctx, rotated.Token, apptest.Fixture(t, "08-invoice-paid.json"), ""); err != nil || res.Type != "invoice.paid" {
		t.Errorf("IngestOdoo with the new token: %+v, %v", res, err)
	}
	// With the default grace period, both tokens work.
	again, err := e.admin.AdminRotateSourceToken(ctx, odoo.ID, sdk.RotateParams{})
	if err != nil {
		t.Fatalf("AdminRotateSourceToken with default grace: %v", err)
	}
	for _, tok := range []string{rotated.Token, again.Token} {
		if _, err := e.admin.IngestOdoo(ctx, tok, apptest.Fixture(t, "07-invoice-posted.json"), "invoice.posted"); err != nil {
			t.Errorf("IngestOdoo during the grace period: %v", err)
		}
	}
	// The Odoo connector's settings, against a fake Odoo.
	fake := odootest.Start(t, odootest.Options{Version: 18})
	o := fake.Options()
	if _, err := e.admin.AdminCheckSource(ctx, odoo.ID); !errors.Is(err, sdk.ErrValidation) && !errors.Is(err, sdk.ErrConflict) {
		t.Errorf("AdminCheckSource without credentials: %v, want it refused", err)
	}
	if _, err := e.admin.AdminBackfillSource(ctx, odoo.ID, time.Now().Add(-time.Hour)); !errors.Is(err, sdk.ErrValidation) {
		t.Errorf("AdminBackfillSource without credentials: %v, want ErrValidation", err)
	}
	upd, err := e.admin.AdminUpdateSource(ctx, odoo.ID, sdk.SourceUpdate{
		Name:              sdk.Ptr("odoo-main"),
		Odoo:              &sdk.OdooConnectionInput{URL: fake.URL, Database: o.Database, Login: o.Login, APIKey: sdk.Ptr(o.APIKey), Version: "18"},
		ReconcileInterval: sdk.Ptr(10 * time.Minute),
	})
	if err != nil {
		t.Fatalf("AdminUpdateSource: %v", err)
	}
	if upd.Name != "odoo-main" || upd.Odoo == nil || !upd.Odoo.HasAPIKey || upd.Odoo.URL != fake.URL ||
		upd.Reconcile == nil || upd.Reconcile.IntervalSeconds != 600 || upd.RulesDefault == nil || !*upd.RulesDefault || len(upd.Rules) == 0 {
		t.Errorf("AdminUpdateSource answered %+v", upd)
	}
	check, err := e.admin.AdminCheckSource(ctx, odoo.ID)
	if err != nil {
		t.Fatalf("AdminCheckSource: %v", err)
	}
	if !check.OK || check.UID != o.UID || check.Login != o.Login || !strings.HasPrefix(check.Version, "18") {
		t.Errorf("AdminCheckSource answered %+v", check)
	}
	// Custom rules replace the defaults; restoring them is explicit.
	rules := []sdk.MappingRule{{Model: "sale.order", EventType: "order.confirmed", On: "write",
		When: []sdk.RuleCondition{{Field: "state", Op: "eq", Value: "sale"}}}}
	custom, err := e.admin.AdminUpdateSource(ctx, odoo.ID, sdk.SourceUpdate{Rules: rules})
	if err != nil {
		t.Fatalf("AdminUpdateSource rules: %v", err)
	}
	if custom.RulesDefault == nil || *custom.RulesDefault || len(custom.Rules) != 1 || custom.Rules[0].EventType != "order.confirmed" {
		t.Errorf("custom rules: %+v", custom.Rules)
	}
	restored, err := e.admin.AdminUpdateSource(ctx, odoo.ID, sdk.SourceUpdate{DefaultRules: true})
	if err != nil || restored.RulesDefault == nil || !*restored.RulesDefault {
		t.Errorf("restoring the default rules: %+v, %v", restored.RulesDefault, err)
	}
	since := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)
	bf, err := e.admin.AdminBackfillSource(ctx, odoo.ID, since)
	if err != nil {
		t.Fatalf("AdminBackfillSource: %v", err)
	}
	if bf.Reconcile == nil || bf.Reconcile.Watermark == nil || bf.Reconcile.Watermark.After(since.Add(time.Second)) {
		t.Errorf("AdminBackfillSource answered reconcile %+v, want the watermark moved back to %v", bf.Reconcile, since)
	}
	view, err := e.admin.AdminGetSource(ctx, odoo.ID)
	if err != nil || view.Odoo == nil || view.Odoo.UserID == nil || *view.Odoo.UserID != o.UID {
		t.Errorf("AdminGetSource after check: %+v, %v", view.Odoo, err)
	}
	removed, err := e.admin.AdminUpdateSource(ctx, odoo.ID, sdk.SourceUpdate{RemoveOdoo: true})
	if err != nil || removed.Odoo != nil {
		t.Errorf("removing the credentials: %+v, %v", removed.Odoo, err)
	}
	if _, err := e.admin.AdminUpdateSource(ctx, odoo.ID, sdk.SourceUpdate{ReconcileInterval: sdk.Ptr(-time.Second)}); !errors.Is(err, sdk.ErrValidation) {
		t.Errorf("a negative interval: %v, want ErrValidation", err)
	}

	if _, err := pc.AdminGetSource(ctx, odoo.ID); !errors.Is(err, sdk.ErrForbidden) {
		t.Errorf("AdminGetSource as a partner: %v, want ErrForbidden", err)
	}
}

func TestServerErrors(t *testing.T) {
	e := start(t)
	ctx := testContext(t)
	p, pc := e.partner(t, ctx, "errors")

	var ae *sdk.APIError
	_, err := e.client("").Me(ctx)
	if !errors.Is(err, sdk.ErrUnauthorized) || !errors.As(err, &ae) || ae.Type != sdk.ProblemTypeBase+"unauthorized" {
		t.Errorf("no token: %v, want ErrUnauthorized", err)
	}
	if _, err := e.client("hg_wrong").Me(ctx); !errors.Is(err, sdk.ErrUnauthorized) {
		t.Errorf("wrong key: %v, want ErrUnauthorized", err)
	}
	if _, err := pc.AdminListPartners(ctx, sdk.PartnerListParams{}); !errors.Is(err, sdk.ErrForbidden) {
		t.Errorf("partner listing partners: %v, want ErrForbidden", err)
	}
	if _, err := e.admin.AdminGetPartner(ctx, "ptn_missing"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("unknown partner: %v, want ErrNotFound", err)
	}
	if _, err := pc.GetDelivery(ctx, "dlv_missing"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("unknown delivery: %v, want ErrNotFound", err)
	}
	if _, err := pc.ListDeliveryAttempts(ctx, "dlv_missing"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("unknown delivery's attempts: %v, want ErrNotFound", err)
	}
	_, err = pc.ListDeliveries(ctx, sdk.DeliveryListParams{Limit: 1000})
	if !errors.Is(err, sdk.ErrValidation) || !errors.As(err, &ae) || ae.Status != 400 || len(ae.Errors) != 1 || ae.Errors[0].Field != "limit" {
		t.Errorf("limit 1000: %v, want a 400 naming limit", err)
	}
	_, err = pc.CreateEndpoint(ctx, sdk.EndpointInput{URL: "https://x.example"})
	if !errors.Is(err, sdk.ErrValidation) || errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("endpoint without event types: %v, want ErrValidation", err)
	}
	// A quota of one endpoint: the second is a quota conflict.
	if _, err := e.admin.AdminUpdatePartner(ctx, p.ID, sdk.PartnerUpdate{Quota: &sdk.Quota{MaxEndpoints: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.CreateEndpoint(ctx, sdk.EndpointInput{URL: "https://a.example", EventTypes: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	_, err = pc.CreateEndpoint(ctx, sdk.EndpointInput{URL: "https://b.example", EventTypes: []string{"*"}})
	if !errors.Is(err, sdk.ErrQuotaExceeded) || !errors.Is(err, sdk.ErrConflict) || !errors.As(err, &ae) || !strings.Contains(ae.Detail, "1 endpoints") {
		t.Errorf("second endpoint over quota: %v, want ErrQuotaExceeded", err)
	}
	if !strings.Contains(err.Error(), "409") || !strings.Contains(err.Error(), "request id") {
		t.Errorf("error text %q: want the status and the request id", err)
	}
}

func TestHealth(t *testing.T) {
	e := start(t)
	ctx := testContext(t)
	anon := e.client("")
	if err := anon.Health(ctx); err != nil {
		t.Errorf("Health: %v", err)
	}
	r, err := anon.Ready(ctx)
	if err != nil {
		t.Fatalf("Ready: %v", err)
	}
	if diff := cmp.Diff(sdk.Readiness{Status: "ok", Checks: map[string]string{"database": "ok", "redis": "ok"}}, r); diff != "" {
		t.Errorf("Ready (-want +got):\n%s", diff)
	}
	st, err := e.admin.AdminStats(ctx)
	if err != nil {
		t.Fatalf("AdminStats: %v", err)
	}
	if st.At.IsZero() || st.HeldByReason == nil || len(st.Queues) == 0 {
		t.Errorf("AdminStats: %+v", st)
	}
	if _, err := anon.AdminStats(ctx); !errors.Is(err, sdk.ErrUnauthorized) {
		t.Errorf("AdminStats without a token: %v, want ErrUnauthorized", err)
	}
	m, err := anon.Metrics(ctx)
	if err != nil {
		t.Fatalf("Metrics: %v", err)
	}
	if !strings.Contains(m, "# TYPE") {
		t.Errorf("Metrics: not the Prometheus text format: %.200s", m)
	}
}
