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
		{Channel: models.ChannelSMS, Label: "SMS", Address: deref(r.Phone), OptedOut: r.SMSOptedOutAt != nil},
		{Channel: models.ChannelEmail, Label: "Email", Address: deref(r.Email), OptedOut: r.EmailOptedOutAt != nil},
	}
}
