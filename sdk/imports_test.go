package sdk

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sdkImportPath is this package's import path.
const sdkImportPath = "github.com/hookgate/hookgate/sdk"

// TestStandardLibraryOnly keeps the SDK free of third-party dependencies:
// every import of a non-test .go file under sdk/ must be a standard library
// path, i.e. its first element has no dot; programs under examples/ may also
// import the sdk itself.
func TestStandardLibraryOnly(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			// Examples are programs a partner copies: besides the
			// standard library they may import the sdk itself, nothing else.
			if p == sdkImportPath && strings.HasPrefix(filepath.ToSlash(path), "examples/") {
				continue
			}
			first, _, _ := strings.Cut(p, "/")
			if strings.Contains(first, ".") {
				t.Errorf("%s imports %q: the sdk may use the standard library only", fset.Position(imp.Pos()), p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no non-test .go files found; is the test running in sdk/?")
	}
}
