package models

import (
	"time"

	"github.com/uptrace/bun"
)

// Channels a conversation runs on.
const (
	ChannelSMS   = "sms"
	ChannelEmail = "email"
)

// Conversation statuses.
const (
	StatusNew    = "new"
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Recipient is a person an organization serves.
type Recipient struct {
	bun.BaseModel `bun:"table:recipients"`

	ID              int64      `bun:"id,pk,autoincrement"`
	OrgID           int64      `bun:"org_id"`
	Name            string     `bun:"name"`
	Phone           *string    `bun:"phone"`
	Email           *string    `bun:"email"`
	SMSOptedOutAt   *time.Time `bun:"sms_opted_out_at"`
	EmailOptedOutAt *time.Time `bun:"email_opted_out_at"`
	CreatedAt       time.Time  `bun:"created_at,nullzero,default:now()"`
	UpdatedAt       time.Time  `bun:"updated_at,nullzero,default:now()"`
}

// Conversation is one inbox talking with one recipient on one channel.
type Conversation struct {
	bun.BaseModel `bun:"table:conversations"`

	ID                 int64      `bun:"id,pk,autoincrement"`
	OrgID              int64      `bun:"org_id"`
	InboxID            int64      `bun:"inbox_id"`
	RecipientID        int64      `bun:"recipient_id"`
	Channel            string     `bun:"channel"`
	Status             string     `bun:"status"`
	Origin             string     `bun:"origin"`
	AssigneeID         *int64     `bun:"assignee_id"`
	BroadcastID        *int64     `bun:"broadcast_id"`
	PreviousID         *int64     `bun:"previous_id"`
	LastMessageAt      time.Time  `bun:"last_message_at,nullzero,default:now()"`
	LastMessagePreview string     `bun:"last_message_preview"`
	UnreadCount        int        `bun:"unread_count"`
	CreatedAt          time.Time  `bun:"created_at,nullzero,default:now()"`
	UpdatedAt          time.Time  `bun:"updated_at,nullzero,default:now()"`
	ClosedAt           *time.Time `bun:"closed_at"`
}

// Message is one inbound or outbound message, or an internal note.
type Message struct {
	bun.BaseModel `bun:"table:messages"`

	ID                int64      `bun:"id,pk,autoincrement"`
	OrgID             int64      `bun:"org_id"`
	ConversationID    int64      `bun:"conversation_id"`
	Direction         string     `bun:"direction"`
	Channel           string     `bun:"channel"`
	IsNote            bool       `bun:"is_note"`
	Body              string     `bun:"body"`
	AuthorType        string     `bun:"author_type"`
	AuthorUserID      *int64     `bun:"author_user_id"`
	Status            string     `bun:"status"`
	StatusReason      string     `bun:"status_reason"`
	Provider          string     `bun:"provider"`
	ProviderMessageID *string    `bun:"provider_message_id"`
	Encoding          string     `bun:"encoding"`
	Segments          int        `bun:"segments"`
	CreditsCharged    int        `bun:"credits_charged"`
	Compliance        bool       `bun:"compliance"`
	CreatedAt         time.Time  `bun:"created_at,nullzero,default:now()"`
	SentAt            *time.Time `bun:"sent_at"`
	DeliveredAt       *time.Time `bun:"delivered_at"`
}
