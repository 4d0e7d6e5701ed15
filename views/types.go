package views

import "github.com/parley-chat/parley/models"

// Layout is what every page's frame needs: who is signed in, where they are.
type Layout struct {
	Title   string
	Active  string // the navigation entry to highlight: chats, recipients, ...
	CSRF    string
	User    *models.User
	OrgName string
}

// IsAdmin reports whether the signed-in user may see admin-only entries.
func (l Layout) IsAdmin() bool { return l.User != nil && l.User.Role == models.RoleAdmin }

// Page is the data of a full page: the frame and the page's own data.
type Page struct {
	L Layout
	D any
}

// LoginData is the login form's state.
type LoginData struct {
	Email string
	Error string
	Next  string
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
}

// SettingsData is the settings page.
type SettingsData struct {
	Org       *models.Organization
	Locations []models.LocationSummary
	Users     []models.User
}
