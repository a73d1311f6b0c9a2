package delivery

import (
	"errors"
	"testing"
	"time"
)

func TestPolicyNext(t *testing.T) {
	p := Policy{Schedule: []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute}, Jitter: 0.2}
	override := []time.Duration{time.Second}
	cases := []struct {
		name     string
		schedule []time.Duration
		next     int
		want     time.Duration
		more     bool
	}{
		{"first retry", nil, 2, 5 * time.Second, true},
		{"second retry", nil, 3, 5 * time.Minute, true},
		{"last retry", nil, 4, 30 * time.Minute, true},
		{"exhausted", nil, 5, 0, false},
		{"override first", override, 2, time.Second, true},
		{"override exhausted", override, 3, 0, false},
		{"empty override means no retries", []time.Duration{}, 2, 0, false},
		{"attempt one is immediate, not a retry", nil, 1, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i := 0; i < 200; i++ {
				got, more := p.Next(c.schedule, c.next)
				if more != c.more {
					t.Fatalf("more = %v, want %v", more, c.more)
				}
				lo, hi := time.Duration(float64(c.want)*0.8), time.Duration(float64(c.want)*1.2)
				if got < lo || got > hi {
					t.Fatalf("delay %s outside ±20%% of %s", got, c.want)
				}
			}
		})
	}
	if n := p.MaxAttempts(nil); n != 4 {
		t.Errorf("MaxAttempts = %d, want 4", n)
	}
}

func TestJitterSpreads(t *testing.T) {
	seen := map[time.Duration]bool{}
	var lo, hi time.Duration = time.Hour, 0
	for i := 0; i < 2000; i++ {
		d := jitter(10*time.Second, 0.2)
		seen[d] = true
		lo, hi = min(lo, d), max(hi, d)
	}
	if len(seen) < 1000 {
		t.Errorf("jitter produced only %d distinct delays", len(seen))
	}
	if lo < 8*time.Second || hi > 12*time.Second || lo > 8500*time.Millisecond || hi < 11500*time.Millisecond {
		t.Errorf("jitter range [%s, %s], want about [8s, 12s]", lo, hi)
	}
}

func TestBoundRetryAfter(t *testing.T) {
	cases := []struct{ scheduled, retryAfter, want time.Duration }{
		{5 * time.Second, 0, 5 * time.Second},
		{5 * time.Second, 7 * time.Second, 7 * time.Second},
		{5 * time.Second, time.Hour, 10 * time.Second},
		{5 * time.Minute, time.Second, 5 * time.Minute},
	}
	for _, c := range cases {
		if got := BoundRetryAfter(c.scheduled, c.retryAfter); got != c.want {
			t.Errorf("BoundRetryAfter(%s, %s) = %s, want %s", c.scheduled, c.retryAfter, got, c.want)
		}
	}
}

func TestRetryDelayAndFailure(t *testing.T) {
	// Delays are stretched to the next whole second (asynq's resolution),
	// never shortened.
	for _, c := range []struct {
		err  error
		want time.Duration
	}{{&retryError{Delay: 42 * time.Second}, 42 * time.Second}, {&waitError{Delay: time.Second, Reason: "x"}, time.Second}} {
		now := time.Now()
		d := RetryDelay(3, c.err, nil)
		if d < c.want || d > c.want+time.Second+10*time.Millisecond {
			t.Errorf("delay %s for %s", d, c.want)
		}
		if due := now.Add(d); due.Before(now.Add(c.want).Truncate(time.Second).Add(time.Second)) && !now.Add(c.want).Equal(now.Add(c.want).Truncate(time.Second)) {
			t.Errorf("due %s is before the next whole second after %s", due, now.Add(c.want))
		}
	}
	if d := RetryDelay(20, errors.New("db down"), nil); d > 72*time.Second || d < 48*time.Second {
		t.Errorf("infrastructure back-off %s, want about a minute at most", d)
	}
	if IsFailure(&waitError{}) {
		t.Error("waiting for a rate limit counts as a failure")
	}
	if !IsFailure(&retryError{}) || !IsFailure(errors.New("x")) {
		t.Error("a failed attempt does not count as a failure")
	}
}
