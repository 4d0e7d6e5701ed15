package views

import "github.com/parley-chat/parley/models"

// RecipientData is a recipient's page: the edit form, the conversations
// with them (earlier ones too), and consent per channel with its history.
type RecipientData struct {
	Recipient     *models.Recipient
	Form          RecipientForm
	Conversations []models.ConversationRow
	History       []models.ConsentEvent
	// ConsentError is a refused consent change, shown above its forms.
	ConsentError string
	// Timeline is the page of the timeline shown (or of the search's
	// matching messages), Query the search, Page its number.
	Timeline *models.TimelinePage
	Query    string
	Page     int
	// Places are the locations a home may be; Place the form's values
	// and PlaceErrors its errors by field.
	Places      []models.PlaceOption
	Place       models.RecipientPlace
	PlaceErrors map[string]string
	PlaceSaved  bool
}

// RecipientDeleteData is the confirmation before deleting a recipient.
type RecipientDeleteData struct {
	Recipient *models.Recipient
	Footprint *models.RecipientFootprint
	// Error is why it cannot be deleted, if it cannot.
	Error string
}

// RecipientMergeData is the merge page: a search for the other recipient,
// then the preview of what moves.
type RecipientMergeData struct {
	Recipient  *models.Recipient
	Query      string
	Candidates []models.Recipient
	Preview    *models.MergePreview
	// Error is why the chosen merge is refused.
	Error string
}

// RecipientForm is the edit form's values and the errors by field.
type RecipientForm struct {
	Name, Phone, Email, Notes string
	Errors                    map[string]string
	// Saved is set right after a successful save.
	Saved bool
}

// Label names the recipient: name, else an address.
func (d RecipientData) Label() string {
	r := d.Recipient
	switch {
	case r.Name != "":
		return r.Name
	case r.Phone != nil:
		return *r.Phone
	case r.Email != nil:
		return *r.Email
	}
	return "Recipient"
}

// ConsentState is one channel's consent as the page shows it.
type ConsentState struct {
	Channel  string // sms or email
	Label    string // SMS or Email
	Address  string // the recipient's address on it ("" if none)
	OptedOut bool
	// Source holds the opt-out (a models.Consent* source; "" while in).
	Source string
	// RecipientHeld: only the recipient may undo the opt-out.
	RecipientHeld bool
}

// Holder says who opted the recipient out and who may undo it.
func (c ConsentState) Holder() string {
	switch c.Source {
	case models.ConsentByKeyword:
		return "by texting STOP; only they can opt back in (START)"
	case models.ConsentByReceipt:
		return "reported by their carrier; only they can opt back in (START)"
	case models.ConsentByUnsubscribe:
		return "with the unsubscribe link; only they can opt back in"
	case models.ConsentByAgent:
		return "by a teammate"
	case models.ConsentByImport:
		return "by an import"
	}
	if c.OptedOut {
		return "only they can opt back in"
	}
	return ""
}

// Consent lists the recipient's consent per channel.
func (d RecipientData) Consent() []ConsentState {
	r := d.Recipient
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	return []ConsentState{
		{Channel: models.ChannelSMS, Label: "SMS", Address: deref(r.Phone), OptedOut: r.SMSOptedOutAt != nil,
			Source: deref(r.SMSOptOutSource), RecipientHeld: r.SMSOptedOutAt != nil && models.RecipientHoldsOptOut(r.SMSOptOutSource)},
		{Channel: models.ChannelEmail, Label: "Email", Address: deref(r.Email), OptedOut: r.EmailOptedOutAt != nil,
			Source: deref(r.EmailOptOutSource), RecipientHeld: r.EmailOptedOutAt != nil && models.RecipientHoldsOptOut(r.EmailOptOutSource)},
	}
}

// RecipientName names a recipient: name, else an address.
func RecipientName(r *models.Recipient) string {
	switch {
	case r.Name != "":
		return r.Name
	case r.Phone != nil:
		return *r.Phone
	case r.Email != nil:
		return *r.Email
	}
	return "Recipient"
}

// Label names the recipient to delete.
func (d RecipientDeleteData) Label() string { return RecipientName(d.Recipient) }

// Label names the survivor of the merge.
func (d RecipientMergeData) Label() string { return RecipientName(d.Recipient) }

// Name names one of the candidates.
func (d RecipientMergeData) Name(r models.Recipient) string { return RecipientName(&r) }

// PrevPage is the timeline's previous page number (0: none).
func (d RecipientData) PrevPage() int {
	if d.Page > 1 {
		return d.Page - 1
	}
	return 0
}

// OtherName names the recipient the preview merges in.
func (d RecipientMergeData) OtherName() string {
	if d.Preview == nil {
		return ""
	}
	return RecipientName(d.Preview.Other)
}
