package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/hookgate/hookgate/internal/domain"
)

// ProblemBase prefixes every problem type URI.
const ProblemBase = "https://hookgate.dev/problems/"

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`
	Instance  string         `json:"instance,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	Errors    []FieldProblem `json:"errors,omitempty"`
}

// FieldProblem names one invalid field.
type FieldProblem struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// httpError is an error that already knows its problem document.
type httpError struct {
	status int
	slug   string
	title  string
	detail string
	field  string
	// retryAfter, when set, is sent as Retry-After (seconds).
	retryAfter int
}

func (e *httpError) Error() string { return e.detail }

func badRequest(detail string) error {
	return &httpError{status: 400, slug: "malformed-request", title: "Malformed request", detail: detail}
}

func badParam(name, detail string) error {
	return &httpError{status: 400, slug: "invalid-parameter", title: "Invalid parameter", detail: name + ": " + detail, field: name}
}

func invalidBody(field, detail string) error {
	return &httpError{status: 422, slug: "validation", title: "Validation failed", detail: field + ": " + detail, field: field}
}

// ErrorHandler is fiber's ErrorHandler: the one place where errors become
// HTTP responses.
func (s *Server) ErrorHandler(c *fiber.Ctx, err error) error {
	p := Problem{Instance: c.Path(), RequestID: requestID(c)}
	var he *httpError
	var ve *domain.ValidationError
	var qe *domain.QuotaError
	var ue *domain.UpstreamError
	var rle *domain.RateLimitError
	var fe *fiber.Error
	switch {
	case errors.As(err, &he):
		p.Status, p.Type, p.Title, p.Detail = he.status, ProblemBase+he.slug, he.title, he.detail
		if he.field != "" {
			p.Errors = []FieldProblem{{Field: he.field, Detail: he.detail}}
		}
		if he.retryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, fmt.Sprint(he.retryAfter))
		}
	case errors.As(err, &ve) && ve.Param:
		// The service rejected a query parameter: that is a malformed
		// request, not an invalid body.
		p.Status, p.Type, p.Title, p.Detail = 400, ProblemBase+"invalid-parameter", "Invalid parameter", ve.Error()
		p.Errors = []FieldProblem{{Field: ve.Field, Detail: ve.Reason}}
	case errors.As(err, &ve):
		p.Status, p.Type, p.Title, p.Detail = 422, ProblemBase+"validation", "Validation failed", ve.Error()
		p.Errors = []FieldProblem{{Field: ve.Field, Detail: ve.Reason}}
	case errors.As(err, &qe):
		p.Status, p.Type, p.Title, p.Detail = 409, ProblemBase+"quota-exceeded", "Quota exceeded", qe.Reason
	case errors.As(err, &ue):
		p.Status, p.Type, p.Title, p.Detail = 502, ProblemBase+"upstream", "Bad gateway", ue.Reason
	case errors.As(err, &rle):
		p.Status, p.Type, p.Title, p.Detail = 429, ProblemBase+"rate-limited", "Too many requests", rle.Reason
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(ceilSeconds(rle.RetryAfter, 1)))
	case errors.Is(err, domain.ErrPendingApproval):
		p.Status, p.Type, p.Title = 403, ProblemBase+"pending-approval", "Awaiting approval"
		p.Detail = "your partner account awaits approval by an administrator; until then only GET /v1/me is available"
	case errors.Is(err, domain.ErrInvalidCredentials):
		p.Status, p.Type, p.Title, p.Detail = 401, ProblemBase+"invalid-credentials", "Unauthorized", "invalid email or password"
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="hookgate"`)
	case errors.Is(err, domain.ErrNotFound):
		p.Status, p.Type, p.Title, p.Detail = 404, ProblemBase+"not-found", "Not found", "no such resource, or it is not yours"
	case errors.Is(err, domain.ErrUnauthorized):
		p.Status, p.Type, p.Title, p.Detail = 401, ProblemBase+"unauthorized", "Unauthorized", "a valid bearer token is required"
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="hookgate"`)
	case errors.Is(err, domain.ErrForbidden):
		p.Status, p.Type, p.Title, p.Detail = 403, ProblemBase+"forbidden", "Forbidden", "your credentials do not allow this action"
	case errors.Is(err, domain.ErrConflict):
		p.Status, p.Type, p.Title, p.Detail = 409, ProblemBase+"conflict", "Conflict", "the resource already exists or changed meanwhile"
		var ce *domain.ConflictError
		if errors.As(err, &ce) {
			p.Detail = ce.Reason
		}
	case errors.Is(err, domain.ErrUnavailable):
		p.Status, p.Type, p.Title, p.Detail = 503, ProblemBase+"unavailable", "Service unavailable", "a backing service is unavailable; nothing was stored, try again"
		c.Set(fiber.HeaderRetryAfter, "1")
	case errors.As(err, &fe):
		p.Status, p.Title, p.Detail = fe.Code, http.StatusText(fe.Code), fe.Message
		p.Type = "about:blank"
		switch fe.Code {
		case fiber.StatusRequestEntityTooLarge:
			p.Type, p.Detail = ProblemBase+"too-large", fmt.Sprintf("the request body exceeds %d bytes", s.d.MaxBodyBytes)
		case fiber.StatusMethodNotAllowed:
			p.Type = ProblemBase + "method-not-allowed"
		case fiber.StatusNotFound:
			p.Type, p.Detail = ProblemBase+"not-found", "no route "+c.Method()+" "+c.Path()
		}
	default:
		p.Status, p.Type, p.Title = 500, ProblemBase+"internal", "Internal error"
		p.Detail = "something went wrong on our side; the request id identifies it in our logs"
		s.d.Log.ErrorContext(c.UserContext(), "request failed", "error", err, "method", c.Method(),
			"path", c.Route().Path, "request_id", p.RequestID)
	}
	b, _ := json.Marshal(p)
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Status(p.Status).Send(b)
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
