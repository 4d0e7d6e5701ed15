package models

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley-chat/parley/jobs/task"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Messages: inbound, outbound and internal notes, and composing an
// agent's message.

// Message statuses.
const (
	MsgNone      = "none" // a note
	MsgReceived  = "received"
	MsgQueued    = "queued"
	MsgSending   = "sending"
	MsgSent      = "sent"
	MsgDelivered = "delivered"
	MsgFailed    = "failed"
)

// Message is one inbound or outbound message, or an internal note.
type Message struct {
	bun.BaseModel `bun:"table:messages"`

	ID                int64   `bun:"id,pk,autoincrement"`
	OrgID             int64   `bun:"org_id"`
	ConversationID    int64   `bun:"conversation_id"`
	Direction         string  `bun:"direction"`
	Channel           string  `bun:"channel"`
	IsNote            bool    `bun:"is_note"`
	Body              string  `bun:"body"`
	AuthorType        string  `bun:"author_type"`
	AuthorUserID      *int64  `bun:"author_user_id"`
	Status            string  `bun:"status"`
	StatusReason      string  `bun:"status_reason"`
	Provider          string  `bun:"provider"`
	ProviderMessageID *string `bun:"provider_message_id"`
	Encoding          string  `bun:"encoding"`
	Segments          int     `bun:"segments"`
	CreditsCharged    int     `bun:"credits_charged"`
	Compliance        bool    `bun:"compliance"`
	// Automated marks a message a machine wrote (an auto-submitted email,
	// RFC 3834): it is shown, but nothing automatic ever answers it.
	Automated   bool       `bun:"automated"`
	CreatedAt   time.Time  `bun:"created_at,nullzero,default:now()"`
	SentAt      *time.Time `bun:"sent_at"`
	DeliveredAt *time.Time `bun:"delivered_at"`
	// ClaimedAt is when a worker last marked the message sending (see
	// ClaimSMS and SendClaimLease).
	ClaimedAt *time.Time `bun:"claimed_at"`
	// Search is the body's words for message search (a stored generated
	// column, 20261213000001): never written, and never read here (the
	// store's SELECT and RETURNING lists name messageColumns instead of
	// *); the field only lets a stray "RETURNING *" scan.
	Search string `bun:"search,scanonly" json:"-"`

	// Email and Attachments are an email message's extras (email_messages
	// without Raw, its attachments without Data), filled in where a
	// thread or a live change shows them; nil for SMS.
	Email       *EmailMessage `bun:"-"`
	Attachments []Attachment  `bun:"-"`
}

// MaxBodyLength bounds a message or note body, in characters. SMS has its
// own, tighter segment limit, checked by the caller with channels/sms.
const MaxBodyLength = 10000

func checkBody(body string) error {
	if err := checkText("body", "The message", body); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(body) == "":
		return fieldErr("body", "Write a message first.")
	case utf8.RuneCountInString(body) > MaxBodyLength:
		return fieldErr("body", "The message is too long (at most %d characters).", MaxBodyLength)
	}
	return nil
}

// checkText refuses typed text PostgreSQL cannot store: invalid UTF-8,
// and NUL bytes, which a text column rejects outright (the statement
// failed and the person saw a 500). what names the text in the message
// shown next to field.
func checkText(field, what, s string) error {
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return fieldErr(field, "%s contains invalid characters. Remove them and try again.", what)
	}
	return nil
}

