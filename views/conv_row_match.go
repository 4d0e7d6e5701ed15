package views

import (
	"html"
	"html/template"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/models"
)

// AddMatches shows, under each row a search found by its messages' text,
// the message that matched: a snippet with the searched words marked, and
// a link that opens the thread at that message (?hl=).
func AddMatches(rows []ConvRow, matches map[int64]models.MessageMatch) {
	for i := range rows {
		m, ok := matches[rows[i].ID]
		if !ok {
			continue
		}
		rows[i].Snippet = SnippetHTML(m.Snippet)
		rows[i].SnippetNote = m.IsNote
		rows[i].Href += "?hl=" + strconv.FormatInt(m.MessageID, 10)
	}
}

// SnippetHTML is a snippet as HTML: every part escaped, the searched
// words in <mark>. A message's own markup is text here, never HTML.
func SnippetHTML(parts []models.SnippetPart) template.HTML {
	var b strings.Builder
	for _, p := range parts {
		if p.Hit {
			b.WriteString("<mark>")
			b.WriteString(html.EscapeString(p.Text))
			b.WriteString("</mark>")
			continue
		}
		b.WriteString(html.EscapeString(p.Text))
	}
	return template.HTML(b.String()) //nolint:gosec // every part was escaped above
}
