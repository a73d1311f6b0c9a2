package sdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors an *APIError matches with errors.Is, by HTTP status:
//
//	if errors.Is(err, sdk.ErrNotFound) { ... }
var (
	// ErrUnauthorized matches 401: the token is missing, wrong, expired or
	// revoked.
	ErrUnauthorized = errors.New("hookgate: unauthorized")
	// ErrForbidden matches 403: the credentials do not allow the action
	// (wrong kind of key, missing scope, suspended partner).
	ErrForbidden = errors.New("hookgate: forbidden")
	// ErrNotFound matches 404: no such resource, or it belongs to another
	// partner.
	ErrNotFound = errors.New("hookgate: not found")
	// ErrConflict matches 409: the resource already exists, changed
	// meanwhile, or a quota does not allow it (see ErrQuotaExceeded).
	ErrConflict = errors.New("hookgate: conflict")
	// ErrValidation matches 400 and 422: the request was malformed or a
	// field is invalid; APIError.Errors names the fields.
	ErrValidation = errors.New("hookgate: invalid request")
	// ErrRateLimited matches 429: too many requests; APIError.RetryAfter
	// says when to try again. The client already retried idempotent calls.
	ErrRateLimited = errors.New("hookgate: rate limited")
	// ErrQuotaExceeded matches a 409 whose problem type is quota-exceeded:
	// the partner's plan does not allow more (for example endpoints).
	ErrQuotaExceeded = errors.New("hookgate: quota exceeded")
	// ErrUnavailable matches 502, 503 and 504: hookgate or a service behind
	// it (such as a source's Odoo) is unavailable or failed.
	ErrUnavailable = errors.New("hookgate: unavailable")
	// ErrInvalidCredentials matches a 401 whose problem type is
	// invalid-credentials: Login got a wrong e-mail or password. It also
	// matches ErrUnauthorized.
	ErrInvalidCredentials = errors.New("hookgate: invalid e-mail or password")
	// ErrPendingApproval matches a 403 whose problem type is
	// pending-approval: the partner awaits an admin's approval. It also
	// matches ErrForbidden.
	ErrPendingApproval = errors.New("hookgate: partner awaits approval")
)

// ProblemTypeBase prefixes hookgate's problem type URIs.
const ProblemTypeBase = "https://hookgate.dev/problems/"

// APIError is an error answer from the API, decoded from its RFC 9457
// problem document (application/problem+json). Test it with errors.Is
// against the sentinel errors or get at the details with errors.As:
//
//	var ae *sdk.APIError
//	if errors.As(err, &ae) { log.Print(ae.Status, ae.Detail, ae.RequestID) }
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Type is the problem type URI, such as
	// "https://hookgate.dev/problems/not-found".
	Type string
	// Title is a short, human-readable summary of the problem type.
	Title string
	// Detail explains this occurrence.
	Detail string
	// Instance is the request path the problem is about.
	Instance string
	// Errors lists the invalid fields of a validation problem.
	Errors []FieldError
	// RequestID identifies the request in hookgate's logs; quote it to
	// support.
	RequestID string
	// RetryAfter is the server's Retry-After, if it sent one (429, 503).
	RetryAfter time.Duration

	// body is the raw answer (at most 1 MiB), for the few operations whose
	// error answers are not problem documents (Ready).
	body []byte
}

// FieldError names one invalid field of a request.
type FieldError struct {
	// Field is the field's name, such as "url" or "event_types".
	Field string `json:"field"`
	// Detail says what is wrong with it.
	Detail string `json:"detail"`
}

// Error renders the status, title, detail and request id.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hookgate: %d", e.Status)
	if e.Title != "" {
		b.WriteString(" " + e.Title)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	for i, f := range e.Errors {
		if i == 0 {
			b.WriteString(" [")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.Field + ": " + f.Detail)
		if i == len(e.Errors)-1 {
			b.WriteString("]")
		}
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) and the other sentinels work by
// status code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrValidation:
		return e.Status == http.StatusBadRequest || e.Status == http.StatusUnprocessableEntity
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrQuotaExceeded:
		return e.Status == http.StatusConflict && strings.HasSuffix(e.Type, "/quota-exceeded")
	case ErrInvalidCredentials:
		return e.Status == http.StatusUnauthorized && strings.HasSuffix(e.Type, "/invalid-credentials")
	case ErrPendingApproval:
		return e.Status == http.StatusForbidden && strings.HasSuffix(e.Type, "/pending-approval")
	case ErrUnavailable:
		return e.Status == http.StatusBadGateway || e.Status == http.StatusServiceUnavailable ||
			e.Status == http.StatusGatewayTimeout
	}
	return false
}

// problem is the wire form of an RFC 9457 problem document.
type problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail"`
	Instance  string       `json:"instance"`
	RequestID string       `json:"request_id"`
	Errors    []FieldError `json:"errors"`
}

// parseAPIError builds an APIError from a non-2xx response and its body.
// A body that is not a problem document (a proxy's HTML page, say) still
// yields a useful error: the status text and the start of the body.
func parseAPIError(resp *http.Response, body []byte) *APIError {
	e := &APIError{
		Status:     resp.StatusCode,
		RequestID:  resp.Header.Get("X-Request-Id"),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		body:       body,
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var p problem
	if (mt == "application/problem+json" || mt == "application/json") && json.Unmarshal(body, &p) == nil {
		e.Type, e.Title, e.Detail, e.Instance, e.Errors = p.Type, p.Title, p.Detail, p.Instance, p.Errors
		if p.RequestID != "" {
			e.RequestID = p.RequestID
		}
	} else if d := strings.TrimSpace(string(body)); d != "" {
		const maxDetail = 200
		if len(d) > maxDetail {
			n := maxDetail
			for n > 0 && !utf8.RuneStart(d[n]) {
				n-- // cut between runes
			}
			d = d[:n] + "…"
		}
		e.Detail = d
	}
	if e.Type == "" {
		e.Type = "about:blank"
	}
	if e.Title == "" {
		e.Title = http.StatusText(resp.StatusCode)
	}
	return e
}
