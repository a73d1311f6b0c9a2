package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
)

// Readiness is the answer of GET /readyz.
type Readiness struct {
	// Status is "ok" or "unavailable".
	Status string `json:"status"`
	// Checks maps each backing service to "ok" or why it is unavailable.
	Checks map[string]string `json:"checks"`
}

// Health checks that the gateway is alive (GET /healthz); nil means it is.
func (c *Client) Health(ctx context.Context) error {
	req := get("/healthz", nil)
	req.public = true
	var out struct {
		Status string `json:"status"`
	}
	return c.do(ctx, req, &out)
}

// Ready reports whether the gateway can serve (GET /readyz): its database
// and Redis answer. When one does not, it returns the Readiness with an
// *APIError of status 503 (errors.Is(err, ErrUnavailable)); Ready does not
// retry.
func (c *Client) Ready(ctx context.Context) (Readiness, error) {
	req := get("/readyz", nil)
	req.public, req.retry = true, false
	var r Readiness
	err := c.do(ctx, req, &r)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable {
		// The body is the readiness report, not a problem document.
		if json.Unmarshal(ae.body, &r) != nil || r.Status == "" {
			r.Status = "unavailable"
		}
		if ae.Detail == "" || strings.HasPrefix(ae.Detail, "{") {
			ae.Detail = "not ready: " + describeChecks(r.Checks)
		}
	}
	return r, err
}

// describeChecks lists the failing checks, sorted, for an error message.
func describeChecks(checks map[string]string) string {
	var bad []string
	for name, state := range checks {
		if state != "ok" {
			bad = append(bad, name+": "+state)
		}
	}
	sort.Strings(bad)
	if len(bad) == 0 {
		return "unavailable"
	}
	return strings.Join(bad, "; ")
}

// Metrics returns the gateway's Prometheus metrics in the text exposition
// format (GET /metrics).
func (c *Client) Metrics(ctx context.Context) (string, error) {
	req := get("/metrics", nil)
	req.public = true
	var b []byte
	err := c.do(ctx, req, &b)
	return string(b), err
}
