package views

import (
	"bytes"
	"strings"
	"testing"
)

// TestConvRowCache: a reused row is the template's own rendering of the
// same values, and a changed row is rendered afresh.
func TestConvRowCache(t *testing.T) {
	r, err := New(func(p string) string { return "/static/" + p })
	if err != nil {
		t.Fatal(err)
	}
	row := ConvRow{ID: 7, Href: "/chats/7", Status: "open", StatusLabel: "Open", Name: `<b>Rosa</b> "M"`, Preview: "hi", TimeLabel: "5m"}
	var direct bytes.Buffer
	if err := r.Fragment(&direct, "chats", "conv-row", row); err != nil {
		t.Fatal(err)
	}
	first, err := r.convRow(row)
	if err != nil {
		t.Fatal(err)
	}
	again, err := r.convRow(row)
	if err != nil {
		t.Fatal(err)
	}
	if string(first) != direct.String() || again != first {
		t.Fatalf("cached row differs from the template's:\n%s\n%s", first, direct.String())
	}
	if !strings.Contains(string(first), "&lt;b&gt;Rosa&lt;/b&gt;") {
		t.Fatalf("name not escaped: %s", first)
	}
	row.TimeLabel = "6m"
	changed, err := r.convRow(row)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(changed), ">6m</time>") {
		t.Fatalf("changed row reused: %s", changed)
	}
	for i := range rowCacheSize + 1 {
		row.ID = int64(i)
		if _, err := r.convRow(row); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(r.rowCache.rows); n > rowCacheSize {
		t.Fatalf("cache holds %d rows, more than %d", n, rowCacheSize)
	}
}
