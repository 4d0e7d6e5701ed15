package views

import (
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/models"
)

// BroadcastsData is the broadcasts list.
type BroadcastsData struct {
	Rows      []BroadcastRow
	NextAfter int64
	Continued bool // a later page: "Newest" links back
}

// BroadcastRow is one broadcast in the list.
type BroadcastRow struct {
	ID          int64
	Name        string
	Status      string
	StatusLabel string
	Channels    string // "SMS · Email"
	Audience    string
	Summary     string // "12 of 40 done · 3 replied"
	CreatedISO  string
	SendISO     string // when it went (or goes) out
	Credits     int64
}

// NewBroadcastRows precomputes the list's rows; audience names each
// broadcast's audience.
func NewBroadcastRows(page *models.BroadcastPage, audience func(models.Audience) string) []BroadcastRow {
	out := make([]BroadcastRow, 0, len(page.Broadcasts))
	for i := range page.Broadcasts {
		b := &page.Broadcasts[i]
		out = append(out, BroadcastRow{ID: b.ID, Name: b.Name, Status: b.Status, StatusLabel: BroadcastStatusLabel(b.Status),
			Channels: ChannelsLabel(b.Channels), Audience: audience(b.Audience), Summary: ProgressSummary(b.Counts),
			CreatedISO: b.CreatedAt.UTC().Format(time.RFC3339), SendISO: sendTime(&b.Broadcast).UTC().Format(time.RFC3339),
			Credits: b.Counts.Credits})
	}
	return out
}

// sendTime is when the broadcast started, else when it is due.
func sendTime(b *models.Broadcast) time.Time {
	if b.StartedAt != nil {
		return *b.StartedAt
	}
	return b.SendAt
}

// BroadcastStatusLabel names a broadcast status for people.
func BroadcastStatusLabel(s string) string {
	switch s {
	case models.BroadcastScheduled:
		return "Scheduled"
	case models.BroadcastSending:
		return "Sending"
	case models.BroadcastSent:
		return "Sent"
	case models.BroadcastCancelled:
		return "Cancelled"
	case models.BroadcastFailed:
		return "Failed"
	}
	return title(s)
}

// ChannelsLabel names a broadcast's channels ("SMS · Email").
func ChannelsLabel(chs []string) string {
	parts := make([]string, 0, len(chs))
	for _, c := range chs {
		if c == models.ChannelSMS {
			parts = append(parts, "SMS")
		} else {
			parts = append(parts, title(c))
		}
	}
	return strings.Join(parts, " · ")
}

// ProgressSummary is a broadcast's progress in a few words.
func ProgressSummary(c models.BroadcastCounts) string {
	if c.Total == 0 {
		return "Not started"
	}
	s := fmt.Sprintf("%d of %d done", c.Done(), c.Total)
	if c.Delivered > 0 {
		s += fmt.Sprintf(" · %d delivered", c.Delivered)
	}
	if c.Failed > 0 {
		s += fmt.Sprintf(" · %d failed", c.Failed)
	}
	if c.Replied > 0 {
		s += fmt.Sprintf(" · %d replied", c.Replied)
	}
	return s
}

// BroadcastProgress is the live progress card of one broadcast: the
// stacked bar's segments and the numbers under it. The same fragment
// renders the page and every live frame.
type BroadcastProgress struct {
	ID          int64
	Status      string
	StatusLabel string
	Reason      string
	Counts      models.BroadcastCounts
	Segments    []ProgressSegment
	Done        int
	Percent     int // done of total, 0-100
	Final       bool
	// Cancellable: the broadcast can still be cancelled (the page's
	// Cancel button; a live frame removes it once it cannot).
	Cancellable bool
	// Tabs are the reply dashboard's filters with their counts, which a
	// live frame updates in place.
	Tabs []ReplyTab
	// OOB marks a live frame (swapped in place by the socket).
	OOB bool
}

// ProgressSegment is one part of the stacked bar.
type ProgressSegment struct {
	Key   string // delivered, sent, queued, failed, skipped, pending
	Label string
	N     int
	Width string // CSS width, "12.50%"
}

