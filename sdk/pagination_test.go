package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hookgate/hookgate/sdk"
)

// pager serves /v1/deliveries from n deliveries, paging by limit and
// an integer cursor; failAt makes the page starting there answer 500.
type pager struct {
	*httptest.Server
	mu      sync.Mutex
	n       int
	failAt  int
	stuck   bool // answer the same cursor forever
	fetches []string
}

func newPager(t *testing.T, n int) *pager {
	p := &pager{n: n, failAt: -1}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		p.mu.Lock()
		defer p.mu.Unlock()
		p.fetches = append(p.fetches, r.URL.RawQuery)
		from, _ := strconv.Atoi(q.Get("cursor"))
		limit, _ := strconv.Atoi(q.Get("limit"))
		if limit == 0 {
			limit = 50
		}
		if from == p.failAt {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(500)
			fmt.Fprint(w, `{"type":"https://hookgate.dev/problems/internal","title":"Internal error","status":500}`)
			return
		}
		var data []sdk.Delivery
		for i := from; i < min(from+limit, p.n); i++ {
			data = append(data, sdk.Delivery{ID: fmt.Sprintf("dlv_%02d", i), EndpointID: q.Get("endpoint_id"), Status: "succeeded"})
		}
		var next any
		if from+limit < p.n {
			next = strconv.Itoa(from + limit)
		}
		if p.stuck {
			next = q.Get("cursor")
		}
		json.NewEncoder(w).Encode(map[string]any{"data": data, "next_cursor": next})
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *pager) queries() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.fetches...)
}

func TestDeliveriesIterator(t *testing.T) {
	ctx := context.Background()
	t.Run("every page", func(t *testing.T) {
		p := newPager(t, 7)
		var got []string
		for d, err := range sdk.NewClient(p.URL, "k").Deliveries(ctx, sdk.DeliveryListParams{EndpointID: "ep_1", Limit: 3}) {
			if err != nil {
				t.Fatal(err)
			}
			if d.EndpointID != "ep_1" {
				t.Errorf("filter lost on a later page: %+v", d)
			}
			got = append(got, d.ID)
		}
		want := []string{"dlv_00", "dlv_01", "dlv_02", "dlv_03", "dlv_04", "dlv_05", "dlv_06"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("items (-want +got):\n%s", diff)
		}
		wantQ := []string{"endpoint_id=ep_1&limit=3", "cursor=3&endpoint_id=ep_1&limit=3", "cursor=6&endpoint_id=ep_1&limit=3"}
		if diff := cmp.Diff(wantQ, p.queries()); diff != "" {
			t.Errorf("page requests (-want +got):\n%s", diff)
		}
	})
	t.Run("from a cursor", func(t *testing.T) {
		p := newPager(t, 5)
		n := 0
		for _, err := range sdk.NewClient(p.URL, "k").Deliveries(ctx, sdk.DeliveryListParams{Limit: 2, Cursor: "2"}) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != 3 {
			t.Errorf("%d items after cursor 2, want 3", n)
		}
	})
	t.Run("break stops fetching", func(t *testing.T) {
		p := newPager(t, 100)
		n := 0
		for _, err := range sdk.NewClient(p.URL, "k").Deliveries(ctx, sdk.DeliveryListParams{Limit: 10}) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 15 {
				break
			}
		}
		if got := len(p.queries()); got != 2 {
			t.Errorf("%d pages fetched for 15 items, want 2", got)
		}
	})
	t.Run("error mid-way", func(t *testing.T) {
		p := newPager(t, 10)
		p.failAt = 4
		var items int
		var errs []error
		for _, err := range sdk.NewClient(p.URL, "k").Deliveries(ctx, sdk.DeliveryListParams{Limit: 4}) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			items++
		}
		var ae *sdk.APIError
		if items != 4 || len(errs) != 1 || !errors.As(errs[0], &ae) || ae.Status != 500 {
			t.Errorf("%d items, errors %v; want 4 items then one 500", items, errs)
		}
	})
	t.Run("a repeated cursor ends the loop", func(t *testing.T) {
		p := newPager(t, 10)
		p.stuck = true
		var errs []error
		n := 0
		for _, err := range sdk.NewClient(p.URL, "k").Deliveries(ctx, sdk.DeliveryListParams{Limit: 2, Cursor: "0"}) {
			if err != nil {
				errs = append(errs, err)
			}
			if n++; n > 100 {
				t.Fatal("looping")
			}
		}
		if len(errs) != 1 {
			t.Errorf("errors %v, want one", errs)
		}
	})
	t.Run("page level", func(t *testing.T) {
		p := newPager(t, 3)
		c := sdk.NewClient(p.URL, "k")
		page, err := c.ListDeliveries(ctx, sdk.DeliveryListParams{Limit: 2})
		if err != nil || len(page.Data) != 2 || page.NextCursor != "2" {
			t.Fatalf("first page %+v, %v", page, err)
		}
		page, err = c.ListDeliveries(ctx, sdk.DeliveryListParams{Limit: 2, Cursor: page.NextCursor})
		if err != nil || len(page.Data) != 1 || page.NextCursor != "" {
			t.Fatalf("last page %+v, %v", page, err)
		}
	})
}

func TestDurationsJSON(t *testing.T) {
	var d sdk.Durations
	if err := json.Unmarshal([]byte(`["5s","1m30s",2.5]`), &d); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sdk.Durations{5e9, 90e9, 2.5e9}, d); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	b, _ := json.Marshal(d)
	if string(b) != `["5s","1m30s","2.5s"]` {
		t.Errorf("encoded %s", b)
	}
	if err := json.Unmarshal([]byte(`["soon"]`), &d); err == nil {
		t.Error("accepted a bad duration")
	}
	if err := json.Unmarshal([]byte(`null`), &d); err != nil || d != nil {
		t.Errorf("null: %v, %v", d, err)
	}
}
