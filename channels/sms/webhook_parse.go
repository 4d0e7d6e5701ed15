package sms

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Inbound is one inbound SMS, or one part of a concatenated one, as
// Vonage's inbound-message webhook describes it.
type Inbound struct {
	// MessageID is Vonage's id for this message (or part). Vonage retries
	// a callback it gets no 2xx for over 24 hours, so the store dedupes on
	// it.
	MessageID string
	// From is the sender's number (msisdn), E.164 with '+'.
	From string
	// To is our virtual number the message was sent to, E.164 with '+'.
	To string
	// Text is the message, valid UTF-8 (empty for an empty SMS or a
	// binary one). A NUL character, which PostgreSQL text cannot hold,
	// arrives as U+FFFD.
	Text string
	// Keyword is Vonage's upper-cased first word of the text.
	Keyword string
	// Type is Vonage's "text", "unicode" or "binary" (binary messages
	// carry no text; their data and udh fields are not read). Another
	// word Vonage may add passes through unchanged.
	Type string
	// Timestamp is when Vonage received the message (message-timestamp,
	// UTC); zero when the callback had none.
	Timestamp time.Time
	// Concat is set for a part of a concatenated message.
	Concat *ConcatPart
}

// ConcatPart places one part of a concatenated inbound message.
type ConcatPart struct {
	// Ref is shared by all parts of one message (concat-ref).
	Ref string
	// Part is this part's position, 1 to Total.
	Part int
	// Total is the number of parts, 1 to 255.
	Total int
}

// ParseInbound reads an inbound-message webhook. The error wraps
// ErrMalformed.
func ParseInbound(r Request) (Inbound, error) {
	p, err := r.Params()
	if err != nil {
		return Inbound{}, err
	}
	return ParseInboundParams(p)
}

// ParseInboundParams reads an inbound message from parameters already
// merged by Request.Params (for a handler that verified their signature
// first). It requires msisdn, to, messageId (or message-id), type, and text
// unless the type is binary.
func ParseInboundParams(p url.Values) (Inbound, error) {
	var in Inbound
	var err error
	if in.MessageID, err = messageID(p); err != nil {
		return Inbound{}, err
	}
	if in.From, err = phoneField(p, "msisdn", true); err != nil {
		return Inbound{}, err
	}
	if in.To, err = phoneField(p, "to", true); err != nil {
		return Inbound{}, err
	}
	if in.Type, err = tokenField(p, "type", true); err != nil {
		return Inbound{}, err
	}
	text, hasText := p["text"]
	switch {
	case hasText:
		in.Text = text[0]
	case in.Type != "binary":
		return Inbound{}, fmt.Errorf("%w: missing text", ErrMalformed)
	}
	if len(in.Text) > maxTextBytes {
		return Inbound{}, fmt.Errorf("%w: text of %d bytes exceeds %d", ErrMalformed, len(in.Text), maxTextBytes)
	}
	// Params has checked that the text is valid UTF-8.
	in.Text = strings.ReplaceAll(in.Text, "\x00", "\uFFFD")
	if in.Keyword, err = textField(p, "keyword"); err != nil {
		return Inbound{}, err
	}
	if in.Timestamp, err = timeField(p, "message-timestamp"); err != nil {
		return Inbound{}, err
	}
	if in.Concat, err = concatPart(p); err != nil {
		return Inbound{}, err
	}
	return in, nil
}

// concatPart reads concat, concat-ref, concat-part and concat-total: nil
// when the message is not a part of a longer one.
func concatPart(p url.Values) (*ConcatPart, error) {
	concat := false
	if v := p.Get("concat"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%w: concat %.20q is not a boolean", ErrMalformed, v)
		}
		concat = b
	}
	if !concat && p.Get("concat-ref") == "" && p.Get("concat-part") == "" && p.Get("concat-total") == "" {
		return nil, nil
	}
	ref, err := idField(p, "concat-ref")
	if err != nil {
		return nil, err
	}
	total, err := intField(p, "concat-total", 1, 255)
	if err != nil {
		return nil, err
	}
	part, err := intField(p, "concat-part", 1, total)
	if err != nil {
		return nil, err
	}
	return &ConcatPart{Ref: ref, Part: part, Total: total}, nil
}
