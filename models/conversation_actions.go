package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// The agents' actions on a conversation: each is one transaction with the
// conversation locked, returning the Change to render and publish.

// StartInput starts a chat from the Chats module.
type StartInput struct {
	InboxID int64
	// To is a phone number or an email address as typed; the channel follows from it.
	To   string
	Body string
	// Subject is a new email chat's subject (required for email, ignored
	// for SMS); a chat that continues an email thread keeps its own.
	Subject string
}

// MaxSubjectLength bounds an email chat's subject, in characters.
const MaxSubjectLength = 200

// checkSubject refuses a missing, overlong or unstorable email subject.
func checkSubject(subject string) (string, error) {
	subject = strings.TrimSpace(subject)
	if err := checkText("subject", "The subject", subject); err != nil {
		return "", err
	}
	switch {
	case subject == "":
		return "", fieldErr("subject", "Give the email a subject.")
	case utf8.RuneCountInString(subject) > MaxSubjectLength:
		return "", fieldErr("subject", "The subject is too long (at most %d characters).", MaxSubjectLength)
	case strings.ContainsAny(subject, "\r\n"):
		return "", fieldErr("subject", "The subject must be one line.")
	}
	return subject, nil
}

// StartConversation starts (or continues) a chat with a recipient: finds or
// creates the recipient by the typed address, finds the active conversation
// of that inbox, recipient and channel or opens a new one, and queues the
// first message. One transaction.
func (s *Store) StartConversation(ctx context.Context, sc Scope, in StartInput) (*Change, error) {
	var channel, phone, email, subject string
	if err := checkText("to", "The recipient", in.To); err != nil {
		return nil, err
	}
	if p, ok := ParsePhone(in.To); ok && !strings.Contains(in.To, "@") {
		channel, phone = ChannelSMS, p
	} else if e, ok := ParseEmail(in.To); ok {
		channel, email = ChannelEmail, e
		var err error
		if subject, err = checkSubject(in.Subject); err != nil {
			return nil, err
		}
	} else {
		return nil, fieldErr("to", "Enter a phone number (e.g. +15551234567) or an email address.")
	}
	if err := checkBody(in.Body); err != nil {
		return nil, err
	}
	if !sc.CanSeeInbox(in.InboxID) {
		return nil, fmt.Errorf("store: start conversation: inbox: %w", ErrNotFound)
	}
	var ch *Change
	err := s.inTx(ctx, func(tx bun.Tx) error {
		inbox, err := inboxInScope(ctx, tx, sc, in.InboxID)
		if err != nil {
			return err
		}
		if inbox.ArchivedAt != nil {
			return fieldErr("inbox_id", "The %s inbox is archived; start the chat from another inbox.", inbox.Name)
		}
		if channel == ChannelSMS && inbox.SMSNumber == nil {
			return fieldErr("to", "The %s inbox has no SMS number; enter an email address.", inbox.Name)
		}
		if channel == ChannelEmail && inbox.EmailAddress == nil {
			return fieldErr("to", "The %s inbox has no email address; enter a phone number.", inbox.Name)
		}
		rcpt, err := findOrCreateRecipient(ctx, tx, sc.OrgID, phone, email)
		if err != nil {
			return err
		}
		conv, created, err := findOrOpenConversation(ctx, tx, sc.OrgID, inbox.ID, rcpt.ID, channel, OriginAgent)
		if err != nil {
			return err
		}
		if channel == ChannelEmail {
			if _, err := ensureEmailThread(ctx, tx, sc.OrgID, conv.ID, subject); err != nil {
				return err
			}
		}
		var evs []Event
		if created {
			ev, err := insertEvent(ctx, tx, conv, EvCreated, nil, &sc.UserID, nil)
			if err != nil {
				return err
			}
			evs = append(evs, *ev)
		}
		more, err := s.addOutbound(ctx, tx, sc, conv, in.Body, false)
		if err != nil {
			return err
		}
		ch = &Change{Events: append(evs, more...)}
		row, err := s.conversationRow(ctx, tx, sc, conv.ID)
		if err != nil {
			return err
		}
		ch.Conversation = *row
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: start conversation: %w", err)
	}
	return ch, nil
}

// Reply queues an outbound message (or, with note set, records an
// internal note) on a conversation. Replying to a closed conversation
// reopens it.
func (s *Store) Reply(ctx context.Context, sc Scope, convID int64, body string, note bool) (*Change, error) {
	if err := checkBody(body); err != nil {
		return nil, err
	}
	return s.change(ctx, sc, convID, "reply", func(tx bun.Tx, conv *Conversation) ([]Event, error) {
		return s.addOutbound(ctx, tx, sc, conv, body, note)
	})
}

// Assign gives the conversation to a team member, or to nobody with 0.
func (s *Store) Assign(ctx context.Context, sc Scope, convID, assigneeID int64) (*Change, error) {
	return s.change(ctx, sc, convID, "assign", func(tx bun.Tx, conv *Conversation) ([]Event, error) {
		if assigneeID == 0 {
			if conv.AssigneeID == nil {
				return nil, nil
			}
			conv.AssigneeID = nil
			if err := updateConversation(ctx, tx, conv, "assignee_id"); err != nil {
				return nil, err
			}
			ev, err := insertEvent(ctx, tx, conv, EvUnassigned, nil, &sc.UserID, nil)
			return oneEvent(ev, err)
		}
		var name string
		err := tx.NewSelect().Model((*User)(nil)).Column("name").
			Where("id = ? AND org_id = ? AND disabled_at IS NULL", assigneeID, sc.OrgID).
			Where("(role <> 'agent' OR all_inboxes OR id IN (SELECT user_id FROM user_inboxes WHERE inbox_id = ?))", conv.InboxID).
			Scan(ctx, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fieldErr("assignee", "Choose a team member who can see this inbox.")
		}
		if err != nil {
			return nil, fmt.Errorf("load assignee: %w", err)
		}
		if conv.AssigneeID != nil && *conv.AssigneeID == assigneeID {
			return nil, nil
		}
		conv.AssigneeID = &assigneeID
		if err := updateConversation(ctx, tx, conv, "assignee_id"); err != nil {
			return nil, err
		}
		ev, err := insertEvent(ctx, tx, conv, EvAssigned, nil, &sc.UserID, map[string]any{"assignee_id": assigneeID, "assignee_name": name})
		return oneEvent(ev, err)
	})
}

// Close closes the conversation; Reopen opens it again.
func (s *Store) Close(ctx context.Context, sc Scope, convID int64) (*Change, error) {
	return s.change(ctx, sc, convID, "close", func(tx bun.Tx, conv *Conversation) ([]Event, error) {
		if conv.Status == StatusClosed {
			return nil, nil
		}
		conv.Status = StatusClosed
		if _, err := tx.NewUpdate().Model(conv).Set("status = 'closed', closed_at = now(), unread_count = 0, updated_at = now()").WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("close: %w", err)
		}
		ev, err := insertEvent(ctx, tx, conv, EvClosed, nil, &sc.UserID, nil)
		return oneEvent(ev, err)
	})
}

