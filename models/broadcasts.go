package models

import (
	"time"

	"github.com/uptrace/bun"
)

// Broadcasts (product.md, capability 3; issue 13): one message to many
// recipients by SMS and/or email. A broadcast is created scheduled (for
// now or later); when it is due, the broadcast:fanout task resolves its
// audience into broadcast_recipients (one row per recipient and channel),
// checks the location's credits for the whole of it, and then messages the
// rows in batches: each recipient's message is stored in a conversation of
// its own (origin broadcast, closed: it is the recipient's history, not a
// chat), queued through the same outbound pipeline, gate, rate limit and
// ledger as a chat reply. A reply within the reply window of a
// chat-enabled broadcast opens a conversation marked with the broadcast
// (or marks the open one it joins).

// Broadcast statuses.
const (
	BroadcastScheduled = "scheduled" // waiting for send_at
	BroadcastSending   = "sending"   // fanning out, or holding rows for quiet hours
	BroadcastSent      = "sent"      // every row messaged or skipped
	BroadcastCancelled = "cancelled" // stopped by a person; what had gone out stays
	BroadcastFailed    = "failed"    // did not start (status_reason says why)
)

// Broadcast recipient row states (broadcast_recipients.status).
const (
	BRPending   = "pending"   // not yet messaged (due_at: not before)
	BRQueued    = "queued"    // its message exists; the message's status is the delivery state
	BRSkipped   = "skipped"   // never messaged: skip_reason
	BRCancelled = "cancelled" // the broadcast was cancelled before it was messaged
)

// Why a broadcast row was skipped.
const (
	SkipOptedOut  = "opted_out"
	SkipNoAddress = "no_address"
)

// Broadcast limits and defaults.
const (
	DefaultReplyWindowHours = 72
	MaxReplyWindowHours     = 720
	maxBroadcastName        = 200
	maxBroadcastBody        = 10000
	maxBroadcastSubject     = 300
)

// Audience is who a broadcast is for: the members of groups, everyone at a
// location (its recipients' home location, or anyone who has talked to one
// of its inboxes), or the recipients a search matches. Exactly one is set.
type Audience struct {
	GroupIDs   []int64 `json:"group_ids,omitempty"`
	LocationID int64   `json:"location_id,omitempty"`
	Query      string  `json:"q,omitempty"`
}

// Broadcast is one broadcast as stored.
type Broadcast struct {
	bun.BaseModel `bun:"table:broadcasts,alias:b"`

	ID                int64      `bun:"id,pk,autoincrement" json:"id"`
	OrgID             int64      `bun:"org_id" json:"-"`
	LocationID        int64      `bun:"location_id" json:"location_id"`
	InboxID           int64      `bun:"inbox_id" json:"inbox_id"`
	CreatedBy         *int64     `bun:"created_by" json:"created_by"`
	Name              string     `bun:"name" json:"name"`
	Channels          []string   `bun:"channels,array" json:"channels"`
	Audience          Audience   `bun:"audience,type:jsonb" json:"audience"`
	Body              string     `bun:"body" json:"body"`
	Subject           string     `bun:"subject" json:"subject,omitempty"`
	ChatEnabled       bool       `bun:"chat_enabled" json:"chat_enabled"`
	ReplyWindowHours  int        `bun:"reply_window_hours" json:"reply_window_hours"`
	RespectQuietHours bool       `bun:"respect_quiet_hours" json:"respect_quiet_hours"`
	Emergency         bool       `bun:"emergency" json:"emergency"`
	Status            string     `bun:"status" json:"status"`
	StatusReason      string     `bun:"status_reason" json:"status_reason,omitempty"`
	SendAt            time.Time  `bun:"send_at,nullzero,default:now()" json:"send_at"`
	StartedAt         *time.Time `bun:"started_at" json:"started_at"`
	FinishedAt        *time.Time `bun:"finished_at" json:"finished_at"`
	CreatedAt         time.Time  `bun:"created_at,nullzero,default:now()" json:"created_at"`
	UpdatedAt         time.Time  `bun:"updated_at,nullzero,default:now()" json:"updated_at"`
}

// BroadcastInput is what a person or program asks to broadcast. InboxID
// may be 0: the audience's location's (or the organization's only) inbox
// that has every chosen channel is used. SendAt nil or past: now.
type BroadcastInput struct {
	Name              string     `json:"name"`
	InboxID           int64      `json:"inbox_id,omitempty"`
	Channels          []string   `json:"channels"`
	Audience          Audience   `json:"audience"`
	Body              string     `json:"body"`
	Subject           string     `json:"subject,omitempty"`
	ChatEnabled       bool       `json:"chat_enabled"`
	ReplyWindowHours  int        `json:"reply_window_hours,omitempty"`
	SendAt            *time.Time `json:"send_at,omitempty"`
	RespectQuietHours bool       `json:"respect_quiet_hours"`
	Emergency         bool       `json:"emergency"`
}

