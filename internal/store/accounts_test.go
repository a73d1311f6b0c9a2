package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/testenv"
)

// TestAccountsConformance runs the accounts storage suite (users,
// sessions, audit, quota counting) on SQLite and PostgreSQL.
func TestAccountsConformance(t *testing.T) {
	for _, b := range testenv.Backends {
		t.Run(b.Name, func(t *testing.T) {
			st := open(t, b)
			for _, c := range []struct {
				name string
				f    func(t *testing.T, st *store.Store)
			}{
				{"users", testUsers},
				{"sessions", testSessions},
				{"audit", testAudit},
				{"quota usage and release", testQuotaUsage},
			} {
				t.Run(c.name, func(t *testing.T) { c.f(t, st) })
			}
		})
	}
}

func newUser(t *testing.T, st *store.Store, partnerID, email string, role domain.Role) domain.User {
	t.Helper()
	n := now()
	u := domain.User{ID: ids.New(ids.User), PartnerID: partnerID, Email: email, Role: role, CreatedAt: n, UpdatedAt: n}
	if err := st.CreateUser(ctx, u, "hash-of-"+email); err != nil {
		t.Fatal(err)
	}
	return u
}

func testUsers(t *testing.T, st *store.Store) {
	p := newPartner(t, st, domain.PartnerActive)
	other := newPartner(t, st, domain.PartnerActive)
	owner := newUser(t, st, p.ID, "owner@users.example", domain.RolePartnerOwner)
	member := newUser(t, st, p.ID, "member@users.example", domain.RolePartnerMember)
	admin := newUser(t, st, "", "admin@users.example", domain.RoleAdmin)

	got, hash, err := st.UserByEmail(ctx, "owner@users.example")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(owner, got); diff != "" || hash != "hash-of-owner@users.example" {
		t.Errorf("by email (-want +got):\n%s hash %q", diff, hash)
	}
	if _, _, err := st.UserByEmail(ctx, "nobody@users.example"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("unknown email: %v", err)
	}
	if got, _, err := st.User(ctx, "", admin.ID); err != nil || got.PartnerID != "" || got.Role != domain.RoleAdmin {
		t.Errorf("admin user: %+v %v", got, err)
	}
	if _, _, err := st.User(ctx, other.ID, member.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("another partner's user: %v", err)
	}
	dup := domain.User{ID: ids.New(ids.User), PartnerID: other.ID, Email: "member@users.example", Role: domain.RolePartnerOwner,
		CreatedAt: now(), UpdatedAt: now()}
	if err := st.CreateUser(ctx, dup, "h"); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("duplicate email: %v", err)
	}

	// Self-signup: partner and owner together, or neither.
	np := domain.Partner{ID: ids.New(ids.Partner), Name: "New", Email: "owner@users.example", Status: domain.PartnerPending,
		Entitlements: []string{"*"}, CreatedAt: now(), UpdatedAt: now()}
	nu := domain.User{ID: ids.New(ids.User), PartnerID: np.ID, Email: "owner@users.example", Role: domain.RolePartnerOwner,
		CreatedAt: now(), UpdatedAt: now()}
	if err := st.CreatePartnerWithOwner(ctx, np, nu, "h"); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("signup with a taken email: %v", err)
	}
	if _, err := st.Partner(ctx, np.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("a failed signup left its partner: %v", err)
	}
	nu.Email = "fresh@users.example"
	if err := st.CreatePartnerWithOwner(ctx, np, nu, "h"); err != nil {
		t.Fatal(err)
	}

	us, err := st.ListUsers(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]domain.User{owner, member}, us); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}
	if n, err := st.CountUsers(ctx, p.ID, domain.RolePartnerOwner); err != nil || n != 1 {
		t.Errorf("owners: %d %v", n, err)
	}

	// A password change revokes every session of the user.
	s1 := newSession(t, st, member.ID, "r1")
	s2 := newSession(t, st, member.ID, "r2")
	if err := st.SetPassword(ctx, member.ID, "new-hash", now()); err != nil {
		t.Fatal(err)
	}
	if _, h, _ := st.User(ctx, p.ID, member.ID); h != "new-hash" {
		t.Errorf("hash after change: %q", h)
	}
	for _, id := range []string{s1.ID, s2.ID} {
		if a, err := st.SessionAuth(ctx, id); err != nil || a.Session.RevokedAt == nil {
			t.Errorf("session %s after a password change: %+v %v", id, a.Session, err)
		}
	}
	if err := st.SetPassword(ctx, "usr_missing", "h", now()); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("password of a missing user: %v", err)
	}

	// Deleting a user takes its sessions; another partner cannot.
	if err := st.DeleteUser(ctx, other.ID, member.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("delete by another partner: %v", err)
	}
	if err := st.DeleteUser(ctx, p.ID, member.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SessionAuth(ctx, s1.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("session of a deleted user: %v", err)
	}
	if _, _, err := st.UserByEmail(ctx, "member@users.example"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("deleted user: %v", err)
	}
}

