package web

import (
	"context"
	"net/url"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// hiddenCountCap bounds each count an empty list shows ("500+ closed"):
// counting an organization's every closed conversation is not worth it.
const hiddenCountCap = 500

// statusLabels name a status filter in the empty list's words.
var statusLabels = map[string]string{"": "new or open", "active": "new or open", "new": "new", "open": "open", "closed": "closed", "all": ""}

// statusShown lists the statuses a status filter shows.
func statusShown(filter string) []string {
	switch filter {
	case "", "active":
		return []string{models.StatusNew, models.StatusOpen}
	case "all":
		return []string{models.StatusNew, models.StatusOpen, models.StatusClosed}
	}
	return []string{filter}
}

// listURL is the chats list with d's filters and another status (and query).
func listURL(d *views.ChatsData, status, q string) string {
	v := url.Values{"status": {status}}
	if d.Assignee != "" {
		v.Set("assignee", d.Assignee)
	}
	if d.InboxID != 0 {
		v.Set("inbox", strconv.FormatInt(d.InboxID, 10))
	}
	if q != "" {
		v.Set("q", q)
	}
	return "/chats?" + v.Encode()
}

// fillEmpty says what d's list hides when it is empty. count loads how
// many conversations of each other status the filters allow; without it
// the text names only the filter (the browser asks /chats/empty for the
// counts when its list empties live).
func (s *Server) fillEmpty(ctx context.Context, su *models.SessionUser, d *views.ChatsData, count bool) error {
	e := views.ListEmpty{Query: d.Query, Label: statusLabels[d.Status], Filtered: d.Assignee != "" || d.InboxID != 0}
	if d.Query != "" {
		if d.Status != "all" {
			e.AllURL = listURL(d, "all", d.Query)
		}
		d.Empty = e
		return nil
	}
	if count {
		e.Counted = true
		f := models.ConversationFilter{Assignee: d.Assignee, InboxID: d.InboxID}
		counts, err := s.store.StatusCounts(ctx, su.Scope, f, hiddenCountCap)
		if err != nil {
			return err
		}
		shown := statusShown(d.Status)
		for _, st := range []string{models.StatusNew, models.StatusOpen, models.StatusClosed} {
			if n := counts[st]; n > 0 && !slices.Contains(shown, st) {
				e.Hidden = append(e.Hidden, views.HiddenCount{Status: st, N: n, More: n >= hiddenCountCap, URL: listURL(d, st, "")})
			}
		}
	}
	d.Empty = e
	return nil
}

// chatsEmpty renders the empty list's text alone, with counts: the
// browser asks for it when its list empties live (the last row closed).
func (s *Server) chatsEmpty(c *fiber.Ctx) error {
	su := sessionUser(c)
	d := &views.ChatsData{Status: c.Query("status", "active"), Assignee: c.Query("assignee"), Query: c.Query("q")}
	d.InboxID, _ = strconv.ParseInt(c.Query("inbox"), 10, 64)
	if _, ok := statusLabels[d.Status]; !ok || len(d.Query) > 200 {
		return fiber.ErrBadRequest
	}
	if err := s.fillEmpty(c.UserContext(), su, d, true); err != nil {
		return err
	}
	return s.fragment(c, "list-empty", d.Empty)
}

// keepOpenRow puts the open conversation's row in the list when its
// filter would leave it out (under New, opening it made it Open): the row
// of the thread on screen stays while it is open.
func keepOpenRow(d *views.ChatsData, row models.ConversationRow) {
	if d.Page == nil || d.Query != "" || slices.ContainsFunc(d.Page.Rows, func(r models.ConversationRow) bool { return r.ID == row.ID }) {
		return
	}
	at := len(d.Page.Rows)
	for i, r := range d.Page.Rows {
		if row.LastMessageAt.After(r.LastMessageAt) || (row.LastMessageAt.Equal(r.LastMessageAt) && row.ID > r.ID) {
			at = i
			break
		}
	}
	d.Page.Rows = slices.Insert(d.Page.Rows, at, row)
}
