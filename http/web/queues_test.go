package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
)

var (
	pageScripts = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	remoteRef   = regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?([a-z][a-z0-9+.-]*:|//)`)
)

// TestQueuesDashboardPage: the Asynq dashboard's page (at its root and at
// any of its in-app routes) loads nothing from another host (no Google
// Fonts), links back to Parley, and its CSP allows this origin only, with
// exactly its inline scripts by hash. Its files and API pass through as is.
func TestQueuesDashboardPage(t *testing.T) {
	f := newFixture(t)
	admin := f.client(t)
	admin.login(adminEmail, adminPassword)
	for _, path := range []string{"/admin/queues", "/admin/queues/", "/admin/queues/queues/default"} {
		resp, body := admin.get(path)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "Asynq") {
			t.Fatalf("%s: %d %q\n%s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if strings.Contains(body, "fonts.googleapis.com") || strings.Contains(body, "fonts.gstatic.com") {
			t.Errorf("%s still references Google Fonts:\n%s", path, body)
		}
		if m := remoteRef.FindString(body); m != "" {
			t.Errorf("%s loads from another host: %s", path, m)
		}
		if !regexp.MustCompile(`<a [^>]*href="/"[^>]*>← Back to Parley</a>`).MatchString(body) {
			t.Errorf("%s has no link back to Parley:\n%s", path, body)
		}

		csp := resp.Header.Get("Content-Security-Policy")
		directives := map[string][]string{}
		for d := range strings.SplitSeq(csp, ";") {
			if fields := strings.Fields(d); len(fields) > 0 {
				directives[fields[0]] = fields[1:]
			}
		}
		if got := strings.Join(directives["default-src"], " "); got != "'self'" {
			t.Errorf("%s: default-src %q, want 'self' (CSP %q)", path, got, csp)
		}
		if got := strings.Join(directives["frame-ancestors"], " "); got != "'none'" {
			t.Errorf("%s: frame-ancestors %q (CSP %q)", path, got, csp)
		}
		// No directive names a host, a scheme or a wildcard: nothing third-party.
		for name, sources := range directives {
			for _, src := range sources {
				if !strings.HasPrefix(src, "'") && src != "data:" {
					t.Errorf("%s: %s allows %s (CSP %q)", path, name, src, csp)
				}
				if src == "'unsafe-eval'" || (name == "script-src" && src == "'unsafe-inline'") {
					t.Errorf("%s: %s allows %s", path, name, src)
				}
			}
		}
		var want []string
		for _, m := range pageScripts.FindAllStringSubmatch(body, -1) {
			sum := sha256.Sum256([]byte(m[1]))
			want = append(want, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		}
		if got, w := strings.Join(directives["script-src"], " "), "'self' "+strings.Join(want, " "); len(want) == 0 || got != w {
			t.Errorf("%s: script-src %q, want %q", path, got, w)
		}
	}

	resp, body := admin.get("/admin/queues/favicon.ico")
	if resp.StatusCode != 200 || strings.Contains(body, "Back to Parley") {
		t.Errorf("favicon: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	resp, body = admin.get("/admin/queues/api/queues")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "{") {
		t.Errorf("api: %d %s", resp.StatusCode, body)
	}
}