// Reopen makes a closed conversation open again, unless a newer one with
// the same recipient on the same inbox and channel is already active.
func (s *Store) Reopen(ctx context.Context, sc Scope, convID int64) (*Change, error) {
	return s.change(ctx, sc, convID, "reopen", func(tx bun.Tx, conv *Conversation) ([]Event, error) {
		if conv.Status != StatusClosed {
			return nil, nil
		}
		ev, err := reopen(ctx, tx, conv, sc.UserID)
		return oneEvent(ev, err)
	})
}

// MarkOpened records that an agent opened the thread: unread goes to zero
// and a New conversation becomes Open. "Sam opened this" goes on the
// timeline the first time each agent opens the conversation while it has
// something to mark; a later open by the same agent only marks it read (a
// hidden "read" event), so re-opening never repeats the line. It changes
// nothing (and returns no event) when there is nothing to mark.
func (s *Store) MarkOpened(ctx context.Context, sc Scope, convID int64) (*Change, error) {
	return s.change(ctx, sc, convID, "open", func(tx bun.Tx, conv *Conversation) ([]Event, error) {
		if conv.UnreadCount == 0 && conv.Status != StatusNew {
			return nil, nil
		}
		wasNew := conv.Status == StatusNew
		if _, err := tx.NewUpdate().Model(conv).
			Set("unread_count = 0, updated_at = now()").
			Set("status = CASE WHEN status = 'new' THEN 'open' ELSE status END").
			WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("mark opened: %w", err)
		}
		opened, err := tx.NewSelect().Model((*Event)(nil)).
			Where("conversation_id = ? AND kind = ? AND actor_user_id = ?", conv.ID, EvOpened, sc.UserID).Exists(ctx)
		if err != nil {
			return nil, fmt.Errorf("mark opened: earlier open: %w", err)
		}
		if opened && !wasNew {
			ev, err := insertEvent(ctx, tx, conv, EvRead, nil, &sc.UserID, nil)
			return oneEvent(ev, err)
		}
		ev, err := insertEvent(ctx, tx, conv, EvOpened, nil, &sc.UserID, map[string]any{"was_new": wasNew})
		return oneEvent(ev, err)
	})
}

// MarkRead records that an agent viewing the thread saw its new messages:
// unread goes to zero, with a hidden "read" event so every screen drops
// the badge in order with the conversation's other changes. It changes
// nothing (and returns no event) when nothing is unread. Unread counts are
// team-wide (an inbox is shared): one agent reading clears the badge for all.
func (s *Store) MarkRead(ctx context.Context, sc Scope, convID int64) (*Change, error) {
	return s.change(ctx, sc, convID, "read", func(tx bun.Tx, conv *Conversation) ([]Event, error) {
		if conv.UnreadCount == 0 {
			return nil, nil
		}
		if _, err := tx.NewUpdate().Model(conv).Set("unread_count = 0, updated_at = now()").WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("mark read: %w", err)
		}
		ev, err := insertEvent(ctx, tx, conv, EvRead, nil, &sc.UserID, nil)
		return oneEvent(ev, err)
	})
}

// change runs one action on a conversation the scope may see, with the
// conversation row locked, and returns the resulting row and events.
func (s *Store) change(ctx context.Context, sc Scope, convID int64, op string,
	fn func(tx bun.Tx, conv *Conversation) ([]Event, error)) (*Change, error) {
	ch := &Change{}
	err := s.inTx(ctx, func(tx bun.Tx) error {
		conv := new(Conversation)
		q := tx.NewSelect().Model(conv).Where("id = ? AND org_id = ?", convID, sc.OrgID).For("UPDATE")
		if err := visibleInboxes(q, sc, "inbox_id").Scan(ctx); err != nil {
			return notFound("conversation", err)
		}
		evs, err := fn(tx, conv)
		if err != nil {
			return err
		}
		ch.Events = evs
		row, err := s.conversationRow(ctx, tx, sc, conv.ID)
		if err != nil {
			return err
		}
		ch.Conversation = *row
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	return ch, nil
}

func oneEvent(ev *Event, err error) ([]Event, error) {
	if err != nil {
		return nil, err
	}
	return []Event{*ev}, nil
}
