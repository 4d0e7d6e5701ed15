package web

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// The composer and the new-chat form say, before the agent types, when
// the location's plan is not active or its credits do not cover one
// message (issue 12); the live preview turns red when the text costs more
// than is available; a send refused for credits says so next to the
// composer. Available is the balance less outbound charges still pending,
// as composing checks it (models.ComposeCreditsAt).

// composerCredits adds the conversation's location's credit state to a
// composer. The composer still works without it: a failed read is logged,
// and the send checks the credits anyway.
func (s *Server) composerCredits(c *fiber.Ctx, conv *models.ConversationRow, cd *views.ComposerData) {
	ccs, err := s.store.ComposeCreditsAt(c.UserContext(), sessionUser(c).Scope, conv.LocationID)
	if err != nil {
		s.log.Warn("composer credits", "conversation", conv.ID, "err", err)
		return
	}
	cc, ok := ccs[conv.LocationID]
	if !ok {
		return
	}
	cd.CreditBlocked = cc.Blocked(conv.Channel)
	cd.Rate, cd.Available, cd.Metered = cc.Price(conv.Channel, 1), cc.Available, true
	cd.Preview.Available, cd.Preview.Metered = cc.Available, true
}

// newChatCredits lists, for the new-chat form, the inboxes chats cannot
// be started from for their location's plan or credits.
func (s *Server) newChatCredits(c *fiber.Ctx, form *views.NewChatData) {
	var locs []int64
	for _, ib := range form.Inboxes {
		locs = append(locs, ib.LocationID)
	}
	ccs, err := s.store.ComposeCreditsAt(c.UserContext(), sessionUser(c).Scope, locs...)
	if err != nil {
		s.log.Warn("new chat credits", "err", err)
		return
	}
	for _, ib := range form.Inboxes {
		channel := models.ChannelSMS
		if ib.SMSNumber == nil {
			channel = models.ChannelEmail
		}
		cc, ok := ccs[ib.LocationID]
		if !ok {
			continue
		}
		if why := cc.Blocked(channel); why != "" {
			if len(form.Inboxes) > 1 {
				why = ib.Name + ": " + why
			}
			form.Blocked = append(form.Blocked, why)
		}
	}
}

// creditsMessage explains a send refused for credits, or "" for another
// error.
func creditsMessage(err error) string {
	var ic *models.InsufficientCreditsError
	if !errors.As(err, &ic) {
		return ""
	}
	return fmt.Sprintf("Not sent: insufficient credits. This message needs %d and the balance is %d. An admin can buy credits; your text is kept.",
		ic.Needed, ic.Available)
}
