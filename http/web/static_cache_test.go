package web_test

import (
	"net/http"
	"regexp"
	"testing"
)

var versionedCSS = regexp.MustCompile(`/static/css/app\.css\?v=[0-9a-f]+`)

// TestStaticCaching: the asset URLs pages use (?v=<content hash>) are cached
// for a year as immutable; any other request for the file revalidates, and
// its ETag turns a repeat into a 304 without a body.
func TestStaticCaching(t *testing.T) {
	f := newFixture(t)
	c := f.client(t)
	_, page := c.get("/login")
	versioned := versionedCSS.FindString(page)
	if versioned == "" {
		t.Fatalf("the login page links no versioned app.css:\n%s", page)
	}

	resp, body := c.get(versioned)
	if resp.StatusCode != 200 || body == "" {
		t.Fatalf("%s: %d, %d bytes", versioned, resp.StatusCode, len(body))
	}
	if got := resp.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("%s: Cache-Control %q", versioned, got)
	}

	for _, path := range []string{"/static/css/app.css", "/static/css/app.css?v=0123456789ab", "/static/vendor/htmx.min.js"} {
		resp, body := c.get(path)
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || body == "" || etag == "" || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("%s: %d, %d bytes, ETag %q, Cache-Control %q", path, resp.StatusCode, len(body), etag, resp.Header.Get("Cache-Control"))
		}
		for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
			resp, body := c.do("GET", path, nil, map[string]string{"If-None-Match": inm})
			if resp.StatusCode != http.StatusNotModified || body != "" || resp.Header.Get("ETag") != etag {
				t.Errorf("%s with If-None-Match %s: %d, %d bytes, ETag %q", path, inm, resp.StatusCode, len(body), resp.Header.Get("ETag"))
			}
		}
		if resp, _ := c.do("GET", path, nil, map[string]string{"If-None-Match": `"stale"`}); resp.StatusCode != 200 {
			t.Errorf("%s with a stale ETag: %d, want 200", path, resp.StatusCode)
		}
	}
	if resp, _ := c.get("/static/css/nope.css"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing asset: %d, want 404", resp.StatusCode)
	}
}
