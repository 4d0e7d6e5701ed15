// Package static embeds Parley's browser assets: our own CSS and JS, and
// htmx with its ws extension in vendor/. The vendored files are committed,
// so building needs no Node; vendor/vendor.json records the npm package,
// version, tarball integrity and sha256 of each, `make assets` is the one
// way to update them (npm ci, then a rewrite of files and manifest), and
// vendor_test.go checks them against the manifest and package-lock.json.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
)

// FS holds every asset, served under /static/.
//
//go:embed css js img all:vendor
var FS embed.FS

// Required lists the files the pages cannot work without; Check reports
// the first missing one so `parley serve` fails early with a clear fix.
var Required = []string{"css/app.css", "js/app.js", "js/nav.js", "vendor/htmx.min.js", "vendor/htmx-ext-ws.js"}

// Check verifies that every required asset was embedded.
func Check() error {
	for _, name := range Required {
		if _, err := fs.Stat(FS, name); err != nil {
			return fmt.Errorf("static: %s is missing from the binary: it is committed in static/, so restore it (git checkout static/) and build again", name)
		}
	}
	return nil
}

// Versions maps each asset path to a short content hash, so URLs change
// whenever a file does and browsers may cache them for long.
func Versions() (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(FS, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[path] = hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("static: hash assets: %w", err)
	}
	return out, nil
}
