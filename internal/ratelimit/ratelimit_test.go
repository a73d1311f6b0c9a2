package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/ratelimit"
	"github.com/hookgate/hookgate/internal/testenv"
)

func newLimiter(t *testing.T) *ratelimit.Limiter {
	t.Helper()
	o, err := redis.ParseURL(testenv.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(o)
	t.Cleanup(func() { rdb.Close() })
	return ratelimit.New(rdb)
}

func TestTakeBurstThenRefuse(t *testing.T) {
	ctx := context.Background()
	l := newLimiter(t)
	lim := ratelimit.PerSecond(10, 3)
	var allowed []bool
	var remaining []int
	for range 5 {
		d, err := l.Take(ctx, "k", lim)
		if err != nil {
			t.Fatal(err)
		}
		allowed = append(allowed, d.Allowed)
		remaining = append(remaining, d.Remaining)
		if d.Limit != 3 {
			t.Errorf("limit %d, want the burst 3", d.Limit)
		}
		if !d.Allowed && (d.RetryAfter <= 0 || d.RetryAfter > 110*time.Millisecond) {
			t.Errorf("retry after %v, want about one emission interval (100ms)", d.RetryAfter)
		}
	}
	want := []bool{true, true, true, false, false}
	for i := range want {
		if allowed[i] != want[i] {
			t.Fatalf("allowed %v, want %v (remaining %v)", allowed, want, remaining)
		}
	}
	if diff := cmp.Diff([]int{2, 1, 0, 0, 0}, remaining); diff != "" {
		t.Errorf("remaining (-want +got):\n%s", diff)
	}
	// Another key is a separate bucket.
	if d, _ := l.Take(ctx, "other", lim); !d.Allowed {
		t.Error("a fresh bucket refused")
	}
	// A zero limit limits nothing.
	if d, _ := l.Take(ctx, "k", ratelimit.Limit{}); !d.Allowed {
		t.Error("a zero limit refused")
	}
}

func TestPeekDoesNotTake(t *testing.T) {
	ctx := context.Background()
	l := newLimiter(t)
	lim := ratelimit.PerMinute(2)
	for range 3 {
		if d, err := l.Peek(ctx, "p", lim); err != nil || !d.Allowed {
			t.Fatalf("peek on a fresh bucket: %+v %v", d, err)
		}
	}
	l.Take(ctx, "p", lim)
	if d, _ := l.Peek(ctx, "p", lim); !d.Allowed || d.Remaining != 1 {
		t.Fatalf("peek after one of two taken: %+v", d)
	}
	l.Take(ctx, "p", lim)
	d, err := l.Peek(ctx, "p", lim)
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed {
		t.Fatalf("peek on an empty bucket allowed: %+v", d)
	}
	// Two per minute: the next one is free in about 30 seconds.
	if d.RetryAfter < 25*time.Second || d.RetryAfter > 31*time.Second {
		t.Errorf("retry after %v, want about 30s", d.RetryAfter)
	}
	if err := l.Reset(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if d, _ := l.Peek(ctx, "p", lim); !d.Allowed {
		t.Error("a reset bucket is still empty")
	}
}
