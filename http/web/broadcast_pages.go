package web

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// The broadcasts list and one broadcast's page: its header, live
// progress (publish_broadcast.go) and reply dashboard
// (broadcast_dashboard.go).

// broadcastRoutes registers the broadcast pages (PermBroadcast; others get
// a 404).
func (s *Server) broadcastRoutes(app fiber.Router) {
	may := requirePerm(models.PermBroadcast)
	app.Get("/broadcasts", s.requireUser, may, s.broadcasts)
	app.Get("/broadcasts/new", s.requireUser, may, s.newBroadcast)
	app.Post("/broadcasts", s.requireUser, may, s.createBroadcast)
	app.Post("/broadcasts/estimate", s.requireUser, may, s.broadcastEstimate)
	app.Get("/broadcasts/:id<int>", s.requireUser, may, s.broadcastPage)
	app.Get("/broadcasts/:id<int>/progress", s.requireUser, may, s.broadcastProgressFragment)
	app.Post("/broadcasts/:id<int>/cancel", s.requireUser, may, s.cancelBroadcast)
	app.Get("/broadcasts/:id<int>/replies", s.requireUser, may, s.broadcastRepliesFragment)
	app.Get("/broadcasts/:id<int>/replies.csv", s.requireUser, may, s.broadcastRepliesCSV)
	app.Post("/broadcasts/:id<int>/assign", s.requireUser, may, s.assignBroadcastChats)
	app.Post("/broadcasts/:id<int>/close", s.requireUser, may, s.closeBroadcastChats)
}

// broadcasts lists the organization's broadcasts, newest first.
func (s *Server) broadcasts(c *fiber.Ctx) error {
	su := sessionUser(c)
	after, _ := strconv.ParseInt(c.Query("after"), 10, 64)
	page, err := s.store.Broadcasts(c.UserContext(), su.Scope, after, 50)
	if err != nil {
		return err
	}
	name, err := s.audienceNamer(c.UserContext(), su.Scope)
	if err != nil {
		return err
	}
	d := views.BroadcastsData{Rows: views.NewBroadcastRows(page, name), NextAfter: page.NextAfter, Continued: after > 0}
	return s.render(c, "broadcasts", views.Layout{Title: "Broadcasts", Active: "broadcasts"}, d)
}

// audienceNamer describes audiences in words, with the organization's
// group and location names.
func (s *Server) audienceNamer(ctx context.Context, sc models.Scope) (func(models.Audience) string, error) {
	groups, err := s.store.GroupChoices(ctx, sc) // names only: no member counts
	if err != nil {
		return nil, err
	}
	locs, err := s.store.Locations(ctx, sc)
	if err != nil {
		return nil, err
	}
	gname := make(map[int64]string, len(groups))
	for _, g := range groups {
		gname[g.ID] = g.Name
	}
	lname := make(map[int64]string, len(locs))
	for _, l := range locs {
		lname[l.ID] = l.Name
	}
	return func(a models.Audience) string {
		switch {
		case a.LocationID != 0:
			if n, ok := lname[a.LocationID]; ok {
				return "Everyone at " + n
			}
			return "Everyone at a location"
		case a.Query != "":
			return fmt.Sprintf("Recipients matching %q", a.Query)
		}
		names := make([]string, 0, len(a.GroupIDs))
		for _, id := range a.GroupIDs {
			if n, ok := gname[id]; ok {
				names = append(names, n)
			} else {
				names = append(names, "(deleted group)")
			}
		}
		if len(names) == 1 {
			return "Group " + names[0]
		}
		return "Groups " + strings.Join(names, ", ")
	}, nil
}

// broadcastPage shows one broadcast: header, progress, reply dashboard.
func (s *Server) broadcastPage(c *fiber.Ctx) error {
	d, err := s.broadcastPageData(c)
	if err != nil {
		return err
	}
	return s.render(c, "broadcast", views.Layout{Title: d.B.Name, Active: "broadcasts"}, d)
}

// broadcastPageData loads what a broadcast's page shows.
func (s *Server) broadcastPageData(c *fiber.Ctx) (*views.BroadcastPageData, error) {
	su := sessionUser(c)
	ctx := c.UserContext()
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	b, err := s.store.BroadcastByID(ctx, su.Scope, id)
	if err != nil {
		return nil, err
	}
	name, err := s.audienceNamer(ctx, su.Scope)
	if err != nil {
		return nil, err
	}
	replies, err := s.replyTable(c, b, c.Query("state", defaultReplyState(b)))
	if err != nil {
		return nil, err
	}
	d := &views.BroadcastPageData{B: *b, Audience: name(b.Audience), Progress: views.NewBroadcastProgress(b),
		Replies: *replies, Notice: broadcastNotices[c.Query("notice")]}
	d.CanCancel = d.Progress.Cancellable
	return d, nil
}

// defaultReplyState is the dashboard tab a broadcast opens on: who
// replied, for a chat-enabled one; everyone otherwise.
func defaultReplyState(b *models.BroadcastView) string {
	if b.ChatEnabled {
		return models.ReplyStateReplied
	}
	return ""
}

// broadcastProgressFragment is the progress card alone (a page that lost
// its socket asks for it when it comes back).
func (s *Server) broadcastProgressFragment(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	b, err := s.store.BroadcastByID(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.views.Fragment(c, "broadcast", "broadcast-progress", views.NewBroadcastProgress(b))
}

// cancelBroadcast stops what has not gone out, after the page's confirm.
func (s *Server) cancelBroadcast(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, changes, err := s.store.CancelBroadcast(c.UserContext(), su.Scope, id)
	notice := "cancelled"
	switch {
	case errors.Is(err, models.ErrConflict):
		notice = "finished"
	case err != nil:
		return err
	default:
		s.publishAll(changes)
		s.pub.BroadcastProgress(su.Scope.OrgID, v.ID)
	}
	return c.Redirect("/broadcasts/"+strconv.FormatInt(id, 10)+"?notice="+notice, fiber.StatusSeeOther)
}

// broadcastNotices are what the page says after an action (by a code in
// the URL, so a link cannot put words on the page).
var broadcastNotices = map[string]string{
	"cancelled": "Broadcast cancelled: nothing more goes out.",
	"finished":  "The broadcast had already finished; nothing was cancelled.",
	"assigned":  "The chats were assigned.",
	"closed":    "The chats were closed.",
	"partial":   "Some chats could not be changed: you or the assignee cannot see their inbox.",
}
