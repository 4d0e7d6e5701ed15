package email

import "bytes"

// Limits bound what Parse accepts. A zero field takes its default.
type Limits struct {
	// MaxBytes is the largest raw message accepted (default 25 MiB).
	MaxBytes int
	// MaxParts is the most MIME parts, containers included (default 100).
	MaxParts int
	// MaxDepth is the deepest nesting of multiparts (default 10).
	MaxDepth int
	// MaxAttachmentBytes is the largest attachment whose bytes are kept;
	// a larger one is listed with Omitted set and no Content (default 10 MiB).
	MaxAttachmentBytes int
}

// DefaultLimits returns the limits a zero Limits stands for.
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:           25 << 20,
		MaxParts:           100,
		MaxDepth:           10,
		MaxAttachmentBytes: 10 << 20,
	}
}

// withDefaults fills zero (or negative) fields from d.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxParts <= 0 {
		l.MaxParts = d.MaxParts
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxAttachmentBytes <= 0 {
		l.MaxAttachmentBytes = d.MaxAttachmentBytes
	}
	return l
}

// tooComplexRaw is a cheap bound, taken before the MIME parser runs, on how
// much structure raw can hold. The parser recurses once per multipart, and
// every multipart needs a "boundary" parameter; it makes one part per
// delimiter line, and every delimiter line starts with "--". A message with
// more of either than the limits allow (with room for signatures and
// quoted text) is refused before any recursion or allocation per part.
func tooComplexRaw(raw []byte, l Limits) bool {
	if countFold(raw, []byte("boundary")) > l.MaxParts {
		return true
	}
	dashLines := 0
	if bytes.HasPrefix(raw, []byte("--")) {
		dashLines++
	}
	dashLines += bytes.Count(raw, []byte("\n--"))
	return dashLines > 4*l.MaxParts+16
}

// countFold counts case-insensitive, non-overlapping occurrences of the
// lowercase ASCII word in s.
func countFold(s, word []byte) int {
	n := 0
	for i := 0; i+len(word) <= len(s); {
		j := 0
		for j < len(word) && lower(s[i+j]) == word[j] {
			j++
		}
		if j == len(word) {
			n++
			i += len(word)
		} else {
			i++
		}
	}
	return n
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
