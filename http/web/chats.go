package web

import (
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// chatsData loads the list half of the Chats module from the query string.
// open, when not nil, is the conversation the page shows: its row stays in
// the list even when the filter would leave it out (see keepOpenRow).
func (s *Server) chatsData(c *fiber.Ctx, su *models.SessionUser, open *models.ConversationRow) (*views.ChatsData, error) {
	ctx := c.UserContext()
	d := &views.ChatsData{Status: c.Query("status", "active"), Assignee: c.Query("assignee"), Query: c.Query("q"), MeID: su.User.ID}
	if len(d.Query) > 200 {
		return nil, fiber.NewError(fiber.StatusBadRequest, "search text too long")
	}
	d.InboxID, _ = strconv.ParseInt(c.Query("inbox"), 10, 64)
	f := models.ConversationFilter{Status: d.Status, Assignee: d.Assignee, InboxID: d.InboxID, Query: d.Query}
	if before := c.Query("before"); before != "" {
		f.BeforeID, _ = strconv.ParseInt(c.Query("before_id"), 10, 64)
		us, _ := strconv.ParseInt(before, 10, 64)
		if us < 1e14 {
			us *= 1000 // a link from before the cursor had microseconds: milliseconds
		}
		f.BeforeAt = time.UnixMicro(us)
	}
	// Read the sequence before the rows: whatever happens in between is
	// replayed on connect, never lost.
	seq, err := s.store.LatestSeq(ctx, su.Scope)
	if err != nil {
		return nil, err
	}
	d.Seq = seq
	if d.Page, err = s.store.Conversations(ctx, su.Scope, f); err != nil {
		return nil, badFilter(err)
	}
	if d.Page.More {
		q := url.Values{"status": {d.Status}, "assignee": {d.Assignee}, "q": {d.Query},
			"inbox":  {strconv.FormatInt(d.InboxID, 10)},
			"before": {strconv.FormatInt(d.Page.NextAt.UnixMicro(), 10)}, "before_id": {strconv.FormatInt(d.Page.NextID, 10)}}
		d.NextURL = "/chats?" + q.Encode()
	}
	if open != nil {
		keepOpenRow(d, *open)
	}
	d.Rows = views.NewConvRows(d.Page.Rows, time.Now())
	s.pub.nameBroadcasts(ctx, su.Scope.OrgID, d.Rows)
	views.AddMatches(d.Rows, d.Page.Matches)
	if d.Inboxes, err = s.visibleInboxes(c, su); err != nil {
		return nil, err
	}
	if err := s.fillEmpty(ctx, su, d, len(d.Page.Rows) == 0); err != nil {
		return nil, err
	}
	return d, nil
}

// badFilter turns an unknown filter value into a 400.
func badFilter(err error) error {
	if fe := asFieldError(err); fe != nil {
		return fiber.NewError(fiber.StatusBadRequest, fe.Message)
	}
	return err
}

func (s *Server) visibleInboxes(c *fiber.Ctx, su *models.SessionUser) ([]models.Inbox, error) {
	locs, err := s.store.Locations(c.UserContext(), su.Scope)
	if err != nil {
		return nil, err
	}
	var out []models.Inbox
	for _, l := range locs {
		out = append(out, l.Inboxes...)
	}
	return out, nil
}

// chats is the Chats module with no thread open.
func (s *Server) chats(c *fiber.Ctx) error {
	su := sessionUser(c)
	d, err := s.chatsData(c, su, nil)
	if err != nil {
		return err
	}
	return s.render(c, "chats", views.Layout{Title: "Chats", Active: "chats"}, d)
}

// chatThread is the Chats module with one conversation open. Opening it
// marks it read (and New → Open), which every other screen sees live.
func (s *Server) chatThread(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := convID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	ch, err := s.store.MarkOpened(ctx, su.Scope, id)
	if err != nil {
		return err
	}
	s.publish(ch)
	d, err := s.chatsData(c, su, &ch.Conversation)
	if err != nil {
		return err
	}
	if d.Thread, err = s.threadData(c, su, &ch.Conversation); err != nil {
		return err
	}
	return s.render(c, "chats", views.Layout{Title: ch.Conversation.DisplayName() + " · Chats", Active: "chats"}, d)
}

// threadData loads a thread pane for a conversation already in scope.
func (s *Server) threadData(c *fiber.Ctx, su *models.SessionUser, conv *models.ConversationRow) (*views.ThreadData, error) {
	ctx := c.UserContext()
	// The sequence is read before the timeline: whatever lands in between
	// is sent again when the socket joins the thread (dropped as a duplicate).
	seq, err := s.store.LatestSeq(ctx, su.Scope)
	if err != nil {
		return nil, err
	}
	items, err := s.store.Timeline(ctx, su.Scope, conv.ID, 0)
	if err != nil {
		return nil, err
	}
	assignees, err := s.store.Assignees(ctx, su.Scope, conv.InboxID)
	if err != nil {
		return nil, err
	}
	earlier, err := s.store.EarlierConversations(ctx, su.Scope, conv)
	if err != nil {
		return nil, err
	}
	credits, err := s.store.ConversationCost(ctx, su.Scope, conv.ID)
	if err != nil {
		return nil, err
	}
	return &views.ThreadData{Seq: seq, Conv: *conv, Items: items, Assignees: assignees, Composer: s.composer(c, conv, "", false, ""),
		Earlier: earlier, Credits: &credits, Broadcast: s.pub.broadcastName(ctx, su.Scope.OrgID, conv.BroadcastID)}, nil
}

// composer builds an empty (or refilled) reply form for a conversation,
// with its location's credits (composer_credits.go).
func (s *Server) composer(c *fiber.Ctx, conv *models.ConversationRow, body string, note bool, errMsg string) views.ComposerData {
	cd := views.ComposerData{ConvID: conv.ID, Channel: conv.Channel, Body: body, Note: note, Error: errMsg}
	if conv.OptedOut {
		cd.Blocked = views.OptedOutText(conv.Channel)
	}
	s.composerCredits(c, conv, &cd)
	available, metered := cd.Preview.Available, cd.Preview.Metered
	cd.Preview = preview(conv.Channel, body, cd.Rate)
	cd.Preview.Available, cd.Preview.Metered = available, metered
	return cd
}

// newChat shows the start-a-chat form.
func (s *Server) newChat(c *fiber.Ctx) error {
	su := sessionUser(c)
	d, err := s.chatsData(c, su, nil)
	if err != nil {
		return err
	}
	// ?to= prefills the recipient (the Recipients page links here).
	d.NewChat = &views.NewChatData{Inboxes: openInboxes(d.Inboxes), To: c.Query("to")}
	s.newChatCredits(c, d.NewChat)
	return s.render(c, "chats", views.Layout{Title: "New chat", Active: "chats"}, d)
}
