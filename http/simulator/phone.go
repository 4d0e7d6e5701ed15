package simulator

import (
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/http/web"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// Phone returns the phone pages, rendered through the web app's kit;
// http/web's route table mounts them behind its login check.
func (s *Simulator) Phone(kit web.PageKit) web.PhonePages {
	return &phonePages{s: s, kit: kit, inboxes: kit.Inboxes}
}

// phonePages implements web.PhonePages.
type phonePages struct {
	s       *Simulator
	kit     web.PageKit
	inboxes func(c *fiber.Ctx) ([]models.Inbox, error)
}

// DefaultPhone is the number the phone page starts with.
const DefaultPhone = "+15550100123"

func (p *phonePages) data(c *fiber.Ctx, phone, errMsg string) (*views.PhoneData, error) {
	if phone == "" {
		phone = DefaultPhone
	}
	d := &views.PhoneData{Phone: phone, Phones: p.s.Phones(), Error: errMsg}
	inboxes, err := p.inboxes(c)
	if err != nil {
		return nil, err
	}
	for _, in := range inboxes {
		if in.SMSNumber != nil {
			d.Inboxes = append(d.Inboxes, *in.SMSNumber)
		}
	}
	for _, m := range p.s.Thread(phone) {
		d.Thread = append(d.Thread, views.PhoneMessage{FromPhone: m.FromPhone, Text: m.Text, Inbox: m.Inbox, At: m.At, Status: m.Status})
	}
	return d, nil
}

// Page shows a phone: its number, the inboxes it can text and its thread.
func (p *phonePages) Page(c *fiber.Ctx) error {
	phone, ok := models.ParsePhone(c.Query("phone", DefaultPhone))
	errMsg := ""
	if !ok {
		phone, errMsg = DefaultPhone, "That is not a phone number; showing "+DefaultPhone+"."
	}
	d, err := p.data(c, phone, errMsg)
	if err != nil {
		return err
	}
	return p.kit.Render(c, "phone", "Phone simulator", "phone", d)
}

// Thread renders the phone's thread alone, for an HTMX refresh.
func (p *phonePages) Thread(c *fiber.Ctx) error {
	phone, _ := models.ParsePhone(c.Query("phone"))
	d, err := p.data(c, phone, "")
	if err != nil {
		return err
	}
	return p.kit.Fragment(c, "phone", "phone-thread", d)
}

// Send texts from the simulated phone through the real inbound webhook.
func (p *phonePages) Send(c *fiber.Ctx) error {
	// Fiber's strings point into buffers it reuses; the simulator keeps these.
	phone, ok := models.ParsePhone(strings.Clone(c.FormValue("phone")))
	text := strings.Clone(c.FormValue("text"))
	inbox := strings.Clone(c.FormValue("inbox"))
	errMsg := ""
	switch {
	case !ok:
		errMsg = "Enter the phone's number, e.g. +15550100123."
	case strings.TrimSpace(text) == "":
		errMsg = "Type a text first."
	default:
		if err := p.s.Text(phone, inbox, text); err != nil {
			errMsg = "Parley did not accept the text: " + err.Error()
		}
	}
	d, err := p.data(c, phone, errMsg)
	if err != nil {
		return err
	}
	if errMsg != "" {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return p.kit.Fragment(c, "phone", "phone-thread", d)
}