// BroadcastEstimate is what a broadcast would do if it went out now.
type BroadcastEstimate struct {
	LocationID int64 `json:"location_id"`
	InboxID    int64 `json:"inbox_id"`
	// Recipients is how many people the audience holds; Reached how many
	// of them get at least one message.
	Recipients int `json:"recipients"`
	Reached    int `json:"reached"`
	// Messages by channel that would go out.
	SMS   int `json:"sms"`
	Email int `json:"email"`
	// Skipped rows (a person on a channel): opted out, or without an
	// address for the channel.
	SkippedOptedOut  int `json:"skipped_opted_out"`
	SkippedNoAddress int `json:"skipped_no_address"`
	// Segments is the SMS segments over the whole audience (placeholders
	// filled in per recipient); SegmentsEach the most one text takes.
	Segments     int    `json:"segments"`
	SegmentsEach int    `json:"segments_each"`
	Encoding     string `json:"encoding"`
	// Credits the broadcast costs; Available the location's balance less
	// outbound charges already waiting; Shortfall how many are missing (0
	// when it can go).
	Credits   int64 `json:"credits"`
	Available int64 `json:"available"`
	Shortfall int64 `json:"shortfall"`
}

// BroadcastCounts is a broadcast's progress, per recipient row (a person
// on one channel).
type BroadcastCounts struct {
	Total            int `json:"total"`
	Pending          int `json:"pending"` // not yet messaged (held for quiet hours, or not reached yet)
	Queued           int `json:"queued"`  // messaged, not yet sent
	Sent             int `json:"sent"`
	Delivered        int `json:"delivered"`
	Failed           int `json:"failed"`
	SkippedOptedOut  int `json:"skipped_opted_out"`
	SkippedNoAddress int `json:"skipped_no_address"`
	Cancelled        int `json:"cancelled"`
	// Replied counts people who answered within the reply window.
	Replied int `json:"replied"`
	// OptedOutAfter counts people who opted out after it reached them.
	OptedOutAfter int `json:"opted_out_after"`
	// Credits charged for the broadcast's messages so far.
	Credits int64 `json:"credits"`
}

// Done is how many rows reached a final state (for a progress bar).
func (c BroadcastCounts) Done() int {
	return c.Sent + c.Delivered + c.Failed + c.SkippedOptedOut + c.SkippedNoAddress + c.Cancelled
}

// BroadcastView is a broadcast with its progress, as pages and the API show it.
type BroadcastView struct {
	Broadcast
	InboxName     string          `json:"inbox_name"`
	LocationName  string          `json:"location_name"`
	CreatedByName string          `json:"created_by_name,omitempty"`
	Counts        BroadcastCounts `json:"counts"`
}

// BroadcastPage is one page of the broadcasts list, newest first.
type BroadcastPage struct {
	Broadcasts []BroadcastView
	NextAfter  int64 // pass as after for the next page; 0 at the end
}

// Reply dashboard states of one recipient row.
const (
	ReplyStateReplied  = "replied"
	ReplyStateOptedOut = "opted_out"
	ReplyStateFailed   = "failed"
	ReplyStateSilent   = "silent"
	ReplyStatePending  = "pending" // not messaged yet (or skipped): neither silent nor failed
	ReplyStateSkipped  = "skipped"
)

// BroadcastReply is one row of a broadcast's reply dashboard.
type BroadcastReply struct {
	RecipientID    int64      `json:"recipient_id"`
	Name           string     `json:"name"`
	Phone          *string    `json:"phone"`
	Email          *string    `json:"email"`
	Channel        string     `json:"channel"`
	State          string     `json:"state"`
	MessageStatus  string     `json:"message_status"` // of the broadcast's message; "" when none
	StatusReason   string     `json:"status_reason,omitempty"`
	SkipReason     string     `json:"skip_reason,omitempty"`
	ConversationID *int64     `json:"conversation_id"` // the chat the reply is in
	RepliedAt      *time.Time `json:"replied_at"`
	ReplyPreview   string     `json:"reply_preview,omitempty"`
	AssigneeName   *string    `json:"assignee_name,omitempty"`
	ChatStatus     string     `json:"chat_status,omitempty"` // the reply chat's status
}

// BroadcastReplyFilter narrows the reply dashboard: State "" is every row.
type BroadcastReplyFilter struct {
	State string
	After int64 // recipient id keyset (rows are ordered by recipient id, then channel)
	Limit int   // at most 500; 0 = 100; -1 = all (CSV export)
}

// BroadcastReplyPage is one page of the reply dashboard.
type BroadcastReplyPage struct {
	Rows      []BroadcastReply
	NextAfter int64
}
