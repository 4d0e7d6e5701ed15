package models

import "time"

// The email channel's rows beside the channel-neutral ones: a
// conversation's thread (its reply token and subject), what a message
// carries as an email, and the files attached to inbound mail. See the
// email_channel migration.

// ProviderEmail is the provider recorded on inbound email however it
// arrived (the SMTP listener or the inbound webhook), so the same message
// delivered both ways is stored once.
const ProviderEmail = "email"

// EmailThread is the email side of a conversation.
type EmailThread struct {
	ConversationID int64     `bun:"conversation_id,pk"`
	OrgID          int64     `bun:"org_id"`
	Token          string    `bun:"token"`   // the reply address's token (channels/email.NewToken)
	Subject        string    `bun:"subject"` // the thread's subject, without "Re: "
	CreatedAt      time.Time `bun:"created_at,nullzero,default:now()"`
}

// EmailMessage is what an email message carries besides its text.
type EmailMessage struct {
	MessageID  int64    `bun:"message_id,pk"`
	OrgID      int64    `bun:"org_id"`
	HeaderID   string   `bun:"header_id"` // its Message-ID, bare
	InReplyTo  string   `bun:"in_reply_to"`
	References []string `bun:"refs,array"`
	Subject    string   `bun:"subject"`
	FromAddr   string   `bun:"from_addr"`
	ToAddr     string   `bun:"to_addr"`
	// BounceToken (outbound) names the message in its return path.
	BounceToken *string `bun:"bounce_token"`
	// Automated (inbound) is why it looks machine-written; empty for a person's.
	Automated string    `bun:"automated"`
	FullText  string    `bun:"full_text"` // inbound: the text before stripping
	Raw       []byte    `bun:"raw"`
	CreatedAt time.Time `bun:"created_at,nullzero,default:now()"`
}

// Attachment is a file attached to an inbound email. Data is nil when
// Omitted (over the size limit: listed, not kept).
type Attachment struct {
	ID          int64     `bun:"id,pk,autoincrement"`
	OrgID       int64     `bun:"org_id"`
	MessageID   int64     `bun:"message_id"`
	Filename    string    `bun:"filename"`
	ContentType string    `bun:"content_type"`
	Size        int64     `bun:"size"`
	Omitted     bool      `bun:"omitted"`
	Data        []byte    `bun:"data"`
	CreatedAt   time.Time `bun:"created_at,nullzero,default:now()"`
}
