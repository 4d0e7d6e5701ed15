package static

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// update makes TestVendorManifest rewrite vendor/ and its manifest from
// node_modules instead of checking them: `make assets` runs it after npm ci.
var update = flag.Bool("update", false, "copy the vendored files from node_modules and rewrite vendor/vendor.json")

const (
	manifestPath = "vendor/vendor.json"
	lockPath     = "../package-lock.json"
	modulesDir   = "../node_modules"
)

// vendorManifest is vendor/vendor.json: where each committed third-party
// file comes from and what it must hash to.
type vendorManifest struct {
	About    string          `json:"about"`
	Packages []vendorPackage `json:"packages"`
}

type vendorPackage struct {
	Name      string       `json:"name"`
	Version   string       `json:"version"`
	License   string       `json:"license"`
	Integrity string       `json:"integrity"` // the npm tarball's, as package-lock.json records it
	Files     []vendorFile `json:"files"`
}

type vendorFile struct {
	Source string `json:"source"` // path inside the npm package
	Path   string `json:"path"`   // path inside vendor/
	SHA256 string `json:"sha256"`
}

// packageLock is the part of package-lock.json (lockfileVersion 3) we read.
type packageLock struct {
	Packages map[string]struct {
		Version   string `json:"version"`
		Integrity string `json:"integrity"`
	} `json:"packages"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestVendorManifest checks every committed file in vendor/ against the
// manifest (listed, sha256), the manifest against package-lock.json (version,
// integrity) and, when npm ci has filled node_modules, each file against the
// package's own copy. With -update it refreshes files and manifest instead.
func TestVendorManifest(t *testing.T) {
	var m vendorManifest
	readJSON(t, manifestPath, &m)
	var lock packageLock
	readJSON(t, lockPath, &lock)
	if *update {
		updateVendor(t, &m, lock)
	}

	listed := map[string]bool{filepath.Base(manifestPath): true}
	for _, p := range m.Packages {
		locked, ok := lock.Packages["node_modules/"+p.Name]
		switch {
		case !ok:
			t.Errorf("%s: not in package-lock.json", p.Name)
		case locked.Version != p.Version:
			t.Errorf("%s: manifest has version %s, package-lock.json %s (run make assets)", p.Name, p.Version, locked.Version)
		case locked.Integrity != p.Integrity:
			t.Errorf("%s %s: manifest integrity %s, package-lock.json %s (run make assets)", p.Name, p.Version, p.Integrity, locked.Integrity)
		}
		if p.License == "" {
			t.Errorf("%s: no licence recorded", p.Name)
		}
		if pj, err := readPackageJSON(p.Name); err == nil && pj.License != "" && pj.License != p.License {
			t.Errorf("%s: manifest licence %s, the package says %s", p.Name, p.License, pj.License)
		}
		for _, f := range p.Files {
			listed[f.Path] = true
			b, err := os.ReadFile(filepath.Join("vendor", f.Path))
			if err != nil {
				t.Errorf("%s: %v", p.Name, err)
				continue
			}
			if got := sha256Hex(b); got != f.SHA256 {
				t.Errorf("vendor/%s: sha256 %s, manifest %s (edited by hand? run make assets)", f.Path, got, f.SHA256)
			}
			src, err := os.ReadFile(filepath.Join(modulesDir, p.Name, f.Source))
			if errors.Is(err, fs.ErrNotExist) {
				continue // no npm ci here: the hashes above are the check
			} else if err != nil {
				t.Error(err)
			} else if !bytes.Equal(src, b) {
				t.Errorf("vendor/%s differs from node_modules/%s/%s (run make assets)", f.Path, p.Name, f.Source)
			}
		}
	}

	entries, err := os.ReadDir("vendor")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !listed[e.Name()] {
			t.Errorf("vendor/%s is not in %s", e.Name(), manifestPath)
		}
	}
}

type packageJSON struct {
	Version string `json:"version"`
	License string `json:"license"`
}

func readPackageJSON(name string) (packageJSON, error) {
	var pj packageJSON
	b, err := os.ReadFile(filepath.Join(modulesDir, name, "package.json"))
	if err != nil {
		return pj, err
	}
	if err := json.Unmarshal(b, &pj); err != nil {
		return pj, fmt.Errorf("%s/package.json: %w", name, err)
	}
	return pj, nil
}

// updateVendor copies each listed file from node_modules into vendor/ and
// records the installed version, the lock's integrity, the package's licence
// (kept as recorded when its package.json names none) and the new hashes.
func updateVendor(t *testing.T, m *vendorManifest, lock packageLock) {
	for i := range m.Packages {
		p := &m.Packages[i]
		pj, err := readPackageJSON(p.Name)
		if err != nil {
			t.Fatalf("%v (run npm ci first; make assets does)", err)
		}
		locked, ok := lock.Packages["node_modules/"+p.Name]
		if !ok || locked.Version != pj.Version {
			t.Fatalf("%s: node_modules has %s, package-lock.json %s: run npm ci", p.Name, pj.Version, locked.Version)
		}
		p.Version, p.Integrity = locked.Version, locked.Integrity
		if pj.License != "" {
			p.License = pj.License
		}
		for j := range p.Files {
			f := &p.Files[j]
			b, err := os.ReadFile(filepath.Join(modulesDir, p.Name, f.Source))
			if err != nil {
				t.Fatalf("%v: did the package's layout change?", err)
			}
			dst := filepath.Join("vendor", f.Path)
			if old, err := os.ReadFile(dst); err != nil || !bytes.Equal(old, b) {
				if err := os.WriteFile(dst, b, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("updated vendor/%s from %s@%s/%s", f.Path, p.Name, p.Version, f.Source)
			}
			f.SHA256 = sha256Hex(b)
		}
	}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	if old, err := os.ReadFile(manifestPath); err != nil || !bytes.Equal(old, out) {
		if err := os.WriteFile(manifestPath, out, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", manifestPath)
	}
}
