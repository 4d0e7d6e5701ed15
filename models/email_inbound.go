package models

import "time"

// InboundEmail is one received email, as the email channel's edge (the
// SMTP listener or the inbound webhook) parsed it, once per address it was
// delivered to. Message ids are bare, without angle brackets.
type InboundEmail struct {
	// To is the address it was delivered to: an inbox's address, or a
	// conversation's reply address (then Token is its token).
	To    string
	Token string
	// From and FromName are the sender's address and display name.
	From, FromName string
	Subject        string
	// HeaderID is its Message-ID (the edge makes one from a hash of the raw
	// bytes when it has none, so a repeat is still recognised).
	HeaderID   string
	InReplyTo  string
	References []string
	// Text is what agents see: the new text, quoted history and signature
	// stripped; FullText the whole text ("show original" shows Raw too).
	Text, FullText string
	// Automated is why it looks machine-written (RFC 3834), or empty.
	Automated   string
	Raw         []byte
	Attachments []AttachmentIn
	ReceivedAt  time.Time
}

// AttachmentIn is a file attached to an inbound email; Data is nil when
// Omitted (over the size limit).
type AttachmentIn struct {
	Filename, ContentType string
	Size                  int64
	Omitted               bool
	Data                  []byte
}
