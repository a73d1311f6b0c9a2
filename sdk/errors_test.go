package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hookgate/hookgate/sdk"
)

// answer serves one fixed response.
func answer(t *testing.T, status int, header map[string]string, body string) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s.URL
}

func TestProblemParsing(t *testing.T) {
	problem := map[string]string{"Content-Type": "application/problem+json", "X-Request-Id": "hdr-id"}
	for _, tc := range []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   sdk.APIError
	}{
		{
			name: "validation with fields", status: 422, header: problem,
			body: `{"type":"https://hookgate.dev/problems/validation","title":"Validation failed","status":422,
				"detail":"url: must be https","instance":"/v1/endpoints","request_id":"body-id",
				"errors":[{"field":"url","detail":"must be https"}]}`,
			want: sdk.APIError{Status: 422, Type: "https://hookgate.dev/problems/validation", Title: "Validation failed",
				Detail: "url: must be https", Instance: "/v1/endpoints", RequestID: "body-id",
				Errors: []sdk.FieldError{{Field: "url", Detail: "must be https"}}},
		},
		{
			name: "request id from the header", status: 404, header: problem,
			body: `{"type":"https://hookgate.dev/problems/not-found","title":"Not found","status":404}`,
			want: sdk.APIError{Status: 404, Type: "https://hookgate.dev/problems/not-found", Title: "Not found", RequestID: "hdr-id"},
		},
		{
			name: "rate limited with Retry-After", status: 429,
			header: map[string]string{"Content-Type": "application/problem+json; charset=utf-8", "Retry-After": "7"},
			body:   `{"type":"https://hookgate.dev/problems/rate-limited","title":"Too many requests","status":429}`,
			want: sdk.APIError{Status: 429, Type: "https://hookgate.dev/problems/rate-limited", Title: "Too many requests",
				RetryAfter: 7 * time.Second},
		},
		{
			name: "a proxy's HTML page", status: 502, header: map[string]string{"Content-Type": "text/html"},
			body: "<html>bad gateway</html>",
			want: sdk.APIError{Status: 502, Type: "about:blank", Title: "Bad Gateway", Detail: "<html>bad gateway</html>"},
		},
		{
			name: "problem type but broken JSON", status: 500, header: problem, body: `{"type":`,
			want: sdk.APIError{Status: 500, Type: "about:blank", Title: "Internal Server Error", Detail: `{"type":`, RequestID: "hdr-id"},
		},
		{
			name: "empty body", status: 403, header: nil, body: "",
			want: sdk.APIError{Status: 403, Type: "about:blank", Title: "Forbidden"},
		},
		{
			name: "absurd Retry-After is capped", status: 503,
			header: map[string]string{"Retry-After": "999999999"},
			want:   sdk.APIError{Status: 503, Type: "about:blank", Title: "Service Unavailable", RetryAfter: sdk.MaxRetryAfter},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := answer(t, tc.status, tc.header, tc.body)
			_, err := sdk.NewClient(url, "k", sdk.WithRetries(0)).GetEndpoint(context.Background(), "ep_1")
			var got *sdk.APIError
			if !errors.As(err, &got) {
				t.Fatalf("err %v (%T), want *sdk.APIError", err, err)
			}
			if diff := cmp.Diff(tc.want, *got, cmpopts.IgnoreUnexported(sdk.APIError{})); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetryAfterDate(t *testing.T) {
	when := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	url := answer(t, 503, map[string]string{"Retry-After": when}, "")
	_, err := sdk.NewClient(url, "k", sdk.WithRetries(0)).Me(context.Background())
	var ae *sdk.APIError
	if !errors.As(err, &ae) || ae.RetryAfter < time.Second || ae.RetryAfter > 3*time.Second {
		t.Errorf("err %v: want RetryAfter of about 3s from an HTTP date", err)
	}
}

func TestErrorsIs(t *testing.T) {
	sentinels := []error{sdk.ErrUnauthorized, sdk.ErrForbidden, sdk.ErrNotFound, sdk.ErrConflict,
		sdk.ErrValidation, sdk.ErrRateLimited, sdk.ErrQuotaExceeded, sdk.ErrUnavailable, sdk.ErrInvalidCredentials,
		sdk.ErrPendingApproval}
	for _, tc := range []struct {
		err  *sdk.APIError
		want []error
	}{
		{&sdk.APIError{Status: 400}, []error{sdk.ErrValidation}},
		{&sdk.APIError{Status: 401}, []error{sdk.ErrUnauthorized}},
		{&sdk.APIError{Status: 401, Type: "https://hookgate.dev/problems/invalid-credentials"}, []error{sdk.ErrUnauthorized, sdk.ErrInvalidCredentials}},
		{&sdk.APIError{Status: 403}, []error{sdk.ErrForbidden}},
		{&sdk.APIError{Status: 403, Type: "https://hookgate.dev/problems/pending-approval"}, []error{sdk.ErrForbidden, sdk.ErrPendingApproval}},
		{&sdk.APIError{Status: 404}, []error{sdk.ErrNotFound}},
		{&sdk.APIError{Status: 409, Type: "https://hookgate.dev/problems/conflict"}, []error{sdk.ErrConflict}},
		{&sdk.APIError{Status: 409, Type: "https://hookgate.dev/problems/quota-exceeded"}, []error{sdk.ErrConflict, sdk.ErrQuotaExceeded}},
		{&sdk.APIError{Status: 413}, nil},
		{&sdk.APIError{Status: 422}, []error{sdk.ErrValidation}},
		{&sdk.APIError{Status: 429}, []error{sdk.ErrRateLimited}},
		{&sdk.APIError{Status: 500}, nil},
		{&sdk.APIError{Status: 502}, []error{sdk.ErrUnavailable}},
		{&sdk.APIError{Status: 503}, []error{sdk.ErrUnavailable}},
		{&sdk.APIError{Status: 504}, []error{sdk.ErrUnavailable}},
	} {
		t.Run(fmt.Sprint(tc.err.Status, tc.err.Type), func(t *testing.T) {
			// Wrapped, as callers' code usually does.
			err := fmt.Errorf("sync orders: %w", tc.err)
			var got []error
			for _, s := range sentinels {
				if errors.Is(err, s) {
					got = append(got, s)
				}
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateErrors(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("matching sentinels (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAPIErrorMessage(t *testing.T) {
	err := &sdk.APIError{Status: 422, Title: "Validation failed", Detail: "url: is required", RequestID: "r1",
		Errors: []sdk.FieldError{{Field: "url", Detail: "is required"}, {Field: "event_types", Detail: "is required"}}}
	want := "hookgate: 422 Validation failed: url: is required [url: is required; event_types: is required] (request id r1)"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestUndecodableSuccessIsNotRetried(t *testing.T) {
	calls := 0
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		io.WriteString(w, "not json")
	}))
	defer s.Close()
	_, err := sdk.NewClient(s.URL, "k").Me(context.Background())
	if err == nil || calls != 1 {
		t.Errorf("err %v after %d calls; want a decode error after 1", err, calls)
	}
}

func TestReadyWhenNotReady(t *testing.T) {
	calls := 0
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(503)
		io.WriteString(w, `{"status":"unavailable","checks":{"database":"ok","redis":"unavailable: connection refused"}}`)
	}))
	defer s.Close()
	r, err := sdk.NewClient(s.URL, "").Ready(context.Background())
	want := sdk.Readiness{Status: "unavailable", Checks: map[string]string{"database": "ok", "redis": "unavailable: connection refused"}}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("Readiness (-want +got):\n%s", diff)
	}
	if !errors.Is(err, sdk.ErrUnavailable) || !strings.Contains(err.Error(), "redis: unavailable: connection refused") {
		t.Errorf("err %v, want ErrUnavailable naming redis", err)
	}
	if calls != 1 {
		t.Errorf("%d calls: Ready must not retry", calls)
	}
}