// addOutbound records an agent's message (queued for the worker through
// the outbox) or note on a locked conversation, and its events.
func (s *Store) addOutbound(ctx context.Context, tx bun.Tx, sc Scope, conv *Conversation, body string, note bool) ([]Event, error) {
	var evs []Event
	var ci composeInfo
	if !note {
		// The same gate the worker checks again when it sends.
		var err error
		if ci, err = composeGate(ctx, tx, conv.ID, conv.Channel, false); err != nil {
			return nil, err
		}
		if conv.Status == StatusClosed {
			ev, err := reopen(ctx, tx, conv, sc.UserID)
			if err != nil {
				return nil, err
			}
			evs = append(evs, *ev)
		}
	}
	msg := &Message{OrgID: conv.OrgID, ConversationID: conv.ID, Direction: "outbound", Channel: conv.Channel,
		IsNote: note, Body: body, AuthorType: "user", AuthorUserID: &sc.UserID, Status: MsgQueued}
	if note {
		msg.Status = MsgNone
	}
	if conv.Channel == ChannelSMS && !note {
		if err := checkSMSBody(body); err != nil {
			return nil, err
		}
		msg.Encoding, msg.Segments = smsShape(body)
	}
	if !note {
		// Checked again when it is sent (settleSend): other sends may
		// spend the same credits first.
		msg.CreditsCharged = ci.price(conv.Channel, msg.Segments)
		if ci.Available < int64(msg.CreditsCharged) {
			return nil, &InsufficientCreditsError{Needed: int64(msg.CreditsCharged), Available: ci.Available}
		}
	}
	if _, err := tx.NewInsert().Model(msg).Returning(msgColumns).Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert message: %w", err)
	}
	if !note {
		if err := queueWithCharge(ctx, tx, msg, ChargeOutbound, ci.LocationID, sendTask(conv.Channel, msg.ID)); err != nil {
			return nil, err
		}
		if _, err := tx.NewUpdate().Model(conv).
			Set("last_message_at = now(), last_message_preview = ?, unread_count = 0, updated_at = now()", preview(body)).
			Set("status = CASE WHEN status = 'new' THEN 'open' ELSE status END").
			WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("update conversation: %w", err)
		}
	}
	ev, err := insertEvent(ctx, tx, conv, EvMessage, &msg.ID, &sc.UserID, nil)
	if err != nil {
		return nil, err
	}
	ev.Message = msg
	return append(evs, *ev), nil
}

// sendTask is the task that sends message msgID on channel.
func sendTask(channel string, msgID int64) task.Spec {
	if channel == ChannelEmail {
		return task.NewEmailSend(msgID)
	}
	return task.NewSMSSend(msgID)
}

// attachMessages loads the messages the events point at, an email's
// headers and attachments with them (fillEmail).
func (s *Store) attachMessages(ctx context.Context, sc Scope, evs []Event) error {
	var ids []int64
	for _, e := range evs {
		if e.MessageID != nil {
			ids = append(ids, *e.MessageID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var msgs []Message
	if err := s.db.NewSelect().Model(&msgs).Where("org_id = ? AND id = ANY(?)", sc.OrgID, pgdialect.Array(ids)).Scan(ctx); err != nil {
		return fmt.Errorf("store: timeline messages: %w", err)
	}
	byID := make(map[int64]*Message, len(msgs))
	ptrs := make([]*Message, len(msgs))
	for i := range msgs {
		byID[msgs[i].ID] = &msgs[i]
		ptrs[i] = &msgs[i]
	}
	if err := fillEmail(ctx, s.db, sc.OrgID, ptrs); err != nil {
		return err
	}
	for i := range evs {
		if evs[i].MessageID != nil {
			evs[i].Message = byID[*evs[i].MessageID]
		}
	}
	return nil
}

// Message's columns, listed once: messageColumns.
var (
	msgColumns  = messageColumns("")
	msgColumnsM = messageColumns("m")
)

// messageColumns lists Message's columns (the search words aside) as
// alias.column, for statements that would otherwise say alias.* and carry
// each message's words along; alias "" names them bare.
func messageColumns(alias string) string {
	t := reflect.TypeOf(Message{})
	var cols []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("bun"), ",")
		if f.Anonymous || name == "" || name == "-" || slices.Contains(strings.Split(opts, ","), "scanonly") {
			continue
		}
		if alias != "" {
			name = alias + "." + name
		}
		cols = append(cols, name)
	}
	return strings.Join(cols, ", ")
}
