package models

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// ReceiveEmail stores one inbound email in one transaction, threaded: by
// its reply token; else by In-Reply-To / References naming a message we
// sent to that same sender; else into the inbox it was addressed to (an
// address no inbox owns, or an unknown token, is kept as unrouted). The
// thread picks the inbox, the sender the conversation, as for SMS: one
// per (inbox, recipient, channel) while not closed. A repeat of a stored
// Message-ID to the same address is a duplicate; mail from one of our
// own addresses is dropped. Committed before it returns, so the caller
// acknowledges (250 / 2xx) only what is stored. Mail without a sender,
// recipient or Message-ID is refused with a *FieldError.
//
// A transaction PostgreSQL aborts to break a deadlock is run again, up to
// receiveAttempts times, as ReceiveSMS does.
func (s *Store) ReceiveEmail(ctx context.Context, in InboundEmail) (*InboundResult, error) {
	in, err := in.normalized()
	if err != nil {
		return nil, fmt.Errorf("store: receive email: %w", err)
	}
	for attempt := 1; ; attempt++ {
		res, err := s.receiveEmail(ctx, in)
		if err == nil || attempt == receiveAttempts || !isTransient(err) || ctx.Err() != nil {
			return res, err
		}
	}
}

// receiveEmail is one attempt of ReceiveEmail.
func (s *Store) receiveEmail(ctx context.Context, in InboundEmail) (*InboundResult, error) {
	var res *InboundResult
	err := s.inTx(ctx, func(tx bun.Tx) error {
		th, err := threadEmail(ctx, tx, in)
		if err != nil {
			return err
		}
		if th.own {
			res = &InboundResult{Dropped: true}
			return nil
		}
		rs, err := s.receive(ctx, tx, []Inbound{in.inbound(th.inboxID())})
		if err != nil {
			return err
		}
		res = rs[0]
		if res.Change == nil {
			return nil
		}
		if err := inConversationAlready(ctx, tx, in, res.Change.Conversation.OrgID, res.Change.Conversation.ID); err != nil {
			return err
		}
		return storeEmailExtras(ctx, tx, in, res.Change)
	})
	if errors.Is(err, errDuplicate) {
		return &InboundResult{Duplicate: true}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: receive email: %w", err)
	}
	return res, nil
}

// inConversationAlready refuses (errDuplicate, rolling the message back)
// a mail whose Message-ID the conversation it threaded into already holds
// from the same sender: one reply-all to a conversation's reply address
// and its inbox's address, both ours, reaches the same thread twice and
// is shown once. Mail to two inboxes still makes two conversations.
func inConversationAlready(ctx context.Context, tx bun.Tx, in InboundEmail, orgID, convID int64) error {
	var held bool
	// By the (org_id, header_id) index: a Message-ID has a row or two.
	if err := tx.NewRaw(`SELECT EXISTS (SELECT 1 FROM email_messages em JOIN messages m ON m.id = em.message_id
		WHERE em.org_id = ? AND em.header_id = ? AND em.from_addr = ? AND m.conversation_id = ? AND m.direction = 'inbound')`,
		orgID, in.HeaderID, in.From, convID).Scan(ctx, &held); err != nil {
		return fmt.Errorf("same mail in the thread: %w", err)
	}
	if held {
		return errDuplicate
	}
	return nil
}

// providerMessageID is the email's key among inbound messages: its
// Message-ID and the address it was delivered to, so one mail to two of
// our addresses is stored once for each, and a delivery repeated (a retry,
// or SMTP then the webhook) once.
func (in InboundEmail) providerMessageID() string { return in.HeaderID + " " + in.To }

// inbound is the email as the core's channel-neutral value, routed to
// inboxID when its thread chose one (else by To).
func (in InboundEmail) inbound(inboxID int64) Inbound {
	return Inbound{Channel: ChannelEmail, Provider: ProviderEmail, ProviderMessageID: in.providerMessageID(),
		From: in.From, To: in.To, Body: in.Text, InboxID: inboxID, FromName: in.FromName,
		Automated: in.Automated != "", ReceivedAt: in.ReceivedAt}
}

// normalized is in with addresses lower-cased and trimmed, every text
// storable (valid UTF-8 without NULs: the parser makes it so, but the
// store does not rely on its caller for what PostgreSQL would refuse), and
// the reply token lower-cased; a *FieldError for mail that cannot be
// stored at all.
func (in InboundEmail) normalized() (InboundEmail, error) {
	in.To, in.From = normalAddr(in.To), normalAddr(in.From)
	in.Token = strings.ToLower(strings.TrimSpace(in.Token))
	in.HeaderID, in.InReplyTo = storable(strings.TrimSpace(in.HeaderID)), storable(strings.TrimSpace(in.InReplyTo))
	in.FromName, in.Subject = storable(in.FromName), storable(in.Subject)
	in.Text, in.FullText, in.Automated = storable(in.Text), storable(in.FullText), storable(in.Automated)
	refs := make([]string, 0, len(in.References))
	for _, r := range in.References {
		if r = storable(strings.TrimSpace(r)); r != "" {
			refs = append(refs, r)
		}
	}
	in.References = refs
	atts := make([]AttachmentIn, len(in.Attachments))
	for i, a := range in.Attachments {
		a.Filename, a.ContentType = storable(strings.TrimSpace(a.Filename)), storable(strings.TrimSpace(a.ContentType))
		if a.Filename == "" {
			a.Filename = "attachment"
		}
		if a.ContentType == "" {
			a.ContentType = "application/octet-stream"
		}
		switch {
		case a.Omitted:
			a.Data = nil
		case a.Data == nil:
			a.Data = []byte{}
		}
		if a.Size < int64(len(a.Data)) {
			a.Size = int64(len(a.Data))
		}
		atts[i] = a
	}
	in.Attachments = atts
	switch {
	case !strings.Contains(in.From, "@"):
		return in, fieldErr("from", "The mail has no sender address.")
	case !strings.Contains(in.To, "@"):
		return in, fieldErr("to", "The mail has no recipient address.")
	case in.HeaderID == "":
		return in, fieldErr("message_id", "The mail has no Message-ID.")
	case len(in.HeaderID) > maxHeaderID:
		// Keyed by it in unique indexes, whose entries are bounded.
		return in, fieldErr("message_id", "The mail's Message-ID is longer than a header line (%d bytes).", maxHeaderID)
	}
	return in, nil
}

// maxHeaderID bounds a Message-ID: one header line (RFC 5322).
const maxHeaderID = 998

// normalAddr is an address as the store keeps it: trimmed, lower-case,
// storable.
func normalAddr(s string) string { return storable(strings.ToLower(strings.TrimSpace(s))) }

// storable is s as a text column takes it: valid UTF-8, no NUL bytes.
func storable(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}
