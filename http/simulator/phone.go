package simulator

import (
	"fmt"
	"slices"
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

// numbers lists the SMS numbers of the inboxes the signed-in user may see
// (their organization's; a limited agent's own). Everything the phone
// pages show or send is limited to them (R9).
func (p *phonePages) numbers(c *fiber.Ctx) ([]string, error) {
	inboxes, err := p.inboxes(c)
	if err != nil {
		return nil, fmt.Errorf("simulator: visible inboxes: %w", err)
	}
	var out []string
	for _, in := range inboxes {
		if in.SMSNumber != nil {
			out = append(out, *in.SMSNumber)
		}
	}
	return out, nil
}

// data is a phone's page for a user who may see the inbox numbers given.
func (p *phonePages) data(numbers []string, phone, errMsg string) *views.PhoneData {
	if phone == "" {
		phone = DefaultPhone
	}
	d := &views.PhoneData{Phone: phone, Phones: p.s.Phones(numbers), Inboxes: numbers, Error: errMsg}
	for _, m := range p.s.Thread(phone, numbers) {
		d.Thread = append(d.Thread, views.PhoneMessage{FromPhone: m.FromPhone, Text: m.Text, Inbox: m.Inbox, At: m.At, Status: m.Status})
	}
	return d
}

// Page shows a phone: its number, the inboxes it can text and its thread.
func (p *phonePages) Page(c *fiber.Ctx) error {
	phone, ok := models.ParsePhone(c.Query("phone", DefaultPhone))
	errMsg := ""
	if !ok {
		phone, errMsg = DefaultPhone, "That is not a phone number; showing "+DefaultPhone+"."
	}
	numbers, err := p.numbers(c)
	if err != nil {
		return err
	}
	return p.kit.Render(c, "phone", "Phone simulator", "phone", p.data(numbers, phone, errMsg))
}

// Thread renders the phone's thread alone, for an HTMX refresh.
func (p *phonePages) Thread(c *fiber.Ctx) error {
	phone, _ := models.ParsePhone(c.Query("phone"))
	numbers, err := p.numbers(c)
	if err != nil {
		return err
	}
	return p.kit.Fragment(c, "phone", "phone-thread", p.data(numbers, phone, ""))
}

// Send texts from the simulated phone through the real inbound webhook.
// An inbox number the user may not see answers 404 before anything is
// posted: the simulator's signed webhook must not become a way to put
// texts into another organization's inbox (R9: never 403).
func (p *phonePages) Send(c *fiber.Ctx) error {
	numbers, err := p.numbers(c)
	if err != nil {
		return err
	}
	// Fiber's strings point into buffers it reuses; the simulator keeps these.
	phone, ok := models.ParsePhone(strings.Clone(c.FormValue("phone")))
	text := strings.Clone(c.FormValue("text"))
	inbox, _ := models.ParsePhone(strings.Clone(c.FormValue("inbox")))
	if !slices.Contains(numbers, inbox) {
		return fiber.ErrNotFound
	}
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
	if errMsg != "" {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return p.kit.Fragment(c, "phone", "phone-thread", p.data(numbers, phone, errMsg))
}
