package outbound

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	type result struct {
		D  time.Duration
		OK bool
	}
	tests := []struct {
		name  string
		value []string // nil: header absent
		want  result
	}{
		{name: "absent", value: nil, want: result{0, false}},
		{name: "empty", value: []string{""}, want: result{0, false}},
		{name: "seconds", value: []string{"120"}, want: result{120 * time.Second, true}},
		{name: "zero", value: []string{"0"}, want: result{0, true}},
		{name: "spaces", value: []string{" 30 "}, want: result{30 * time.Second, true}},
		{name: "huge seconds saturate", value: []string{"99999999999999999999999"}, want: result{time.Duration(math.MaxInt64), true}},
		{name: "http-date", value: []string{"Sun, 01 Mar 2026 12:05:00 GMT"}, want: result{5 * time.Minute, true}},
		{name: "rfc850 date", value: []string{"Sunday, 01-Mar-26 12:00:30 GMT"}, want: result{30 * time.Second, true}},
		{name: "asctime date", value: []string{"Sun Mar  1 12:01:00 2026"}, want: result{time.Minute, true}},
		{name: "date in the past", value: []string{"Sun, 01 Mar 2026 11:00:00 GMT"}, want: result{0, true}},
		{name: "negative", value: []string{"-5"}, want: result{0, false}},
		{name: "fraction", value: []string{"1.5"}, want: result{0, false}},
		{name: "garbage", value: []string{"soon"}, want: result{0, false}},
		{name: "first value wins", value: []string{"10", "20"}, want: result{10 * time.Second, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.value != nil {
				h["Retry-After"] = tt.value
			}
			d, ok := RetryAfter(h, now)
			if diff := cmp.Diff(tt.want, result{d, ok}); diff != "" {
				t.Errorf("RetryAfter(%q) (-want +got):\n%s", tt.value, diff)
			}
		})
	}
}
