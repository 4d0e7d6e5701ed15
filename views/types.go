package views

import (
	"strings"
	"time"

	"github.com/parley-chat/parley/models"
)

// Layout is what every page's frame needs: who is signed in, where they are.
type Layout struct {
	Title   string
	Active  string // the navigation entry to highlight: chats, recipients, ...
	CSRF    string
	User    *models.User
	OrgName string
	// Simulator shows the phone simulator in the navigation.
	Simulator bool
	// Mailbox shows the mailbox simulator in the navigation.
	Mailbox bool
	// Scope is the signed-in user's (zero when signed out).
	Scope models.Scope
	// Sub is the highlighted entry of a section's own navigation (the
	// settings tabs: organization, locations, inboxes, team, audit).
	Sub string
}

// IsAdmin reports whether the signed-in user may see admin-only entries.
func (l Layout) IsAdmin() bool { return l.User != nil && l.User.Role == models.RoleAdmin }

// IsOperator reports whether the signed-in user operates the instance.
func (l Layout) IsOperator() bool { return l.User != nil && l.User.IsOperator }

// Can reports whether the signed-in user's role grants p (the role
// matrix, models/policy.go); templates hide what the routes would refuse.
func (l Layout) Can(p models.Permission) bool { return l.User != nil && l.Scope.Can(p) }

// Page is the data of a full page: the frame and the page's own data.
type Page struct {
	L Layout
	D any
}

// LoginData is the login form's state.
type LoginData struct {
	Email      string
	EmailError string // shown next to the email field
	Notice     string // a confirmation above the form (a password just set)
	Error      string
	Next       string
}

// ErrorData is an error page's message.
type ErrorData struct {
	Status  int
	Heading string
	Message string
}

// RecipientsData is the recipients page.
type RecipientsData struct {
	Query string
	Page  *models.RecipientPage
	// Continued is set on a later page: what it counts is on this page.
	Continued bool
}

// SettingsData is the settings page.
type SettingsData struct {
	Org       *models.Organization
	Locations []models.LocationSummary
	Users     []models.User
}

// ChatsData is the Chats module: the list and, when one is open, a thread.
type ChatsData struct {
	Status, Assignee, Query string
	InboxID                 int64
	Inboxes                 []models.Inbox
	Page                    *models.ConversationPage
	Rows                    []ConvRow // Page's rows, as the list shows them
	NextURL                 string
	Thread                  *ThreadData
	NewChat                 *NewChatData
	Seq                     int64 // the newest event the page reflects
	MeID                    int64
	Empty                   ListEmpty // what the list says when it has no rows
}

// ListEmpty is what an empty chats list says: what its filter hides, with
// links to it, rather than "no conversations yet".
type ListEmpty struct {
	Query    string
	Label    string // the status filter in words: "new", "new or open", ... ("" for all)
	Filtered bool   // an assignee or inbox filter narrows it too
	Counted  bool   // Hidden was loaded (else the text names only the filter)
	Hidden   []HiddenCount
	// AllURL searches every status (set with a query under a status filter).
	AllURL string
}

// HiddenCount is how many conversations of a status an empty list hides.
type HiddenCount struct {
	Status string
	N      int
	More   bool // N is a cap: at least N
	URL    string
}

// ThreadData is one conversation's thread pane.
type ThreadData struct {
	Seq       int64 // the newest event the thread reflects; the socket catches up from it
	Conv      models.ConversationRow
	Items     []models.Event
	Assignees []models.User
	Composer  ComposerData
	// Earlier are the closed conversations with the same recipient on the
	// same inbox and channel, oldest first, shown collapsed above the timeline.
	Earlier []models.EarlierConversation
	// Credits is what the conversation has cost so far (nil: not loaded,
	// as in a live frame).
	Credits *int64
	// Broadcast is the name of the broadcast the conversation is marked
	// with (Conv.BroadcastID), for the head's badge.
	Broadcast string
}

// ComposerData is the reply form and its live preview.
type ComposerData struct {
	ConvID  int64
	Channel string
	Body    string
	Note    bool
	Error   string
	Preview PreviewData
	// Blocked says why nothing can be sent (opted out, plan inactive); notes still can be.
	Blocked string
	// CreditBlocked says, before anything is typed, that the location's
	// plan is not active or its credits do not cover one message.
	CreditBlocked string
	// Rate and Available, when Metered, go with each live preview request
	// (the preview compares the text's price with what is available).
	Rate      int
	Available int64
	Metered   bool
}

// PreviewData is the composer's live count: characters, SMS segments, credits.
type PreviewData struct {
	Channel  string
	Chars    int
	Segments int
	Encoding string // "GSM-7" or "Unicode"
	Credits  int
	NonGSM   string // characters that forced Unicode
	Error    string // e.g. too many segments
	// Available is the location's credits available, when Metered: the
	// preview turns red and says so when the text costs more (Short).
	Available int64
	Metered   bool
}

// Short reports whether the text costs more than the credits available.
func (p PreviewData) Short() bool { return p.Metered && int64(p.Credits) > p.Available }

// NewChatData is the start-a-chat form.
type NewChatData struct {
	Inboxes []models.Inbox
	InboxID int64
	To      string
	Body    string
	Subject string // a new email chat's
	Errors  map[string]string
	// Blocked lists, before anything is typed, why chats cannot be
	// started from the inboxes whose location has no active plan or no
	// credits left (one line per such inbox).
	Blocked []string
}

// ShowSubject: the To looks like an email address (or the subject has an
// error to show), so the Subject field is shown; app.js shows and hides
// it as the To is typed.
func (d NewChatData) ShowSubject() bool {
	return strings.Contains(d.To, "@") || d.Errors["subject"] != ""
}

// RowFrame is a conversation list row sent over the websocket.
type RowFrame struct {
	Row ConvRow
	Seq int64
}

// ItemFrame is a timeline item appended to an open thread over the websocket.
type ItemFrame struct {
	Conv models.ConversationRow
	Item models.Event
	Seq  int64
}

// TypingFrame says who is typing in a thread.
type TypingFrame struct {
	ConvID, UserID int64
	Name           string
	At             int64 // unix milliseconds, so the browser can expire it
}

// Viewer is someone viewing a conversation.
type Viewer struct {
	UserID int64
	Name   string
}

// ViewersFrame lists who is viewing a conversation.
type ViewersFrame struct {
	ConvID  int64
	Viewers []Viewer
}

// PhoneData is the phone simulator page.
type PhoneData struct {
	Phone   string
	Phones  []string
	Inboxes []string // inbox SMS numbers the phone may text
	Thread  []PhoneMessage
	Error   string
}

// PhoneMessage is one text on the simulated phone.
type PhoneMessage struct {
	FromPhone bool
	Text      string
	Inbox     string
	At        time.Time
	Status    string
}