func newSession(t *testing.T, st *store.Store, userID, refreshHash string) domain.Session {
	t.Helper()
	n := now()
	se := domain.Session{ID: ids.New("ses"), UserID: userID, CreatedAt: n, RefreshedAt: n, ExpiresAt: n.Add(time.Hour), Address: "127.0.0.1"}
	if err := st.CreateSession(ctx, se, refreshHash+"-"+se.ID); err != nil {
		t.Fatal(err)
	}
	return se
}

func testSessions(t *testing.T, st *store.Store) {
	p := newPartner(t, st, domain.PartnerPending)
	u := newUser(t, st, p.ID, "sessions@users.example", domain.RolePartnerOwner)
	se := newSession(t, st, u.ID, "h1")
	h1 := "h1-" + se.ID

	a, err := st.SessionAuth(ctx, se.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := domain.SessionAuth{Session: se, User: u, PartnerStatus: domain.PartnerPending}
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("session auth (-want +got):\n%s", diff)
	}
	got, reused, err := st.SessionByRefreshHash(ctx, h1)
	if err != nil || reused || got.ID != se.ID {
		t.Fatalf("by refresh hash: %+v %v %v", got, reused, err)
	}

	later := now().Add(time.Minute)
	if err := st.RotateSession(ctx, se.ID, h1, "h2", later, later.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.RotateSession(ctx, se.ID, h1, "h3", later, later.Add(time.Hour)); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("second rotation from the spent token: %v", err)
	}
	if got, reused, err := st.SessionByRefreshHash(ctx, h1); err != nil || !reused || got.ID != se.ID {
		t.Errorf("spent token: %+v reused=%v %v", got, reused, err)
	}
	got, reused, err = st.SessionByRefreshHash(ctx, "h2")
	if err != nil || reused || !got.RefreshedAt.Equal(later) || !got.ExpiresAt.Equal(later.Add(time.Hour)) {
		t.Errorf("rotated session: %+v reused=%v %v", got, reused, err)
	}
	if _, _, err := st.SessionByRefreshHash(ctx, "nope"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("unknown refresh token: %v", err)
	}

	if err := st.RevokeSession(ctx, se.ID, later); err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeSession(ctx, se.ID, later.Add(time.Hour)); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	if a, _ := st.SessionAuth(ctx, se.ID); a.Session.RevokedAt == nil || !a.Session.RevokedAt.Equal(later) {
		t.Errorf("revoked at %v, want %v (the first revocation)", a.Session.RevokedAt, later)
	}
	if err := st.RotateSession(ctx, se.ID, "h2", "h4", later, later); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("rotating a revoked session: %v", err)
	}

	other := newSession(t, st, u.ID, "o")
	if err := st.RevokeUserSessions(ctx, u.ID, later); err != nil {
		t.Fatal(err)
	}
	if a, _ := st.SessionAuth(ctx, other.ID); a.Session.RevokedAt == nil {
		t.Error("RevokeUserSessions left a session live")
	}
	n, err := st.PruneSessions(ctx, later.Add(time.Second))
	if err != nil || n < 2 {
		t.Errorf("prune: %d %v, want both revoked sessions gone", n, err)
	}
	if _, err := st.SessionAuth(ctx, se.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("pruned session: %v", err)
	}
}

