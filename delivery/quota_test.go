package delivery

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/crypto"
	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/ids"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/testenv"
)

func quotaEnv(t *testing.T) (*store.Store, redis.UniversalClient) {
	t.Helper()
	box, err := crypto.NewBox(crypto.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), store.Options{Box: box, SQLitePath: t.TempDir() + "/q.db"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	o, err := redis.ParseURL(testenv.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(o)
	t.Cleanup(func() { rdb.Close() })
	return st, rdb
}

func quotaPartner(t *testing.T, st *store.Store, monthly int64) (domain.Partner, domain.Endpoint) {
	t.Helper()
	n := time.Now().UTC()
	p := domain.Partner{ID: ids.New(ids.Partner), Name: "Q", Email: "q@example.com", Status: domain.PartnerActive,
		Entitlements: []string{"*"}, Quota: domain.Quota{MonthlyDeliveries: monthly}, CreatedAt: n, UpdatedAt: n}
	if err := st.CreatePartner(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	e := domain.Endpoint{ID: ids.New(ids.Endpoint), PartnerID: p.ID, URL: "https://example.com/h", EventTypes: []string{"*"},
		Status: domain.EndpointActive, CreatedAt: n, UpdatedAt: n}
	if err := st.CreateEndpoint(context.Background(), e, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"); err != nil {
		t.Fatal(err)
	}
	return p, e
}

func insertDelivery(t *testing.T, st *store.Store, p domain.Partner, e domain.Endpoint, at time.Time, status domain.DeliveryStatus, reason string) domain.Delivery {
	t.Helper()
	d := domain.Delivery{ID: ids.NewAt(ids.Delivery, at), EventID: ids.New(ids.Event), EndpointID: e.ID, PartnerID: p.ID,
		EventType: "order.confirmed", Status: status, HeldReason: reason, CreatedAt: at, UpdatedAt: at}
	if err := st.InsertDelivery(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRedisQuotaAdmits checks the gate: it reconciles from the database on
// first use, never admits beyond the limit even under concurrency, refunds,
// and recounts after Reset.
func TestRedisQuotaAdmits(t *testing.T) {
	ctx := context.Background()
	st, rdb := quotaEnv(t)
	p, e := quotaPartner(t, st, 10)
	now := time.Now().UTC()
	for range 3 {
		insertDelivery(t, st, p, e, now, domain.DeliveryPending, "")
	}
	insertDelivery(t, st, p, e, now, domain.DeliveryHeld, domain.HeldQuota) // not counted
	q := NewRedisQuota(rdb, st)

	got, err := q.Admit(ctx, p.ID, 10, 5, now)
	if err != nil || got != 5 {
		t.Fatalf("first admit: %d %v, want 5 (3 used of 10)", got, err)
	}
	if got, _ := q.Admit(ctx, p.ID, 10, 5, now); got != 2 {
		t.Errorf("second admit: %d, want the 2 left", got)
	}
	if got, _ := q.Admit(ctx, p.ID, 10, 1, now); got != 0 {
		t.Errorf("over quota: %d, want 0", got)
	}
	if err := q.Refund(ctx, p.ID, 2, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := q.Admit(ctx, p.ID, 10, 5, now); got != 2 {
		t.Errorf("after a refund of 2: %d, want 2", got)
	}
	// Another month is another counter.
	next := now.AddDate(0, 1, 0)
	if got, _ := q.Admit(ctx, p.ID, 10, 4, next); got != 4 {
		t.Errorf("next month: %d, want 4", got)
	}
	// Reset recounts from the database: 3 deliveries this month.
	if err := q.Reset(ctx, p.ID, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := q.Admit(ctx, p.ID, 4, 5, now); got != 1 {
		t.Errorf("after reset with limit 4: %d, want 1", got)
	}
	// No limit admits everything without asking Redis.
	if got, _ := q.Admit(ctx, p.ID, 0, 7, now); got != 7 {
		t.Errorf("unlimited: %d", got)
	}

	// Concurrent admissions from many processes share one counter.
	p2, _ := quotaPartner(t, st, 50)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := NewRedisQuota(rdb, st).Admit(ctx, p2.ID, 50, 7, now)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 50 {
		t.Errorf("20 concurrent admissions of 7 against 50 admitted %d, want exactly 50", total)
	}
}

type recordingEnqueuer struct {
	mu  sync.Mutex
	ids []string
}

func (r *recordingEnqueuer) Enqueue(_ context.Context, id string, _ time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, id)
	return nil
}

// TestQuotaReleaserMonthTurn checks the periodic release: deliveries held
// for quota in one month are released, oldest first and up to the quota,
// when the next month begins, and count against the new month.
func TestQuotaReleaserMonthTurn(t *testing.T) {
	ctx := context.Background()
	st, rdb := quotaEnv(t)
	p, e := quotaPartner(t, st, 3)
	start, _ := domain.PeriodBounds(time.Now())
	last := start.AddDate(0, -1, 0).Add(10 * 24 * time.Hour) // mid last month
	var held []string
	for i := range 5 {
		d := insertDelivery(t, st, p, e, last.Add(time.Duration(i)*time.Second), domain.DeliveryHeld, domain.HeldQuota)
		held = append(held, d.ID)
	}
	enq := &recordingEnqueuer{}
	clock := last.Add(time.Hour)
	r := &QuotaReleaser{Store: st, Quota: NewRedisQuota(rdb, st), Enqueuer: enq,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return clock }}

	// Still last month, and its quota is used up (3 delivered).
	for range 3 {
		insertDelivery(t, st, p, e, last, domain.DeliverySucceeded, "")
	}
	if n, err := r.ReleaseAll(ctx); err != nil || n != 0 {
		t.Fatalf("release within the used-up month: %d %v", n, err)
	}
	// The month turns: 3 of the 5 are released, the oldest ones.
	clock = start.Add(time.Minute)
	if n, err := r.ReleaseAll(ctx); err != nil || n != 3 {
		t.Fatalf("release at the month turn: %d %v, want 3", n, err)
	}
	if diff := cmp.Diff(held[:3], enq.ids); diff != "" {
		t.Errorf("enqueued (-want +got):\n%s", diff)
	}
	if used, _ := st.QuotaUsage(ctx, p.ID, clock); used != 3 {
		t.Errorf("this month's usage %d, want the 3 released", used)
	}
	if n, _ := r.ReleaseAll(ctx); n != 0 {
		t.Errorf("released %d more within the new month's quota", n)
	}
	// A suspended partner's deliveries stay held whatever the quota.
	susp := p
	susp.Status = domain.PartnerSuspended
	susp.Quota.MonthlyDeliveries = 0
	if err := st.UpdatePartner(ctx, susp); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.Release(ctx, p.ID, 0); n != 0 {
		t.Errorf("released %d of a suspended partner", n)
	}
	// Active with no limit: the rest go.
	susp.Status = domain.PartnerActive
	if err := st.UpdatePartner(ctx, susp); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.Release(ctx, p.ID, 0); n != 2 {
		t.Errorf("released %d once unlimited, want 2", n)
	}
}
