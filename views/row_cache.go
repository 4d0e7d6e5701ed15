package views

import (
	"bytes"
	"fmt"
	"html/template"
	"sync"
)

// A list row's HTML depends only on its ConvRow, so each distinct row is
// rendered once and reused: the Chats page lists the same newest rows to
// every agent on every load, and html/template's escaping of a row (some
// twenty reflective calls) was most of the page's CPU. A row whose
// conversation changed, or whose age label moved on, is a new key.

// rowCacheSize bounds the rows kept; when full, the cache starts afresh.
const rowCacheSize = 4096

// rowCache holds rendered rows by their values.
type rowCache struct {
	mu   sync.Mutex
	rows map[ConvRow]template.HTML
}

// convRow renders the chats page's "conv-row" template for row, or returns
// its earlier rendering.
func (r *Renderer) convRow(row ConvRow) (template.HTML, error) {
	c := &r.rowCache
	c.mu.Lock()
	h, ok := c.rows[row]
	c.mu.Unlock()
	if ok {
		return h, nil
	}
	t, ok := r.pages["chats"]
	if !ok {
		return "", fmt.Errorf("views: no chats page for a row")
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "conv-row", row); err != nil {
		return "", fmt.Errorf("views: render row %d: %w", row.ID, err)
	}
	h = template.HTML(buf.String()) //nolint:gosec // html/template's own output
	c.mu.Lock()
	if c.rows == nil || len(c.rows) >= rowCacheSize {
		c.rows = make(map[ConvRow]template.HTML, 256)
	}
	c.rows[row] = h
	c.mu.Unlock()
	return h, nil
}
