package models

import (
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Errors of the chat actions, for callers to branch on.
var (
	// ErrOptedOut: the recipient opted out of this channel; nothing may be sent.
	ErrOptedOut = errors.New("recipient opted out")
	// ErrPlanInactive: the location's Chat plan is not active.
	ErrPlanInactive = errors.New("chat plan not active")
)

// FieldError is bad input in one form field, shown next to that field.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}

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

// Event kinds of a conversation's timeline.
const (
	EvCreated       = "created"
	EvMessage       = "message"
	EvMessageStatus = "message_status"
	EvAssigned      = "assigned"
	EvUnassigned    = "unassigned"
	EvOpened        = "opened"
	EvClosed        = "closed"
	EvReopened      = "reopened"
	EvOptedOut      = "opted_out"
	EvOptedIn       = "opted_in"
)

// ConversationRow is a conversation with what the list and thread show of
// its recipient, inbox and assignee.
type ConversationRow struct {
	Conversation
	RecipientName  string  `bun:"recipient_name"`
	RecipientPhone *string `bun:"recipient_phone"`
	RecipientEmail *string `bun:"recipient_email"`
	OptedOut       bool    `bun:"opted_out"` // on this conversation's channel
	InboxName      string  `bun:"inbox_name"`
	LocationID     int64   `bun:"location_id"`
	AssigneeName   *string `bun:"assignee_name"`
}

// DisplayName is how the recipient is named in lists: name, else address.
func (r ConversationRow) DisplayName() string {
	switch {
	case r.RecipientName != "":
		return r.RecipientName
	case r.Channel == ChannelSMS && r.RecipientPhone != nil:
		return *r.RecipientPhone
	case r.RecipientEmail != nil:
		return *r.RecipientEmail
	case r.RecipientPhone != nil:
		return *r.RecipientPhone
	}
	return "Unknown"
}

// Address is the recipient's address on this conversation's channel.
func (r ConversationRow) Address() string {
	if r.Channel == ChannelSMS && r.RecipientPhone != nil {
		return *r.RecipientPhone
	}
	if r.RecipientEmail != nil {
		return *r.RecipientEmail
	}
	return ""
}

// Event is one row of a conversation's timeline; its ID is the live sequence.
type Event struct {
	bun.BaseModel `bun:"table:conversation_events,alias:e"`

	ID             int64          `bun:"id,pk,autoincrement"`
	OrgID          int64          `bun:"org_id"`
	InboxID        int64          `bun:"inbox_id"`
	ConversationID int64          `bun:"conversation_id"`
	Kind           string         `bun:"kind"`
	MessageID      *int64         `bun:"message_id"`
	ActorUserID    *int64         `bun:"actor_user_id"`
	Detail         map[string]any `bun:"detail,type:jsonb"`
	CreatedAt      time.Time      `bun:"created_at,nullzero,default:now()"`

	ActorName *string  `bun:"actor_name,scanonly"`
	Message   *Message `bun:"-"`
}

// Change is what one chat action did, for the caller to render and publish
// after the commit.
type Change struct {
	Conversation ConversationRow
	Events       []Event
}

// LastSeq is the id of the newest event of the change.
func (c *Change) LastSeq() int64 {
	if len(c.Events) == 0 {
		return 0
	}
	return c.Events[len(c.Events)-1].ID
}
