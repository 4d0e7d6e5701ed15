package web

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// A broadcast's reply dashboard: who replied, opted out, failed or is
// silent, filtered by tab; bulk-assign and bulk-close of the chats the
// replies opened; the CSV export (the page's and the API's share
// writeRepliesCSV).

// replyStates are the dashboard's filters ("" is everyone).
var replyStates = map[string]bool{"": true, models.ReplyStateReplied: true, models.ReplyStateOptedOut: true,
	models.ReplyStateFailed: true, models.ReplyStateSilent: true, models.ReplyStatePending: true, models.ReplyStateSkipped: true}

// replyTable loads one page of the dashboard for state.
func (s *Server) replyTable(c *fiber.Ctx, b *models.BroadcastView, state string) (*views.BroadcastRepliesData, error) {
	su := sessionUser(c)
	if !replyStates[state] {
		state = ""
	}
	after, _ := strconv.ParseInt(c.Query("after"), 10, 64)
	page, err := s.store.BroadcastReplies(c.UserContext(), su.Scope, b.ID, models.BroadcastReplyFilter{State: state, After: after})
	if err != nil {
		return nil, err
	}
	d := &views.BroadcastRepliesData{ID: b.ID, State: state, Tabs: views.ReplyTabs(b.Counts, state), Rows: page.Rows,
		NextAfter: page.NextAfter, ChatEnabled: b.ChatEnabled, CSRF: s.csrfToken(c)}
	if b.ChatEnabled {
		users, err := s.store.Users(c.UserContext(), su.Scope)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if u.DisabledAt == nil {
				d.Team = append(d.Team, u)
			}
		}
	}
	return d, nil
}

// broadcastRepliesFragment is the dashboard's table for a tab.
func (s *Server) broadcastRepliesFragment(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	b, err := s.store.BroadcastByID(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	d, err := s.replyTable(c, b, c.Query("state"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.views.Fragment(c, "broadcast", "broadcast-replies", d)
}

// broadcastRepliesCSV downloads the dashboard (the tab's rows, all of them).
func (s *Server) broadcastRepliesCSV(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	return s.sendRepliesCSV(c, id, c.Query("state"))
}

// sendRepliesCSV answers with a broadcast's reply rows in state as CSV.
func (s *Server) sendRepliesCSV(c *fiber.Ctx, id int64, state string) error {
	su := sessionUser(c)
	if !replyStates[state] {
		state = ""
	}
	page, err := s.store.BroadcastReplies(c.UserContext(), su.Scope, id, models.BroadcastReplyFilter{State: state, Limit: -1})
	if err != nil {
		return err
	}
	name := "broadcast-" + strconv.FormatInt(id, 10) + "-replies"
	if state != "" {
		name += "-" + state
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, contentDisposition("attachment", name+".csv"))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return writeRepliesCSV(c, page.Rows)
}

// writeRepliesCSV writes the dashboard's rows with a header line. Cells
// that a spreadsheet would run as a formula are prefixed with a quote.
func writeRepliesCSV(w io.Writer, rows []models.BroadcastReply) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"recipient_id", "name", "phone", "email", "channel", "state", "message_status", "status_reason",
		"skip_reason", "conversation_id", "replied_at", "reply", "assignee", "chat_status"})
	for _, r := range rows {
		conv, replied := "", ""
		if r.ConversationID != nil {
			conv = strconv.FormatInt(*r.ConversationID, 10)
		}
		if r.RepliedAt != nil {
			replied = r.RepliedAt.UTC().Format(time.RFC3339)
		}
		rec := []string{strconv.FormatInt(r.RecipientID, 10), r.Name, deref(r.Phone), deref(r.Email), r.Channel, r.State,
			r.MessageStatus, r.StatusReason, r.SkipReason, conv, replied, r.ReplyPreview, deref(r.AssigneeName), r.ChatStatus}
		for i := range rec {
			rec[i] = models.CSVSafe(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("web: replies csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("web: replies csv: %w", err)
	}
	return nil
}

// selectedChats reads the dashboard's ticked chats (none: all of them).
func selectedChats(c *fiber.Ctx) []int64 {
	var ids []int64
	for _, v := range c.Request().PostArgs().PeekMulti("conv") {
		if id, err := strconv.ParseInt(string(v), 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

// assignBroadcastChats assigns the reply chats to a team member.
func (s *Server) assignBroadcastChats(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	who, _ := strconv.ParseInt(c.FormValue("assignee"), 10, 64)
	res, err := s.store.AssignBroadcastChats(c.UserContext(), su.Scope, id, who, selectedChats(c))
	return s.afterBulk(c, id, res, err, "assigned")
}

// closeBroadcastChats closes the reply chats.
func (s *Server) closeBroadcastChats(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	res, err := s.store.CloseBroadcastChats(c.UserContext(), su.Scope, id, selectedChats(c))
	return s.afterBulk(c, id, res, err, "closed")
}

// afterBulk publishes a bulk action's changes and goes back to the
// dashboard with what happened.
func (s *Server) afterBulk(c *fiber.Ctx, id int64, res *models.BroadcastBulk, err error, notice string) error {
	if res != nil {
		s.publishAll(res.Changes)
	}
	if err != nil {
		return err
	}
	if res.Skipped > 0 {
		notice = "partial"
	}
	return c.Redirect("/broadcasts/"+strconv.FormatInt(id, 10)+"?notice="+notice, fiber.StatusSeeOther)
}
