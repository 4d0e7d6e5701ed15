package email

import (
	"regexp"
	"strings"
)

// The marks of quoted history and signatures, each matched against one
// trimmed line (attributions against up to three lines joined, since mail
// software wraps long ones).
var (
	attributionRe = regexp.MustCompile(`(?i)^(on|am|le|el|il|op)\s.{4,}\s(wrote|schrieb|a écrit|escribió|ha scritto|schreef)\s?:$`)
	// German and Dutch put the verb before the name: "Am ... schrieb Name <a@b>:".
	attributionVerbFirstRe = regexp.MustCompile(`(?i)^(am|op)\s.{4,}\s(schrieb|schreef)\s.+:$`)
	originalRe             = regexp.MustCompile(`(?i)^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|forwarded message)\s*-{2,}$`)
	headerFromRe           = regexp.MustCompile(`(?i)^\*?(from|von|de)\s?:\*?\s`)
	headerSentRe           = regexp.MustCompile(`(?i)^\*?(sent|date|gesendet|envoyé)\s?:\*?\s`)
	headerSubjRe           = regexp.MustCompile(`(?i)^\*?(subject|betreff|objet)\s?:\*?`)
	underscoreRe           = regexp.MustCompile(`^_{10,}$`)
	mobileRe               = regexp.MustCompile(`(?i)^(sent from my \S+|sent from (outlook|mail|yahoo mail|gmail)\b.*|get outlook for \S+)$`)
)

// StripQuoted returns the new text of a reply: what comes before the first
// quote attribution ("On ... wrote:"), Outlook header block or "Original
// Message" line, signature delimiter ("-- ") or "Sent from my iPhone", with
// any remaining "> " quoted lines left out. Line ends become "\n". When
// nothing would be left, it returns the whole text, trimmed, rather than
// nothing: a mail with no new text above its quote keeps what it has.
func StripQuoted(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(text, "\n")
	cut := quoteStart(lines)
	var kept []string
	for _, l := range lines[:cut] {
		if strings.HasPrefix(strings.TrimLeft(l, " "), ">") {
			continue
		}
		kept = append(kept, strings.TrimRight(l, " \t"))
	}
	if out := strings.TrimSpace(strings.Join(kept, "\n")); out != "" {
		return out
	}
	return strings.TrimSpace(text)
}

// quoteStart is the index of the first line of quoted history or
// signature, or len(lines).
func quoteStart(lines []string) int {
	for i, raw := range lines {
		l := strings.TrimSpace(raw)
		switch {
		case raw == "-- " || raw == "--":
			return i
		case originalRe.MatchString(l), mobileRe.MatchString(l):
			return i
		case underscoreRe.MatchString(l) && outlookBlock(skipBlank(lines[i+1:], 2)):
			return i
		case headerFromRe.MatchString(l) && outlookBlock(lines[i:]):
			return i
		case isAttribution(lines[i:]):
			return i
		}
	}
	return len(lines)
}

// isAttribution: the lines begin with "On <date>, <name> wrote:", on one
// line or wrapped over up to three.
func isAttribution(lines []string) bool {
	first := strings.TrimSpace(lines[0])
	if first == "" || strings.HasPrefix(first, ">") {
		return false
	}
	joined := first
	for k := 0; ; k++ {
		if attributionRe.MatchString(joined) || attributionVerbFirstRe.MatchString(joined) {
			return true
		}
		if k == 2 || k+1 >= len(lines) {
			return false
		}
		joined += " " + strings.TrimSpace(lines[k+1])
	}
}

// outlookBlock: the lines begin with a "From:" header line followed,
// within the next five lines, by "Sent:" (or "Date:") and "Subject:".
func outlookBlock(lines []string) bool {
	if len(lines) == 0 || !headerFromRe.MatchString(strings.TrimSpace(lines[0])) {
		return false
	}
	sent, subj := false, false
	for _, l := range lines[1:min(len(lines), 6)] {
		l = strings.TrimSpace(l)
		sent = sent || headerSentRe.MatchString(l)
		subj = subj || headerSubjRe.MatchString(l)
	}
	return sent && subj
}

// skipBlank drops up to n leading blank lines.
func skipBlank(lines []string, n int) []string {
	for ; n > 0 && len(lines) > 0 && strings.TrimSpace(lines[0]) == ""; n-- {
		lines = lines[1:]
	}
	return lines
}
