package apptest

// The contract check: every request a test gateway answers through Do is
// checked against openapi.yaml at the repository root. The route must be
// documented, and the response status, content type, headers and body must
// match the operation's description; for a 2xx answer the JSON request body
// must match the documented request body too.
//
// kin-openapi loads OpenAPI 3.1 natively: type arrays, const,
// unevaluatedProperties and webhooks are understood, and a 3.1 document is
// validated with the JSON Schema 2020-12 validator automatically (by
// doc.Validate and by openapi3filter), so no loader flag is needed.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// SpecFile is the OpenAPI document's path relative to the repository root.
const SpecFile = "openapi.yaml"

func init() {
	ResponseCheck = checkContract
}

// RepoRoot returns the nearest directory at or above the working directory
// that holds go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("apptest: repo root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("apptest: repo root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// LoadSpec loads and validates openapi.yaml from the repository root.
func LoadSpec(ctx context.Context) (*openapi3.T, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(root, SpecFile)
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("apptest: load %s: %w", path, err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("apptest: %s is not a valid OpenAPI document: %w", path, err)
	}
	return doc, nil
}

// contract is the spec and its router, loaded once per test binary.
var contract = sync.OnceValues(func() (routers.Router, error) {
	doc, err := LoadSpec(context.Background())
	if err != nil {
		return nil, err
	}
	// Match paths only: the test gateway listens on a random port, whatever
	// the document's servers say.
	routed := *doc
	routed.Servers = nil
	r, err := gorillamux.NewRouter(&routed)
	if err != nil {
		return nil, fmt.Errorf("apptest: route %s: %w", SpecFile, err)
	}
	return r, nil
})

// uncheckedPath reports whether path is outside the API the spec describes:
// the server-rendered portal.
func uncheckedPath(path string) bool {
	return path == "/" || path == "/portal" || strings.HasPrefix(path, "/portal/")
}

func checkContract(t testing.TB, req *http.Request, reqBody []byte, resp Response) {
	t.Helper()
	router, err := contract()
	if err != nil {
		t.Errorf("openapi contract: %v", err)
		return
	}
	if uncheckedPath(req.URL.Path) {
		return
	}
	what := fmt.Sprintf("%s %s → %d", req.Method, req.URL.RequestURI(), resp.Status)
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Errorf("openapi contract: undocumented route %s (%v): add it to %s or set NoContractCheck", what, err, SpecFile)
		return
	}
	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{
		Request: withBody(req, reqBody), PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if ok := resp.Status >= 200 && resp.Status < 300; ok && route.Operation.RequestBody != nil && len(reqBody) > 0 {
		if rb := route.Operation.RequestBody.Value; rb != nil && isJSON(req.Header.Get("Content-Type")) {
			if err := openapi3filter.ValidateRequestBody(ctx, in, rb); err != nil {
				t.Errorf("openapi contract: %s: the request body was accepted but does not match the spec: %v\nrequest body: %s",
					what, err, clip(reqBody))
			}
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.Status,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	out.SetBodyBytes(resp.Body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("openapi contract: %s (content type %q) does not match the spec: %v\nresponse body: %s",
			what, resp.Header.Get("Content-Type"), err, clip(resp.Body))
		return
	}
	// ValidateResponse skips responses documented without content; a body
	// there is undocumented too.
	if r := route.Operation.Responses.Status(resp.Status); r != nil && r.Value != nil && len(r.Value.Content) == 0 && len(resp.Body) > 0 {
		t.Errorf("openapi contract: %s has a body (content type %q) but the spec documents none: %s",
			what, resp.Header.Get("Content-Type"), clip(resp.Body))
	}
}

// withBody returns a copy of req whose body reads b again (the client has
// consumed the original).
func withBody(req *http.Request, b []byte) *http.Request {
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	return r
}

func isJSON(contentType string) bool {
	ct := strings.ToLower(contentType)
	return strings.HasPrefix(ct, "application/json") || strings.Contains(ct, "+json")
}

// clip shortens a body for a failure message.
func clip(b []byte) string {
	const max = 2000
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
