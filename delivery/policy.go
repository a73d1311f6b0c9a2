package delivery

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"
)

// Policy is the retry policy: the delays before each retry after the
// immediate first attempt, with ± jitter.
type Policy struct {
	Schedule []time.Duration
	Jitter   float64
}

// Next returns the delay before attempt number next (2 = first retry) under
// schedule s (the endpoint's override, or the global one when nil), and
// false when attempts are exhausted.
func (p Policy) Next(s []time.Duration, next int) (time.Duration, bool) {
	if s == nil {
		s = p.Schedule
	}
	i := next - 2
	if i < 0 || i >= len(s) {
		return 0, false
	}
	return jitter(s[i], p.Jitter), true
}

// MaxAttempts is 1 + the number of retries under schedule s.
func (p Policy) MaxAttempts(s []time.Duration) int {
	if s == nil {
		s = p.Schedule
	}
	return 1 + len(s)
}

func jitter(d time.Duration, f float64) time.Duration {
	if f <= 0 || d <= 0 {
		return d
	}
	// uniform in [d·(1−f), d·(1+f)]
	return time.Duration(float64(d) * (1 - f + 2*f*rand.Float64()))
}

// BoundRetryAfter applies a receiver's Retry-After to a scheduled delay:
// honoured, but kept between the scheduled delay and twice it.
func BoundRetryAfter(scheduled, retryAfter time.Duration) time.Duration {
	if retryAfter < scheduled {
		return scheduled
	}
	if retryAfter > 2*scheduled {
		return 2 * scheduled
	}
	return retryAfter
}

// retryError asks asynq to run the task again after Delay. It is returned
// after a failed attempt that has retries left.
type retryError struct{ Delay time.Duration }

func (e *retryError) Error() string { return "attempt failed; retry in " + e.Delay.String() }

// waitError asks asynq to run the task again after Delay without counting a
// failure: the delivery was throttled or its endpoint is busy. It consumes
// no attempt.
type waitError struct {
	Delay  time.Duration
	Reason string
}

func (e *waitError) Error() string { return e.Reason + "; wait " + e.Delay.String() }

// RetryDelay is the asynq RetryDelayFunc: our errors carry their delay;
// anything else (database or Redis trouble) backs off exponentially from
// one second to a minute.
//
// asynq keeps due times in whole seconds, truncated; the delay is rounded up
// so that a retry never runs before its time (a Retry-After is honoured).
func RetryDelay(n int, err error, _ *asynq.Task) time.Duration {
	var re *retryError
	if errors.As(err, &re) {
		return roundUpToSecond(re.Delay)
	}
	var we *waitError
	if errors.As(err, &we) {
		return roundUpToSecond(we.Delay)
	}
	d := time.Second << min(n, 6)
	return jitter(min(d, time.Minute), 0.2)
}

// roundUpToSecond stretches d so that now+d lands on or after the next
// whole second, as asynq stores it.
func roundUpToSecond(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	now := time.Now()
	return ceilSecond(now.Add(d)).Sub(now) + 2*time.Millisecond
}

// ceilSecond rounds t up to a whole second.
func ceilSecond(t time.Time) time.Time {
	if t2 := t.Truncate(time.Second); !t2.Equal(t) {
		return t2.Add(time.Second)
	}
	return t
}

// IsFailure is the asynq IsFailure predicate: waiting is not failing.
func IsFailure(err error) bool {
	var we *waitError
	return !errors.As(err, &we)
}
