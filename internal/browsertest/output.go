package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// OutputDir returns the directory for a test's screenshots, creating it:
// $PARLEY_TEST_OUTPUT/sub, by default <module root>/test-output/sub, the
// module root being the nearest directory above the test's package (where
// `go test` runs it) that holds go.mod.
func OutputDir(t testing.TB, sub string) string {
	t.Helper()
	root := os.Getenv("PARLEY_TEST_OUTPUT")
	if root == "" {
		root = filepath.Join(moduleRoot(t), "test-output")
	}
	dir := filepath.Join(root, filepath.FromSlash(sub))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod in %s or above it: set PARLEY_TEST_OUTPUT", dir)
		}
	}
}

// Screenshot saves a full-page PNG of the tab as name (slash-separated,
// e.g. "web/login.png") under the test output root; see OutputDir.
func Screenshot(t testing.TB, tab context.Context, name string) {
	t.Helper()
	png := Get(t, tab, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(OutputDir(t, filepath.Dir(name)), filepath.Base(name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
}