// NewBroadcastProgress precomputes the progress card of v.
func NewBroadcastProgress(v *models.BroadcastView) BroadcastProgress {
	c := v.Counts
	p := BroadcastProgress{ID: v.ID, Status: v.Status, StatusLabel: BroadcastStatusLabel(v.Status), Reason: v.StatusReason,
		Counts: c, Done: c.Done(),
		Final:       v.Status == models.BroadcastSent || v.Status == models.BroadcastCancelled || v.Status == models.BroadcastFailed,
		Cancellable: v.Status == models.BroadcastScheduled || v.Status == models.BroadcastSending,
		Tabs:        ReplyTabs(c, "")}
	skipped := c.SkippedOptedOut + c.SkippedNoAddress + c.Cancelled
	parts := []ProgressSegment{
		{Key: "delivered", Label: "Delivered", N: c.Delivered},
		{Key: "sent", Label: "Sent", N: c.Sent},
		{Key: "queued", Label: "Queued", N: c.Queued},
		{Key: "failed", Label: "Failed", N: c.Failed},
		{Key: "skipped", Label: "Skipped", N: skipped},
		{Key: "pending", Label: "Waiting", N: c.Pending},
	}
	for i := range parts {
		if c.Total > 0 {
			parts[i].Width = fmt.Sprintf("%.2f%%", 100*float64(parts[i].N)/float64(c.Total))
		} else {
			parts[i].Width = "0%"
		}
	}
	p.Segments = parts
	if c.Total > 0 {
		p.Percent = 100 * p.Done / c.Total
	}
	return p
}

// BroadcastPageData is one broadcast's page.
type BroadcastPageData struct {
	B         models.BroadcastView
	Audience  string
	Progress  BroadcastProgress
	Replies   BroadcastRepliesData
	Team      []models.User
	CanCancel bool
	Notice    string // the result of a bulk action or a cancel
	Error     string
}

// ReplyTab is one filter of the reply dashboard.
type ReplyTab struct {
	State  string // "" for all
	Label  string
	N      int
	Active bool
}

// BroadcastRepliesData is the reply dashboard's table.
type BroadcastRepliesData struct {
	ID        int64
	State     string
	Tabs      []ReplyTab
	Rows      []models.BroadcastReply
	NextAfter int64
	// ChatEnabled: replies open chats (bulk actions apply).
	ChatEnabled bool
	Team        []models.User
	// CSRF is the form token: the table is also rendered as a fragment,
	// without the page's layout.
	CSRF string
}

// ReplyTabs are the dashboard's filters with their counts.
func ReplyTabs(c models.BroadcastCounts, state string) []ReplyTab {
	tabs := []ReplyTab{
		{State: models.ReplyStateReplied, Label: "Replied", N: c.Replied},
		{State: models.ReplyStateOptedOut, Label: "Opted out", N: c.OptedOutAfter + c.SkippedOptedOut},
		{State: models.ReplyStateFailed, Label: "Failed", N: c.Failed},
		{State: models.ReplyStateSilent, Label: "Silent", N: -1},
		{State: "", Label: "All", N: c.Total},
	}
	for i := range tabs {
		tabs[i].Active = tabs[i].State == state
	}
	return tabs
}

// ReplyStateLabel names a dashboard state for people.
func ReplyStateLabel(s string) string {
	switch s {
	case models.ReplyStateOptedOut:
		return "Opted out"
	case "":
		return "All"
	}
	return title(s)
}

// BroadcastComposeData is the compose page.
type BroadcastComposeData struct {
	Form      BroadcastForm
	Errors    map[string]string
	Locations []models.LocationSummary // with the inboxes the user may see
	Groups    []models.BroadcastGroup
	Timezone  string // the user's, for send_at
	Estimate  BroadcastEstimateData
}

// BroadcastForm is the compose form's values as typed.
type BroadcastForm struct {
	Name              string
	InboxID           int64
	Channels          string // sms, email, both
	AudienceKind      string // groups, location, search
	GroupIDs          map[int64]bool
	LocationID        int64
	Query             string
	Body              string
	Subject           string
	ChatEnabled       bool
	ReplyWindowHours  int
	Emergency         bool
	RespectQuietHours bool
	SendLater         bool
	SendAt            string // datetime-local, in Timezone
}

// BroadcastEstimateData is the compose form's live estimate and its Send
// button.
type BroadcastEstimateData struct {
	E         *models.BroadcastEstimate
	Emergency bool
	Error     string // why there is no estimate (a field to fix)
	// CanSend: an estimate with someone reached and no shortfall.
	CanSend bool
}
