package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/hibiken/asynqmon"
)

// queuesPath is where the Asynq monitoring dashboard is mounted. asynqmon
// routes on the full path, so its RootPath must equal the mount path.
const queuesPath = "/admin/queues"

// underQueues reports whether path is the dashboard's own: its page or
// anything below it, never a sibling such as /admin/queuesX.
func underQueues(path string) bool {
	return path == queuesPath || strings.HasPrefix(path, queuesPath+"/")
}

// requireOperator answers 404 to anyone but an instance operator (an
// organization's admin included): the instance-wide pages do not exist
// for them.
func (s *Server) requireOperator(c *fiber.Ctx) error {
	if su := sessionUser(c); su != nil && su.User.IsOperator {
		return c.Next()
	}
	return fiber.ErrNotFound
}

// queuesBackLink is put into the dashboard's page: asynqmon, a single-page
// app of its own, has no way back to Parley.
const queuesBackLink = `<a id="parley-back" href="/" style="position:fixed;right:16px;bottom:16px;z-index:1250;` +
	`padding:8px 14px;border-radius:999px;background:#1f2937;color:#fff;font:500 14px/1.2 system-ui,sans-serif;` +
	`text-decoration:none;box-shadow:0 2px 8px rgba(0,0,0,.3)">← Back to Parley</a>`

var (
	// googleFonts matches the index's <link>s to Google Fonts (Roboto and
	// Material Icons): they fail offline and tell Google every admin's IP.
	// Without them the dashboard uses the system's sans-serif.
	googleFonts = regexp.MustCompile(`<link[^>]*href="https://fonts\.googleapis\.com/[^"]*"[^>]*>`)
	// inlineScript matches the index's inline scripts (its flags and
	// webpack's loader), which the dashboard's CSP allows by hash.
	inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	// otherHost matches a src or href with a scheme or a host.
	otherHost = regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?([a-z][a-z0-9+.-]*:|//)[^"'\s>]*`)
)

// queuesHandler serves the Asynq dashboard; routes put operator-only checks
// in front of it (it has no auth of its own). Its page is asynqmon's with
// the Google Fonts links removed and a link back to Parley added, and it
// gets its own CSP (queuesCSP): only this origin, plus the page's inline
// scripts by hash.
func (s *Server) queuesHandler() (fiber.Handler, error) {
	mon := asynqmon.New(asynqmon.Options{RootPath: queuesPath, RedisConnOpt: s.queue})
	s.closers = append(s.closers, mon.Close)

	// asynqmon renders the same page for its root and for every path that
	// is not one of its files (the app routes in the browser): render it
	// once, recognise it in responses and swap in ours.
	req, err := http.NewRequest(http.MethodGet, queuesPath+"/", nil)
	if err != nil {
		return nil, fmt.Errorf("web: asynqmon page: %w", err)
	}
	first := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
	mon.ServeHTTP(first, req)
	original := first.body.Bytes()
	page, csp, err := rewriteQueuesPage(original)
	if err != nil {
		return nil, err
	}
	s.queuesCSP = csp

	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, queuesPath+"/api/") {
			mon.ServeHTTP(w, r) // JSON, and possibly large: passed straight through
			return
		}
		buf := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		mon.ServeHTTP(buf, r)
		if buf.status == http.StatusOK && bytes.Equal(buf.body.Bytes(), original) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write(page)
			return
		}
		for k, v := range buf.header {
			w.Header()[k] = v
		}
		w.WriteHeader(buf.status)
		_, _ = w.Write(buf.body.Bytes())
	})
	return adaptor.HTTPHandler(h), nil
}

// rewriteQueuesPage removes the Google Fonts links from asynqmon's page,
// adds the back link, and returns it with the CSP that allows exactly its
// inline scripts. It fails if any reference to another host is left, so an
// asynqmon upgrade that adds one is noticed.
func rewriteQueuesPage(page []byte) ([]byte, string, error) {
	if !bytes.Contains(page, []byte(`<div id="root">`)) {
		return nil, "", errors.New(`web: the asynqmon page has no <div id="root">: did its layout change?`)
	}
	out := googleFonts.ReplaceAll(page, nil)
	out = bytes.Replace(out, []byte(`<body>`), []byte(`<body>`+queuesBackLink), 1)
	if !bytes.Contains(out, []byte(queuesBackLink)) {
		return nil, "", errors.New("web: the asynqmon page has no <body>: did its layout change?")
	}
	if m := otherHost.Find(out); m != nil {
		return nil, "", fmt.Errorf("web: the asynqmon page still loads from another host: %s", m)
	}
	hashes := make([]string, 0, 2)
	for _, m := range inlineScript.FindAllSubmatch(out, -1) {
		sum := sha256.Sum256(m[1])
		hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	return out, queuesCSPFor(hashes), nil
}

// queuesCSPFor is the dashboard's policy: like the pages' one (this origin
// only, no framing), with its inline scripts allowed by hash. Its styles
// are injected by the app at run time, hence 'unsafe-inline' for styles.
func queuesCSPFor(scriptHashes []string) string {
	return "default-src 'self'; script-src 'self' " + strings.Join(scriptHashes, " ") +
		"; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'" +
		"; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
}

// bufferedResponse holds a response from asynqmon so it can be replaced.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if !b.wrote {
		b.status, b.wrote = code, true
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}
