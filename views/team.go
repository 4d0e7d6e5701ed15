package views

import (
	"slices"

	"github.com/parley-chat/parley/models"
)

// TeamData is the team list (/settings/team).
type TeamData struct {
	Users     []models.TeamUser
	CanManage bool
	// InboxNames names the inboxes of chat-agent-only users.
	InboxNames map[int64]string
}

// TeamForm is the add/edit-user form's values, as typed.
type TeamForm struct {
	Name       string
	Email      string
	Role       string
	AllInboxes bool
	InboxIDs   []int64
	// Invite (new users): send a link instead of setting a password now.
	Invite bool
}

// HasInbox reports whether the form has the inbox ticked.
func (f TeamForm) HasInbox(id int64) bool { return slices.Contains(f.InboxIDs, id) }

// TeamUserData is one user's page (/settings/team/:id), or the new-user
// form (/settings/team/new) when User is nil.
type TeamUserData struct {
	User      *models.TeamUser
	Form      TeamForm
	Errors    map[string]string
	Locations []models.LocationSummary
	CanManage bool
	// Self: the user is the one looking (they cannot disable themselves).
	Self bool
	// Notice confirms what was just done.
	Notice string
	// Link is a one-time password link just made (shown once), for
	// LinkPurpose "invite" or "reset".
	Link        string
	LinkPurpose string
}

// ProfileData is the profile page (/profile).
type ProfileData struct {
	Profile models.Profile
	Email   string
	Errors  map[string]string
	Notice  string
	Tokens  []models.APIToken
	// NewToken is a token just created: shown this once.
	NewToken     string
	NewTokenName string
	TokenName    string // the create form's value after an error
}

// PasswordLinkData is the set-a-password page (/password/:token).
type PasswordLinkData struct {
	Token string
	Info  *models.PasswordLinkInfo
	// Gone: the link was used or expired; Missing: no such link.
	Gone, Missing bool
	Error         string // next to the password field
}
