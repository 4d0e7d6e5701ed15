// Package views renders Parley's HTML: full pages and the fragments that
// HTMX swaps and websocket frames carry. Templates are embedded and parsed
// once at start-up, so a broken template stops the process before it serves.
// Views take plain view structs; they never query anything.
package views

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
)

//go:embed templates/*.html
var templateFS embed.FS

// Renderer holds one parsed template set per page (layout + partials + the
// page), so pages can each define "content" without clashing.
type Renderer struct {
	pages    map[string]*template.Template
	rowCache rowCache
}

// New parses every template. asset maps a static path to its versioned URL.
func New(asset func(string) string) (*Renderer, error) {
	r := &Renderer{pages: map[string]*template.Template{}}
	funcs := Funcs(asset)
	funcs["convRow"] = r.convRow
	base, err := template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/_*.html")
	if err != nil {
		return nil, fmt.Errorf("views: parse layout: %w", err)
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("views: list templates: %w", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("views: parse %s: %w", f, err)
		}
		r.pages[name] = t
	}
	return r, nil
}

// Page renders a whole page: the page's template inside its layout.
func (r *Renderer) Page(w io.Writer, page string, data any) error {
	return r.Fragment(w, page, "page", data)
}

// Fragment renders one named template of a page's set (a partial such as
// a list row) for an HTMX swap or a websocket frame.
func (r *Renderer) Fragment(w io.Writer, page, name string, data any) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("views: no page %q", page)
	}
	// Render into a buffer so a template error never sends half a page.
	buf := renderBufs.Get().(*bytes.Buffer)
	defer putRenderBuf(buf)
	if err := t.ExecuteTemplate(buf, name, data); err != nil {
		return fmt.Errorf("views: render %s/%s: %w", page, name, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// renderBufs are the buffers pages render into, reused: a fresh one grew
// by doubling to each page's size, half of what a Chats page allocated
// (B6, BENCHMARKS.md).
var renderBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// renderBufMax is the largest buffer kept for reuse; a rare huge page's
// buffer goes to the garbage collector.
const renderBufMax = 1 << 20

func putRenderBuf(b *bytes.Buffer) {
	if b.Cap() > renderBufMax {
		return
	}
	b.Reset()
	renderBufs.Put(b)
}
