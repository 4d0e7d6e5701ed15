package views

import "github.com/parley-chat/parley/models"

// Settings pages' data (the Organization, Locations and Inboxes tabs).
// Every form carries the typed values back with Errors keyed by field
// name, so a refused form shows each message next to its field. ReadOnly
// is set for managers: they see the values, with no form buttons.

// SettingsOrgData is the Organization tab.
type SettingsOrgData struct {
	ReadOnly       bool
	Saved          bool
	Name           string
	DefaultCountry string
	Countries      []models.Country
	Errors         map[string]string
}

// SettingsLocationsData is the Locations tab: the list, archived ones apart.
type SettingsLocationsData struct {
	ReadOnly         bool
	Active, Archived []models.LocationSummary
}

// SettingsLocationData is one location's form (ID 0: a new one).
type SettingsLocationData struct {
	ReadOnly   bool
	Saved      bool
	ID         int64
	Archived   bool
	Name       string
	Timezone   string
	QuietStart string
	QuietEnd   string
	PlanStatus string
	PlanName   string
	// The Chat plan's credits per period, anchor date (YYYY-MM-DD in the
	// location's time zone) and period length; PlanReadOnly for those who
	// may not change it (managers). Account is nil for a new location.
	PlanCredits      string
	PlanPeriodStart  string
	PlanPeriodMonths string
	PlanReadOnly     bool
	Account          *PlanAccount
	Inboxes          []models.Inbox
	Timezones        []string
	Errors           map[string]string
}

// SettingsInboxesData is the Inboxes tab: the list, archived ones apart.
type SettingsInboxesData struct {
	ReadOnly         bool
	Active, Archived []models.Inbox
	// CanAdd: there is a location that is not archived to add one to.
	CanAdd bool
}

// DayHoursField is one weekday's row of the business hours form.
type DayHoursField struct {
	Key, Name string
	Text      string // "09:00-12:00, 13:00-17:00"; "" closed
	Error     string
}

// SettingsInboxData is one inbox's form (ID 0: a new one), with its closures.
type SettingsInboxData struct {
	ReadOnly     bool
	Saved        string // what was saved, for the notice ("" none)
	ID           int64
	Archived     bool
	Name         string
	LocationID   int64
	LocationName string
	Timezone     string
	SMSNumber    string
	EmailAddress string
	HelpText     string
	// HoursSet: the inbox keeps business hours (else it is always open).
	HoursSet  bool
	Days      []DayHoursField
	Country   string // the organization's default country, for the number's hint
	Locations []models.Location
	Closures  []models.Closure
	Closure   models.ClosureInput // the add-a-closure form's typed values
	// Forwarding is the inbox's forwarding rules, each saying whether it
	// applies at ForwardAt (as typed in the preview, the location's wall
	// clock; "" now), which ForwardAtText says in words.
	Forwarding    []ForwardingRow
	ForwardAt     string
	ForwardAtText string
	Rule          ForwardingForm // the add-a-rule form's typed values
	Team          []UserChoice   // the users who see the inbox, to notify
	// Auto is the auto-responses form: as saved, or as typed when refused
	// (AutoTyped).
	Auto      AutoForm
	AutoTyped bool
	Errors    map[string]string
}

// AutoForm is an inbox's auto-responses as their form shows them.
type AutoForm struct {
	InitialEnabled, OutOfOfficeEnabled bool
	InitialBody, OutOfOfficeBody       string
	ResponseTime, Notice, Cooldown     string
	// Initial and OutOfOffice are the saved texts as they go out.
	Initial, OutOfOffice models.Written
}

// ForwardingRow is one forwarding rule as the inbox's settings show it.
type ForwardingRow struct {
	ID       int64
	Targets  []string // whom, in words
	Channels string   // "SMS", "Email" or "SMS and email"
	When     string   // the schedule in words
	Only     string   // the conversation's conditions in words ("" none)
	Active   bool     // the schedule applies at the preview's time
}

// ForwardingForm is the add-a-forwarding-rule form's typed values.
type ForwardingForm struct {
	Users          []int64
	Contacts       string // phones and email addresses, one a line
	SMS, Email     bool
	Kind           string
	Windows        string // weekly windows, one a line
	Ranges         string // date ranges, one a line
	OnlyUnassigned bool
	Unanswered     string // minutes, "" none
}

// UserChoice is a user to tick in a form.
type UserChoice struct {
	ID          int64
	Name, Email string
	Checked     bool
}
