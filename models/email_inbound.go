package models

import (
	"context"
	"errors"
	"time"
)

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

// errNotYet marks a groundwork stub a parallel change replaces.
var errNotYet = errors.New("not implemented yet")

// ReceiveEmail stores one inbound email in one transaction, threaded: by
// its reply token; else by In-Reply-To / References naming a message we
// sent to that same sender; else into the inbox it was addressed to. A
// repeat of a stored Message-ID to the same address is a duplicate;
// mail from one of our own addresses is dropped. Committed before the
// caller acknowledges (250 / 2xx).
func (s *Store) ReceiveEmail(ctx context.Context, in InboundEmail) (*InboundResult, error) {
	return nil, errNotYet
}

// EmailAddressKnown reports whether mail to addr is accepted: an inbox's
// address, a live conversation's reply address, or the return path of a
// message we sent (token is the reply or bounce token the edge read from
// addr, or empty).
func (s *Store) EmailAddressKnown(ctx context.Context, addr, replyToken, bounceToken string) (bool, error) {
	return false, errNotYet
}

// RecordBounce marks the outbound email whose return path carries token
// failed with reason (a delivery status notification came back), and
// returns the change to show live; ErrNotFound for an unknown token.
func (s *Store) RecordBounce(ctx context.Context, token, reason string) (*Change, error) {
	return nil, errNotYet
}
