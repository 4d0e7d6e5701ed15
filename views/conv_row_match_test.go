package views

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley/models"
)

// A snippet's text is escaped, whatever the message held; only the marks
// are markup.
func TestSnippetHTMLEscapes(t *testing.T) {
	got := string(SnippetHTML([]models.SnippetPart{
		{Text: `<script>alert(1)</script> "x" & `},
		{Text: `<img src=x onerror=alert(2)>`, Hit: true},
		{Text: ` hx-get="/x"`},
	}))
	want := `&lt;script&gt;alert(1)&lt;/script&gt; &#34;x&#34; &amp; <mark>&lt;img src=x onerror=alert(2)&gt;</mark> hx-get=&#34;/x&#34;`
	if got != want {
		t.Errorf("snippet:\n got %s\nwant %s", got, want)
	}
	rows := []ConvRow{{ID: 7, Href: "/chats/7"}, {ID: 8, Href: "/chats/8"}}
	AddMatches(rows, map[int64]models.MessageMatch{7: {MessageID: 42, IsNote: true, Snippet: []models.SnippetPart{{Text: "hi", Hit: true}}}})
	if rows[0].Href != "/chats/7?hl=42" || !rows[0].SnippetNote || !strings.Contains(string(rows[0].Snippet), "<mark>hi</mark>") {
		t.Errorf("matched row: %+v", rows[0])
	}
	if rows[1].Href != "/chats/8" || rows[1].Snippet != "" {
		t.Errorf("row without a match: %+v", rows[1])
	}
}
