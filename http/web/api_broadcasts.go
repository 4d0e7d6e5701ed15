package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/models"
)

// The broadcasts API (spec/api.md): list, create (Idempotency-Key; 402
// when the location's credits do not cover it), one with its counts,
// cancel, the reply dashboard (JSON or CSV), and the estimate the compose
// form shows. Every route needs PermBroadcast; another organization's ids
// are 404s. The pages call the same store methods.

// apiBroadcastCounts is a broadcast's progress, per recipient and channel.
type apiBroadcastCounts struct {
	Total            int   `json:"total"`
	Pending          int   `json:"pending"`
	Queued           int   `json:"queued"`
	Sent             int   `json:"sent"`
	Delivered        int   `json:"delivered"`
	Failed           int   `json:"failed"`
	SkippedOptedOut  int   `json:"skipped_opted_out"`
	SkippedNoAddress int   `json:"skipped_no_address"`
	Cancelled        int   `json:"cancelled"`
	Replied          int   `json:"replied"`
	OptedOutAfter    int   `json:"opted_out_after"`
	Credits          int64 `json:"credits" jsonschema:"description=credits charged for its messages so far"`
}

// apiBroadcastOut is one broadcast.
type apiBroadcastOut struct {
	ID                int64              `json:"id"`
	Name              string             `json:"name"`
	Status            string             `json:"status" jsonschema:"enum=scheduled,enum=sending,enum=sent,enum=cancelled,enum=failed"`
	StatusReason      string             `json:"status_reason,omitempty"`
	LocationID        int64              `json:"location_id"`
	LocationName      string             `json:"location_name"`
	InboxID           int64              `json:"inbox_id"`
	InboxName         string             `json:"inbox_name"`
	CreatedBy         *int64             `json:"created_by"`
	CreatedByName     string             `json:"created_by_name,omitempty"`
	Channels          []string           `json:"channels"`
	Audience          models.Audience    `json:"audience"`
	Body              string             `json:"body"`
	Subject           string             `json:"subject,omitempty"`
	ChatEnabled       bool               `json:"chat_enabled"`
	ReplyWindowHours  int                `json:"reply_window_hours"`
	RespectQuietHours bool               `json:"respect_quiet_hours"`
	Emergency         bool               `json:"emergency"`
	SendAt            string             `json:"send_at"`
	StartedAt         *string            `json:"started_at"`
	FinishedAt        *string            `json:"finished_at"`
	CreatedAt         string             `json:"created_at"`
	Counts            apiBroadcastCounts `json:"counts"`
}

// apiBroadcastReplyOut is one row of the reply dashboard.
type apiBroadcastReplyOut struct {
	RecipientID    int64   `json:"recipient_id"`
	Name           string  `json:"name"`
	Phone          *string `json:"phone"`
	Email          *string `json:"email"`
	Channel        string  `json:"channel"`
	State          string  `json:"state" jsonschema:"enum=replied,enum=opted_out,enum=failed,enum=silent,enum=pending,enum=skipped"`
	MessageStatus  string  `json:"message_status"`
	StatusReason   string  `json:"status_reason,omitempty"`
	SkipReason     string  `json:"skip_reason,omitempty"`
	ConversationID *int64  `json:"conversation_id"`
	RepliedAt      *string `json:"replied_at"`
	ReplyPreview   string  `json:"reply_preview,omitempty"`
	AssigneeName   *string `json:"assignee_name,omitempty"`
	ChatStatus     string  `json:"chat_status,omitempty"`
}

// broadcastCursor is the broadcasts list's keyset position.
type broadcastCursor struct {
	After int64 `json:"a"`
}

func broadcastOut(v *models.BroadcastView) apiBroadcastOut {
	c := v.Counts
	chs := v.Channels
	if chs == nil {
		chs = []string{}
	}
	return apiBroadcastOut{ID: v.ID, Name: v.Name, Status: v.Status, StatusReason: v.StatusReason, LocationID: v.LocationID,
		LocationName: v.LocationName, InboxID: v.InboxID, InboxName: v.InboxName, CreatedBy: v.CreatedBy,
		CreatedByName: v.CreatedByName, Channels: chs, Audience: v.Audience, Body: v.Body, Subject: v.Subject,
		ChatEnabled: v.ChatEnabled, ReplyWindowHours: v.ReplyWindowHours, RespectQuietHours: v.RespectQuietHours,
		Emergency: v.Emergency, SendAt: rfc3339(v.SendAt), StartedAt: timePtr(v.StartedAt), FinishedAt: timePtr(v.FinishedAt),
		CreatedAt: rfc3339(v.CreatedAt),
		Counts: apiBroadcastCounts{Total: c.Total, Pending: c.Pending, Queued: c.Queued, Sent: c.Sent, Delivered: c.Delivered,
			Failed: c.Failed, SkippedOptedOut: c.SkippedOptedOut, SkippedNoAddress: c.SkippedNoAddress, Cancelled: c.Cancelled,
			Replied: c.Replied, OptedOutAfter: c.OptedOutAfter, Credits: c.Credits}}
}

