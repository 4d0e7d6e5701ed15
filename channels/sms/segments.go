package sms

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Encoding is how a message is sent. Its values are the ones Vonage's SMS
// API takes in the `type` parameter.
type Encoding string

const (
	// GSM7 is the GSM 03.38 7-bit default alphabet with its extension table:
	// 160 septets in a single SMS, 153 per part when concatenated.
	GSM7 Encoding = "text"
	// UCS2 is 16-bit Unicode (UTF-16 on the wire, as handsets and Vonage
	// treat it): 70 code units in a single SMS, 67 per part when concatenated.
	UCS2 Encoding = "unicode"
)

// Capacities, in septets (GSM-7) or UTF-16 code units (UCS-2). A part of a
// concatenated message carries a 6-byte user data header (UDH), which leaves
// 153 septets or 67 code units of the 140-byte payload for text.
const (
	gsm7Single = 160
	gsm7Multi  = 153
	ucs2Single = 70
	ucs2Multi  = 67
)

// maxNonGSM bounds Segments.NonGSM.
const maxNonGSM = 10

// MaxSegments is the most parts Parley sends one message as; [Validate]
// refuses longer texts with [ErrTooLong]. Ten parts is 1,530 GSM-7
// characters or 670 UCS-2 code units, and at the default rate card
// (2 credits per segment) caps one message at 20 credits.
//
// The limit is Parley's, not a protocol limit: the concatenation header
// allows 255 parts and Vonage splits long texts itself, but long chains are
// billed part by part and are the ones carriers and handsets most often
// deliver out of order or incompletely. Ten parts is a common provider cap
// and is ample for a conversation reply.
const MaxSegments = 10

// Errors returned by [Validate]. Check them with errors.Is: ErrTooLong comes
// wrapped with the counts.
var (
	// ErrEmpty means the text is empty or only white space.
	ErrEmpty = errors.New("sms: message is empty")
	// ErrInvalidUTF8 means the text is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("sms: message is not valid UTF-8")
	// ErrTooLong means the text needs more than MaxSegments parts.
	ErrTooLong = errors.New("sms: message too long")
)

// Segments describes how a text goes out as SMS: its encoding, how many
// parts it takes, and how full the last part is.
type Segments struct {
	// Encoding is GSM7 if every character is in the GSM 03.38 default
	// alphabet or its extension table, else UCS2: a single character outside
	// GSM switches the whole message.
	Encoding Encoding
	// Segments is the number of SMS parts (0 for an empty message). Each part
	// is billed.
	Segments int
	// Units is the length in the encoding's units: septets for GSM7, where
	// extension-table characters (^ { } \ [ ~ ] | € and form feed) count 2;
	// UTF-16 code units for UCS2, where characters outside the Basic
	// Multilingual Plane (most emoji) count 2.
	Units int
	// PerSegment is the capacity of each part at this length: 160 or 70 for
	// a single SMS, 153 or 67 once the message is concatenated.
	PerSegment int
	// Remaining is how many units are still free in the last part before
	// another part is needed (PerSegment for an empty message). A two-unit
	// character is never split across parts, so when Remaining is 1 the next
	// extension character or emoji starts a new part.
	Remaining int
	// NonGSM lists the distinct characters that forced UCS2, in the order
	// first seen, at most 10; nil for GSM7. The composer uses it to explain
	// the switch ("ł is not in GSM, switching to Unicode"). Invalid UTF-8
	// shows up as U+FFFD.
	NonGSM []rune
}

// Count works out the encoding and segments of text. It runs on every
// keystroke of the composer's preview: one pass over the text, and no
// allocation unless the text has characters outside GSM.
//
// Concatenated parts are filled greedily and a character is never split
// across two parts: a GSM-7 extension character (escape + character) whose
// escape would land as the 153rd septet, or a UCS-2 surrogate pair whose
// high half would land as the 67th code unit, starts the next part instead,
// leaving the last unit of the previous part empty. Invalid UTF-8 bytes are
// counted as U+FFFD, each forcing UCS2; [Validate] refuses such text.
func Count(text string) Segments {
	var (
		gsm            = true
		septets, units int
		gParts, gCur   = 1, 0 // parts and fill when packed at gsm7Multi
		uParts, uCur   = 1, 0 // parts and fill when packed at ucs2Multi
		nonGSM         []rune
	)
	for _, r := range text {
		if c := gsmCost(r); c == 0 {
			gsm = false
			nonGSM = addNonGSM(nonGSM, r)
		} else if gsm {
			septets += c
			if gCur+c > gsm7Multi {
				gParts++
				gCur = c
			} else {
				gCur += c
			}
		}
		u := 1
		if r >= 0x10000 {
			u = 2
		}
		units += u
		if uCur+u > ucs2Multi {
			uParts++
			uCur = u
		} else {
			uCur += u
		}
	}

	switch {
	case len(text) == 0:
		return Segments{Encoding: GSM7, PerSegment: gsm7Single, Remaining: gsm7Single}
	case gsm && septets <= gsm7Single:
		return Segments{Encoding: GSM7, Segments: 1, Units: septets, PerSegment: gsm7Single, Remaining: gsm7Single - septets}
	case gsm:
		return Segments{Encoding: GSM7, Segments: gParts, Units: septets, PerSegment: gsm7Multi, Remaining: gsm7Multi - gCur}
	case units <= ucs2Single:
		return Segments{Encoding: UCS2, Segments: 1, Units: units, PerSegment: ucs2Single, Remaining: ucs2Single - units, NonGSM: nonGSM}
	default:
		return Segments{Encoding: UCS2, Segments: uParts, Units: units, PerSegment: ucs2Multi, Remaining: ucs2Multi - uCur, NonGSM: nonGSM}
	}
}

// addNonGSM appends r to list unless it is already there or the list is full.
func addNonGSM(list []rune, r rune) []rune {
	if len(list) >= maxNonGSM {
		return list
	}
	for _, seen := range list {
		if seen == r {
			return list
		}
	}
	if list == nil {
		list = make([]rune, 0, maxNonGSM)
	}
	return append(list, r)
}

// IsGSM7 reports whether every character of text is in the GSM 03.38
// default alphabet or its extension table, so that it can be sent with
// Encoding GSM7. The empty text is GSM-7. Invalid UTF-8 is not.
func IsGSM7(text string) bool {
	for _, r := range text {
		if gsmCost(r) == 0 {
			return false
		}
	}
	return true
}

// Credits is what sending seg costs at perSegment credits per part
// (the rate card's SMS rate; 2 by default): seg.Segments * perSegment.
// An empty message costs nothing.
func Credits(seg Segments, perSegment int) int {
	return seg.Segments * perSegment
}

// Validate reports whether text may be sent as an SMS. It returns
// [ErrEmpty] if text is empty or only white space, [ErrInvalidUTF8] if it is
// not valid UTF-8, and an error wrapping [ErrTooLong] that gives the counts
// (for example "sms: message too long: message is 12 segments; the limit is
// 10") if it needs more than [MaxSegments] parts.
func Validate(text string) error {
	if strings.TrimSpace(text) == "" {
		return ErrEmpty
	}
	if !utf8.ValidString(text) {
		return ErrInvalidUTF8
	}
	if seg := Count(text); seg.Segments > MaxSegments {
		return fmt.Errorf("%w: message is %d segments; the limit is %d", ErrTooLong, seg.Segments, MaxSegments)
	}
	return nil
}
