package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"github.com/hookgate/hookgate/internal/app"
	"github.com/hookgate/hookgate/internal/apptest"
	"github.com/hookgate/hookgate/internal/catalog"
)

var update = flag.Bool("update", false, "record openapi.yaml's info.version and SHA-256 in internal/apptest/testdata/openapi.sha256")

// goldenFile records "<info.version> <sha256 of openapi.yaml>".
const goldenFile = "internal/apptest/testdata/openapi.sha256"

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := apptest.LoadSpec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := apptest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestOpenAPIValid checks that openapi.yaml loads and validates as
// OpenAPI 3.1 (examples included).
func TestOpenAPIValid(t *testing.T) {
	doc := loadSpec(t)
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Errorf("openapi.yaml does not validate: %v", err)
	}
}

var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// openAPIPath turns a fiber path (/v1/endpoints/:id) into an OpenAPI path
// template (/v1/endpoints/{id}).
func openAPIPath(t *testing.T, p string) string {
	t.Helper()
	if strings.ContainsAny(p, "*?+") {
		t.Errorf("route %s uses a fiber wildcard or optional parameter; map it to OpenAPI by hand", p)
	}
	return fiberParam.ReplaceAllString(p, "{$1}")
}

// TestOpenAPIRoutes checks that the spec documents exactly the routes the
// server registers (the portal aside).
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadSpec(t)
	// API mode: the HTTP side alone is enough to list the routes.
	g := apptest.Start(t, apptest.Options{SQLite: true, Mode: app.ModeAPI})

	var registered []string
	seen := map[string]bool{}
	for _, r := range g.App.Server.Routes() {
		k := r.Method + " " + openAPIPath(t, r.Path)
		if !seen[k] {
			seen[k] = true
			registered = append(registered, k)
		}
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(registered)
	slices.Sort(documented)
	if diff := cmp.Diff(documented, registered); diff != "" {
		t.Errorf("routes: openapi.yaml (-) and the server (+) differ:\n%s", diff)
	}
}

// TestOpenAPIWebhooks checks that every catalogue event type has a webhook
// whose data schema matches the catalogue's.
func TestOpenAPIWebhooks(t *testing.T) {
	doc := loadSpec(t)
	seed := catalog.Seed(time.Now())
	var want, got []string
	for _, et := range seed {
		want = append(want, et.Name)
	}
	for name := range doc.Webhooks {
		got = append(got, name)
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("webhooks: catalogue (-) and openapi.yaml (+) differ:\n%s", diff)
	}
	for _, et := range seed {
		item := doc.Webhooks[et.Name]
		if item == nil || item.Post == nil || item.Post.RequestBody == nil {
			continue
		}
		for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
			if p := item.Post.Parameters.GetByInAndName("header", h); p == nil || !p.Required {
				t.Errorf("webhook %s: header %s is not documented as required", et.Name, h)
			}
		}
		mt := item.Post.RequestBody.Value.Content.Get("application/json")
		if mt == nil || mt.Schema == nil || mt.Schema.Value.Properties["data"] == nil {
			t.Errorf("webhook %s: no application/json body with a data property", et.Name)
			continue
		}
		data := mt.Schema.Value.Properties["data"].Value
		var cat struct {
			Required   []string                   `json:"required"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(et.Schema, &cat); err != nil {
			t.Fatalf("catalogue schema of %s: %v", et.Name, err)
		}
		if diff := cmp.Diff(slices.Sorted(slices.Values(cat.Required)), slices.Sorted(slices.Values(data.Required))); diff != "" {
			t.Errorf("webhook %s: data.required: catalogue (-) and openapi.yaml (+) differ:\n%s", et.Name, diff)
		}
		wantProps := map[string]string{}
		for k, v := range cat.Properties {
			wantProps[k] = compactJSON(t, v)
		}
		gotProps := map[string]string{}
		for k, v := range data.Properties {
			b, err := json.Marshal(v.Value)
			if err != nil {
				t.Fatal(err)
			}
			gotProps[k] = compactJSON(t, b)
		}
		if diff := cmp.Diff(wantProps, gotProps); diff != "" {
			t.Errorf("webhook %s: data properties: catalogue (-) and openapi.yaml (+) differ:\n%s", et.Name, diff)
		}
	}
}

// compactJSON normalises a JSON value (key order, spacing).
func compactJSON(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// TestOpenAPIGolden makes every change to openapi.yaml come with a new
// info.version: the file's SHA-256 is recorded with its version, and
// -update records a new pair.
func TestOpenAPIGolden(t *testing.T) {
	root := repoRoot(t)
	spec, err := os.ReadFile(filepath.Join(root, apptest.SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(spec)
	hash := hex.EncodeToString(sum[:])
	version := loadSpec(t).Info.Version

	path := filepath.Join(root, goldenFile)
	var goldVersion, goldHash string
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		f := strings.Fields(string(b))
		if len(f) != 2 {
			t.Fatalf("%s: want one line \"<version> <sha256>\", got %q", goldenFile, b)
		}
		goldVersion, goldHash = f[0], f[1]
	case os.IsNotExist(err):
		if !*update {
			t.Fatalf("%s is missing: run go test ./server -run TestOpenAPIGolden -update", goldenFile)
		}
	default:
		t.Fatal(err)
	}

	if *update {
		if goldHash != "" && goldHash != hash && goldVersion == version {
			t.Fatalf("openapi.yaml changed but info.version is still %s: bump info.version, then run with -update", version)
		}
		line := []byte(fmt.Sprintf("%s %s\n", version, hash))
		if !bytes.Equal(line, b) {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, line, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("recorded %s", line)
		}
		return
	}
	switch {
	case hash == goldHash && version == goldVersion:
	case version == goldVersion:
		t.Errorf("openapi.yaml changed (sha256 %s, recorded %s) but info.version is still %s: bump info.version and run with -update",
			hash, goldHash, version)
	default:
		t.Errorf("openapi.yaml changed (version %s → %s): run go test ./server -run TestOpenAPIGolden -update to record it",
			goldVersion, version)
	}
}