func (s *Server) apiBroadcastRoutes(api fiber.Router) {
	may := requirePerm(models.PermBroadcast)
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/broadcasts", Tag: "broadcasts", List: true,
		Summary: "Broadcasts, newest first, with their progress counts", Out: apiBroadcastOut{}}, may, s.apiBroadcasts)
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/broadcasts", Tag: "broadcasts", Status: http.StatusCreated,
		Idempotent: true, Summary: "Create a broadcast: sent now, or at send_at",
		Body: models.BroadcastInput{}, Out: apiBroadcastOut{}, Problems: map[int]string{
			http.StatusPaymentRequired: "Insufficient credits (type " + problemTypeBase + "insufficient-credits): the location's " +
				"credits do not cover the whole audience; balance and needed say by how much (nothing is stored)",
		}}, may, s.apiCreateBroadcast)
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/broadcasts/estimate", Tag: "broadcasts",
		Summary: "What a broadcast would do if sent now: reached, skipped, segments, credits against the balance",
		Body:    models.BroadcastInput{}, Out: models.BroadcastEstimate{}}, may, s.apiEstimateBroadcast)
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/broadcasts/:id<int>", Tag: "broadcasts",
		Summary: "One broadcast with its progress counts", Out: apiBroadcastOut{}}, may, s.apiBroadcast)
	s.apiHandle(api, apiOp{Method: fiber.MethodPost, Path: "/broadcasts/:id<int>/cancel", Tag: "broadcasts",
		Summary: "Cancel: what has not gone out does not (409 if it already finished)", Out: apiBroadcastOut{}}, may, s.apiCancelBroadcast)
	s.apiHandle(api, apiOp{Method: fiber.MethodGet, Path: "/broadcasts/:id<int>/replies", Tag: "broadcasts", List: true,
		Summary: "The reply dashboard: each recipient and channel with its state; with Accept: text/csv every row as CSV",
		Out:     apiBroadcastReplyOut{}, AlsoProduces: "text/csv", Query: []apiParam{
			{Name: "state", Description: "replied, opted_out, failed, silent, pending or skipped (default: all)"},
		}}, may, s.apiBroadcastReplies)
}

func (s *Server) apiBroadcasts(c *fiber.Ctx) error {
	var cur broadcastCursor
	limit, err := pageParams(c, &cur)
	if err != nil {
		return err
	}
	page, err := s.store.Broadcasts(c.UserContext(), sessionUser(c).Scope, cur.After, limit)
	if err != nil {
		return err
	}
	out := apiList[apiBroadcastOut]{Data: make([]apiBroadcastOut, 0, len(page.Broadcasts))}
	for i := range page.Broadcasts {
		out.Data = append(out.Data, broadcastOut(&page.Broadcasts[i]))
	}
	if page.NextAfter != 0 {
		out.NextCursor = makeCursor(broadcastCursor{After: page.NextAfter})
	}
	return c.JSON(out)
}

func (s *Server) apiBroadcast(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, err := s.store.BroadcastByID(c.UserContext(), sessionUser(c).Scope, id)
	if err != nil {
		return err
	}
	return c.JSON(broadcastOut(v))
}

func (s *Server) apiCreateBroadcast(c *fiber.Ctx) error {
	su := sessionUser(c)
	var in models.BroadcastInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	return s.apiIdempotent(c, http.StatusCreated, func(ctx context.Context) (any, func(), error) {
		v, err := s.store.CreateBroadcast(ctx, su.Scope, in)
		var ic *models.InsufficientCreditsError
		if errors.As(err, &ic) {
			return nil, nil, insufficientCredits(ic)
		}
		if err != nil {
			return nil, nil, err
		}
		return broadcastOut(v), func() { s.kickOutbox() }, nil
	})
}

// kickOutbox wakes the outbox relay, so a broadcast due now starts at once.
func (s *Server) kickOutbox() {
	if s.outbox != nil {
		s.outbox.Kick()
	}
}

func (s *Server) apiEstimateBroadcast(c *fiber.Ctx) error {
	var in models.BroadcastInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	e, err := s.store.EstimateBroadcast(c.UserContext(), sessionUser(c).Scope, in)
	if err != nil {
		return err
	}
	return c.JSON(e)
}

func (s *Server) apiCancelBroadcast(c *fiber.Ctx) error {
	su := sessionUser(c)
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	v, changes, err := s.store.CancelBroadcast(c.UserContext(), su.Scope, id)
	if err != nil {
		return err
	}
	s.publishAll(changes)
	s.pub.BroadcastProgress(su.Scope.OrgID, v.ID)
	return c.JSON(broadcastOut(v))
}

func (s *Server) apiBroadcastReplies(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	state := c.Query("state")
	if !replyStates[state] {
		return validation("state", "Use replied, opted_out, failed, silent, pending or skipped.")
	}
	if wantsCSV(c) {
		return s.sendRepliesCSV(c, id, state)
	}
	var cur broadcastCursor
	limit, err := pageParams(c, &cur)
	if err != nil {
		return err
	}
	page, err := s.store.BroadcastReplies(c.UserContext(), sessionUser(c).Scope, id,
		models.BroadcastReplyFilter{State: state, After: cur.After, Limit: limit})
	if err != nil {
		return err
	}
	out := apiList[apiBroadcastReplyOut]{Data: make([]apiBroadcastReplyOut, 0, len(page.Rows))}
	for _, r := range page.Rows {
		out.Data = append(out.Data, apiBroadcastReplyOut{RecipientID: r.RecipientID, Name: r.Name, Phone: r.Phone, Email: r.Email,
			Channel: r.Channel, State: r.State, MessageStatus: r.MessageStatus, StatusReason: r.StatusReason, SkipReason: r.SkipReason,
			ConversationID: r.ConversationID, RepliedAt: timePtr(r.RepliedAt), ReplyPreview: r.ReplyPreview,
			AssigneeName: r.AssigneeName, ChatStatus: r.ChatStatus})
	}
	if page.NextAfter != 0 {
		out.NextCursor = makeCursor(broadcastCursor{After: page.NextAfter})
	}
	return c.JSON(out)
}
