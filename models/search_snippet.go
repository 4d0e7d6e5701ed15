package models

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// A search's snippet: a few words of the matched message around the first
// word searched for, each searched word marked. Marked here rather than by
// PostgreSQL's ts_headline, which parses the body again for every row; the
// words are split as parseTextQuery splits the search (runs of letters and
// digits), so what is marked is what was asked for. A phrase's words are
// marked wherever they stand. The text is the message's as written: the
// page escapes it.
const (
	snippetWords  = 18 // words shown at most
	snippetBefore = 6  // of them, before the first match
	snippetMaxLen = 240
)

// snippet cuts body to about snippetWords words around the first word a
// term matches and marks every word a term matches.
func snippet(body string, terms []textTerm) []SnippetPart {
	type word struct {
		start, end int
		hit        bool
	}
	var words []word
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRuneInString(body[i:])
		if !isWordRune(r) {
			i += size
			continue
		}
		j := i
		for j < len(body) {
			r, size := utf8.DecodeRuneInString(body[j:])
			if !isWordRune(r) {
				break
			}
			j += size
		}
		words = append(words, word{start: i, end: j, hit: termsMatch(strings.ToLower(body[i:j]), terms)})
		i = j
	}
	first := 0
	for k, w := range words {
		if w.hit {
			first = k
			break
		}
	}
	from := max(0, first-snippetBefore)
	to := min(len(words), from+snippetWords)
	from = max(0, to-snippetWords)
	start, end := 0, len(body)
	if from > 0 {
		start = words[from].start
	}
	if to < len(words) {
		end = words[to-1].end
	}
	var parts []SnippetPart
	length := 0 // bytes of text added, "…" aside
	clipped := false
	add := func(text string, hit bool) {
		if room := snippetMaxLen - length; len(text) > room {
			text, clipped = cutBytes(text, max(room, 0)), true
		}
		length += len(text)
		if text == "" {
			return
		}
		if n := len(parts); n > 0 && parts[n-1].Hit == hit {
			parts[n-1].Text += text
			return
		}
		parts = append(parts, SnippetPart{Text: text, Hit: hit})
	}
	if start > 0 {
		add("… ", false)
	}
	at := start
	for _, w := range words[from:to] {
		if length >= snippetMaxLen {
			break
		}
		add(gap(body[at:w.start]), false)
		add(body[w.start:w.end], w.hit)
		at = w.end
	}
	if at < end && length < snippetMaxLen {
		add(gap(body[at:end]), false)
		at = end
	}
	if clipped || at < len(body) {
		parts = append(parts, SnippetPart{Text: " …"})
		if n := len(parts); n > 1 && !parts[n-2].Hit {
			parts[n-2].Text += " …"
			parts = parts[:n-1]
		}
	}
	return parts
}

// cutBytes cuts s to at most n bytes, at a character's boundary.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// gap is the text between two words with each run of whitespace made one
// space: a snippet is one line.
func gap(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// termsMatch reports whether a lower-cased word is one a term asks for.
func termsMatch(w string, terms []textTerm) bool {
	for _, t := range terms {
		if w == t.Word || (t.Prefix && strings.HasPrefix(w, t.Word)) {
			return true
		}
	}
	return false
}
