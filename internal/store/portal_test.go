package store_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookgate/hookgate/internal/domain"
	"github.com/hookgate/hookgate/internal/store"
	"github.com/hookgate/hookgate/internal/testenv"
)

// TestDeliveryActivity checks the portal dashboard's counts by time bucket
// and status on SQLite and PostgreSQL: bucket edges, tenant scoping, and
// deliveries before the window left out.
func TestDeliveryActivity(t *testing.T) {
	for _, b := range testenv.Backends {
		t.Run(b.Name, func(t *testing.T) {
			st := open(t, b)
			p := newPartner(t, st, domain.PartnerActive)
			other := newPartner(t, st, domain.PartnerActive)
			ep := newEndpoint(t, st, p, domain.EndpointActive)
			oep := newEndpoint(t, st, other, domain.EndpointActive)
			since := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
			add := func(e domain.Endpoint, at time.Time, s domain.DeliveryStatus) {
				deliveryAt(t, st, eventAt(t, st, "order.confirmed", at, nil), e, s, at)
			}
			add(ep, since.Add(-time.Second), domain.DeliverySucceeded)               // before the window
			add(ep, since, domain.DeliverySucceeded)                                 // bucket 0
			add(ep, since.Add(59*time.Minute+59*time.Second), domain.DeliveryFailed) // bucket 0
			add(ep, since.Add(time.Hour), domain.DeliveryFailed)                     // bucket 1
			add(ep, since.Add(3*time.Hour+time.Minute), domain.DeliveryHeld)         // bucket 3
			add(ep, since.Add(3*time.Hour+2*time.Minute), domain.DeliveryHeld)       // bucket 3
			add(oep, since.Add(time.Minute), domain.DeliveryFailed)                  // another partner
			got, err := st.DeliveryActivity(ctx, p.ID, since, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			want := map[[2]any]int64{
				{0, domain.DeliverySucceeded}: 1, {0, domain.DeliveryFailed}: 1,
				{1, domain.DeliveryFailed}: 1, {3, domain.DeliveryHeld}: 2,
			}
			gotMap := map[[2]any]int64{}
			for _, c := range got {
				gotMap[[2]any{c.Bucket, c.Status}] = c.Count
			}
			if d := cmp.Diff(want, gotMap); d != "" {
				t.Errorf("activity (-want +got):\n%s", d)
			}
			if _, err := st.DeliveryActivity(ctx, p.ID, since, time.Millisecond); err == nil {
				t.Error("a bucket under a second was accepted")
			}
			var _ []store.ActivityCount = got
		})
	}
}
