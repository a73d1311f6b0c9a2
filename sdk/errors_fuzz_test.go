package sdk

import (
	"net/http"
	"testing"
	"unicode/utf8"
)

// FuzzParseAPIError feeds arbitrary error answers to the problem parser: it
// must never panic, must keep the status, and must bound what it copies
// from a body that is not a problem document.
func FuzzParseAPIError(f *testing.F) {
	f.Add(422, "application/problem+json", "5", `{"type":"https://hookgate.dev/problems/validation","title":"Validation failed","status":422,"errors":[{"field":"url","detail":"x"}]}`)
	f.Add(503, "text/html", "Wed, 21 Oct 2015 07:28:00 GMT", "<html>down</html>")
	f.Add(429, "application/json; charset=utf-8", "-1", `{"errors":null}`)
	f.Add(500, "", "", "\xff\xfe")
	f.Fuzz(func(t *testing.T, status int, contentType, retryAfter, body string) {
		if status < 100 || status > 999 {
			return
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{}}
		resp.Header.Set("Content-Type", contentType)
		resp.Header.Set("Retry-After", retryAfter)
		e := parseAPIError(resp, []byte(body))
		if e.Status != status {
			t.Fatalf("status %d, want %d", e.Status, status)
		}
		if e.RetryAfter < 0 || e.RetryAfter > MaxRetryAfter {
			t.Fatalf("RetryAfter %v out of [0, %v]", e.RetryAfter, MaxRetryAfter)
		}
		if e.Type == "" || e.Title == "" && http.StatusText(status) != "" {
			t.Fatalf("empty type or title: %+v", e)
		}
		if e.Instance == "" && len(e.Detail) > 200+len("…") && utf8.ValidString(body) {
			// A non-problem body is clipped; a problem's own detail is not.
			var isProblem bool
			for _, ct := range []string{"application/problem+json", "application/json"} {
				isProblem = isProblem || len(contentType) >= len(ct) && contentType[:len(ct)] == ct
			}
			if !isProblem {
				t.Fatalf("detail of %d bytes copied from a non-problem body", len(e.Detail))
			}
		}
		_ = e.Error()
		for _, s := range []error{ErrNotFound, ErrValidation, ErrRateLimited, ErrQuotaExceeded, ErrPendingApproval} {
			_ = e.Is(s)
		}
	})
}
