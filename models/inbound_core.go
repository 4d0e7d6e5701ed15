package models

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/jobs/task"
	"github.com/uptrace/bun"
)

// The inbound core stores received messages, any channel, any number, in
// the caller's transaction with a fixed number of statements: route each
// message to its inbox, the one its channel's threading chose or else by
// the address it was sent to (others are kept as unrouted), drop provider retries, find or create the senders, move or
// open their conversations, insert the messages with their timeline
// events, and write the follow-up outbox rows. ReceiveSMS runs it for one
// message (with its pre- and post-steps), ReceiveBatch for a group commit.
//
// Its statements take arrays as parameters, so their text never changes
// with the batch and each is parsed and planned once per connection (see
// prepared.go). Rows it races with another transaction over (a sender or
// a conversation created concurrently) are read again with a fresh
// snapshot; a message stored concurrently fails the call with
// errDuplicate, and nothing is kept.

// inboundBatch is one call of the core in progress.
type inboundBatch struct {
	tx       bun.Tx
	ins      []Inbound
	res      []*InboundResult
	followUp FollowUpFunc

	live      []int             // indexes of messages to store, in arrival order
	inbox     map[int]*Inbox    // by message index
	inboxByID map[int64]*Inbox  // the routed inboxes, by id
	rcpt      map[rcptKey]int64 // sender ids
	senders   map[int64]*sender // by recipient id
	conv      map[convKey]*ConversationRow
}

// FollowUpFunc returns the jobs a stored inbound message triggers besides
// its credit charge (which the core always queues): the auto-response
// check, forwarding. They are written to the outbox in the message's own
// transaction. keyword is the message's
// STOP/START/HELP kind (KeywordStop...) or empty: the keyword's own effects
// (consent, its one reply) come after, and a keyword is charged but never
// forwarded or auto-answered.
type FollowUpFunc func(m *Message, conv *ConversationRow, keyword string) []task.Spec

// rcptKey is a sender: an organization's phone number or email address.
type rcptKey struct {
	org     int64
	channel string
	addr    string
}

// convKey is the active conversation a message belongs to.
type convKey struct {
	inbox, rcpt int64
	channel     string
}

// receive runs the core in tx and returns one result per message.
func (s *Store) receive(ctx context.Context, tx bun.Tx, ins []Inbound) ([]*InboundResult, error) {
	b := &inboundBatch{tx: tx, ins: ins, res: make([]*InboundResult, len(ins)), followUp: s.followUp}
	for i := range b.res {
		b.res[i] = &InboundResult{}
	}
	for i, in := range ins {
		switch in.Channel {
		case ChannelSMS:
		case ChannelEmail:
			// Addresses are stored lower-case (the schema checks it), and
			// an inbox is found by its address however the sender typed it.
			ins[i].From, ins[i].To = strings.ToLower(strings.TrimSpace(in.From)), strings.ToLower(strings.TrimSpace(in.To))
		default:
			return nil, fmt.Errorf("message %s on unknown channel %q: %w", in.ProviderMessageID, in.Channel, ErrConflict)
		}
	}
	if err := b.store(ctx); err != nil {
		return nil, err
	}
	return b.res, nil
}

// store runs the steps in order.
func (b *inboundBatch) store(ctx context.Context) error {
	if err := b.route(ctx); err != nil {
		return err
	}
	if err := b.dropDuplicates(ctx); err != nil {
		return err
	}
	if len(b.live) == 0 {
		return nil
	}
	if err := b.recipients(ctx); err != nil {
		return err
	}
	created, err := b.conversations(ctx)
	if err != nil {
		return err
	}
	msgs, err := b.messages(ctx, created)
	if err != nil {
		return err
	}
	return b.followUps(ctx, msgs)
}

// query runs a statement as a cached prepared statement in the transaction.
func (b *inboundBatch) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return queryCached(ctx, b.tx.Tx, q, args...)
}

// followUps writes the outbox rows the stored messages trigger, in one
// statement: the one place inbound work is queued. Every message's charge
// is pending (the insert wrote it); one credits:charge per location
// settles them.
func (b *inboundBatch) followUps(ctx context.Context, msgs []*Message) error {
	var orgs []int64
	var specs []task.Spec
	charged := map[int64]bool{}
	for j, i := range b.live {
		row := b.conv[b.convKeyOf(i)]
		if loc := b.inbox[i].LocationID; !charged[loc] {
			charged[loc] = true
			orgs, specs = append(orgs, row.OrgID), append(specs, task.NewCreditsCharge(loc))
		}
		if b.followUp == nil {
			continue
		}
		kw := ""
		if msgs[j].Channel == ChannelSMS {
			kw = MatchKeyword(msgs[j].Body)
		}
		for _, t := range b.followUp(msgs[j], row, kw) {
			orgs, specs = append(orgs, row.OrgID), append(specs, t)
		}
	}
	if err := insertOutboxRows(ctx, b.tx.Tx, orgs, specs); err != nil {
		return fmt.Errorf("queue follow-ups: %w", err)
	}
	return nil
}

// preview is the start of a message the chats list shows.
func preview(body string) string {
	r := []rune(body)
	if len(r) > previewLength {
		r = r[:previewLength]
	}
	return string(r)
}