func testAudit(t *testing.T, st *store.Store) {
	base := now()
	var entries []domain.AuditEntry
	for i, e := range []domain.AuditEntry{
		{Actor: "admin-token", Action: "partner.created", Target: "ptn_a", PartnerID: "ptn_a", Address: "10.0.0.1", Detail: map[string]any{"name": "A"}},
		{Actor: "admin-token", Action: "partner.approved", Target: "ptn_a", PartnerID: "ptn_a"},
		{Actor: "usr_1", Action: "api_key.created", Target: "key_1", PartnerID: "ptn_a", Detail: map[string]any{"prefix": "hg_abcdefg"}},
		{Actor: "anonymous", Action: "login.failed", Target: "x@example.com", Address: "10.0.0.2"},
		{Actor: "admin-token", Action: "partner_x.weird", Target: "t"}, // must not match partner.*
	} {
		e.At = base.Add(time.Duration(i) * time.Millisecond)
		e.ID = ids.NewAt(ids.Audit, e.At)
		if err := st.InsertAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	idsOf := func(p domain.Page[domain.AuditEntry]) []string {
		var out []string
		for _, e := range p.Items {
			out = append(out, e.ID)
		}
		return out
	}
	for _, c := range []struct {
		name string
		f    store.AuditFilter
		want []int
	}{
		{"all, newest first", store.AuditFilter{}, []int{4, 3, 2, 1, 0}},
		{"by actor", store.AuditFilter{Actor: "admin-token"}, []int{4, 1, 0}},
		{"by action", store.AuditFilter{Action: "login.failed"}, []int{3}},
		{"by action family", store.AuditFilter{Action: "partner.*"}, []int{1, 0}},
		{"by partner", store.AuditFilter{PartnerID: "ptn_a"}, []int{2, 1, 0}},
		{"combined", store.AuditFilter{Actor: "admin-token", PartnerID: "ptn_a", Action: "partner.approved"}, []int{1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			page, err := st.ListAudit(ctx, c.f, "", 50)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, i := range c.want {
				want = append(want, entries[i].ID)
			}
			if diff := cmp.Diff(want, idsOf(page)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
	p1, err := st.ListAudit(ctx, store.AuditFilter{}, "", 2)
	if err != nil || p1.NextCursor == "" {
		t.Fatalf("page 1: %v %v", p1, err)
	}
	p2, _ := st.ListAudit(ctx, store.AuditFilter{}, p1.NextCursor, 2)
	if diff := cmp.Diff([]string{entries[2].ID, entries[1].ID}, idsOf(p2)); diff != "" {
		t.Errorf("page 2 (-want +got):\n%s", diff)
	}
	got := p1.Items[0]
	if got.Action != "partner_x.weird" || !got.At.Equal(entries[4].At) {
		t.Errorf("round trip: %+v", got)
	}
	if first, _ := st.ListAudit(ctx, store.AuditFilter{Action: "partner.created"}, "", 1); len(first.Items) != 1 ||
		!cmp.Equal(first.Items[0].Detail, map[string]any{"name": "A"}) || first.Items[0].Address != "10.0.0.1" {
		t.Errorf("detail and address: %+v", first.Items)
	}
}

func testQuotaUsage(t *testing.T, st *store.Store) {
	p := newPartner(t, st, domain.PartnerActive)
	other := newPartner(t, st, domain.PartnerActive)
	ep := newEndpoint(t, st, p, domain.EndpointActive)
	paused := newEndpoint(t, st, p, domain.EndpointPaused)
	oep := newEndpoint(t, st, other, domain.EndpointActive)
	thisMonth, _ := domain.PeriodBounds(time.Now())
	lastMonth := thisMonth.Add(-24 * time.Hour)
	mk := func(partner, endpoint string, at time.Time, status domain.DeliveryStatus, reason string) domain.Delivery {
		d := domain.Delivery{ID: ids.NewAt(ids.Delivery, at), EventID: ids.New(ids.Event), EndpointID: endpoint, PartnerID: partner,
			EventType: "order.confirmed", Status: status, HeldReason: reason, CreatedAt: at, UpdatedAt: at}
		if status == domain.DeliveryPending {
			d.NextAttemptAt = &at
		}
		if err := st.InsertDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	n := now()
	mk(p.ID, ep.ID, n, domain.DeliveryPending, "")                                                // counted
	mk(p.ID, ep.ID, n, domain.DeliveryHeld, domain.HeldPartnerSuspended)                          // counted: held for another reason
	heldNow := mk(p.ID, ep.ID, n, domain.DeliveryHeld, domain.HeldQuota)                          // not counted
	mk(p.ID, ep.ID, lastMonth, domain.DeliveryPending, "")                                        // last month
	oldHeld := mk(p.ID, ep.ID, lastMonth.Add(time.Second), domain.DeliveryHeld, domain.HeldQuota) // released below
	onPaused := mk(p.ID, paused.ID, lastMonth, domain.DeliveryHeld, domain.HeldQuota)             // paused endpoint: stays
	mk(other.ID, oep.ID, n, domain.DeliveryPending, "")                                           // another partner
	mk(other.ID, oep.ID, n, domain.DeliveryHeld, domain.HeldQuota)

	usage := func(at time.Time) int64 {
		t.Helper()
		u, err := st.QuotaUsage(ctx, p.ID, at)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if got := usage(n); got != 2 {
		t.Errorf("this month's usage %d, want 2", got)
	}
	if got := usage(lastMonth); got != 1 {
		t.Errorf("last month's usage %d, want 1", got)
	}
	if held, err := st.HeldCounts(ctx, p.ID); err != nil || !cmp.Equal(held, map[string]int64{"quota": 3, "partner_suspended": 1}) {
		t.Errorf("held counts %v %v", held, err)
	}
	if ps, err := st.PartnersWithHeld(ctx, []string{domain.HeldQuota}); err != nil || !cmp.Equal(ps, sortedIDs(p.ID, other.ID)) {
		t.Errorf("partners with quota holds: %v %v", ps, err)
	}
	eps, err := st.ActiveEndpointIDs(ctx, p.ID)
	if err != nil || !cmp.Equal(eps, []string{ep.ID}) {
		t.Fatalf("active endpoints %v %v", eps, err)
	}
	held, err := st.HeldDeliveries(ctx, p.ID, []string{domain.HeldQuota}, eps, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != 2 || held[0].ID != oldHeld.ID || held[1].ID != heldNow.ID {
		t.Fatalf("held deliveries, oldest first: %+v", held)
	}
	// Released from a quota hold this month: counts this month, not in
	// the month it was created.
	released, err := st.ReleaseDeliveries(ctx, []string{oldHeld.ID, onPaused.ID + "-no-such"}, n)
	if err != nil || !cmp.Equal(released, []string{oldHeld.ID}) {
		t.Fatalf("released %v %v", released, err)
	}
	if again, _ := st.ReleaseDeliveries(ctx, []string{oldHeld.ID}, n); len(again) != 0 {
		t.Errorf("released twice: %v", again)
	}
	d, _ := st.Delivery(ctx, p.ID, oldHeld.ID)
	if d.Status != domain.DeliveryPending || d.HeldReason != "" || d.NextAttemptAt == nil {
		t.Errorf("released delivery: %+v", d)
	}
	if got := usage(n); got != 3 {
		t.Errorf("usage after release %d, want 3", got)
	}
	if got := usage(lastMonth); got != 1 {
		t.Errorf("last month's usage after release %d, want 1", got)
	}
}

func sortedIDs(a, b string) []string {
	if a < b {
		return []string{a, b}
	}
	return []string{b, a}
}
