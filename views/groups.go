package views

import "github.com/parley-chat/parley/models"

// The Recipients section's lists: the recipients list (with its group
// filter and bulk actions), the groups list and one group's page.

// RecipientsListData is the recipients list as the Recipients page and a
// group's page show it: the filter, one page of matches and the groups
// the bulk actions offer.
type RecipientsListData struct {
	Query string
	Page  *models.RecipientPage
	// Continued is set on a later page: what it counts is on this page.
	Continued bool
	// Groups are the organization's, for the filter and the bulk actions
	// (without member counts).
	Groups []models.Group
	// Group is the filter's group (nil: everyone).
	Group *models.Group
	// Target is the group the bulk actions preselect (0: none).
	Target int64
	// Notice says what the last bulk action did ("" for none).
	Notice string
	// Problem says why the last bulk action did nothing ("" for none).
	Problem string
	// CanEdit: the user may change groups (PermEditRecipients).
	CanEdit bool
	// CanImport: the user may import a CSV (PermEditRecipients and every inbox).
	CanImport bool
	// CSRF is the session's token, for the bulk actions' form.
	CSRF string
	// Back is the page the bulk actions return to (this list).
	Back string
}

// ExportURL is the CSV download of the list's filter.
func (d RecipientsListData) ExportURL() string {
	return "/recipients.csv" + d.filterQuery("?")
}

// PageURL is the list's next page (after: the page's NextAfter).
func (d RecipientsListData) PageURL(base string, after int64) string {
	return base + d.filterQuery("?") + sep(d.filterQuery("?")) + "after=" + itoa(after)
}

// filterQuery is ?q=&group_id= as far as set, starting with lead ("" when neither is).
func (d RecipientsListData) filterQuery(lead string) string {
	v := queryValues{}
	if d.Query != "" {
		v.add("q", d.Query)
	}
	if d.Group != nil {
		v.add("group_id", itoa(d.Group.ID))
	}
	if len(v) == 0 {
		return ""
	}
	return lead + v.encode()
}

// GroupsData is the groups page: every group, and the new-group form.
type GroupsData struct {
	Groups  []models.Group
	Name    string
	Errors  map[string]string
	CanEdit bool
	// Deleted names the group just deleted ("" for none).
	Deleted string
}

// GroupData is one group's page: its members (the recipients list
// filtered by it), the rename form and the add-by-search form.
type GroupData struct {
	Group  *models.Group
	List   RecipientsListData
	Name   string
	Errors map[string]string
	// AddQuery is the add-by-search form's text (kept when it was refused).
	AddQuery string
}

// NewRecipientData is the new-recipient form.
type NewRecipientData struct {
	Name, Phone, Email, Notes string
	Errors                    map[string]string
}
