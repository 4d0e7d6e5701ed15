package web

import (
	"bytes"
	"context"
	"time"

	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// catchUpFrame renders what a browser missed after seq: the current list
// row of every conversation that changed, and the new timeline items of
// the thread it views. Too much missed means reload (#resync).
func (s *Server) catchUpFrame(ctx context.Context, sc models.Scope, seq, viewing int64) ([]byte, error) {
	evs, err := s.store.EventsSince(ctx, sc, seq, catchUpLimit)
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	var buf bytes.Buffer
	if len(evs) == catchUpLimit {
		buf.Write(resyncFrame)
		return buf.Bytes(), nil
	}
	// Rows oldest change first: each is inserted at the top, so the
	// newest ends up first.
	last := map[int64]int64{}
	var order []int64
	for _, e := range evs {
		if _, ok := last[e.ConversationID]; !ok {
			order = append(order, e.ConversationID)
		}
		last[e.ConversationID] = e.ID
	}
	var viewed *models.ConversationRow
	for _, id := range order {
		row, err := s.store.ConversationByID(ctx, sc, id)
		if err != nil {
			continue
		}
		if id == viewing {
			viewed = row
		}
		rows := []views.ConvRow{views.NewConvRow(row, time.Now())}
		s.pub.nameBroadcasts(ctx, sc.OrgID, rows)
		if err := s.views.Fragment(&buf, "chats", "frame-row", views.RowFrame{Row: rows[0], Seq: last[id]}); err != nil {
			return nil, err
		}
	}
	if viewed != nil {
		var items []models.Event
		for _, e := range evs {
			if e.ConversationID == viewing {
				items = append(items, e)
			}
		}
		if err := writeItems(s.views, &buf, *viewed, items); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// threadCatchUp renders a thread's timeline items after seq.
func (s *Server) threadCatchUp(ctx context.Context, sc models.Scope, convID, seq int64) ([]byte, error) {
	conv, err := s.store.ConversationByID(ctx, sc, convID)
	if err != nil {
		return nil, err
	}
	items, err := s.store.Timeline(ctx, sc, convID, seq)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writeItems(s.views, &buf, *conv, items); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// publishTyping tells a thread's other viewers that this user is typing.
func (s *Server) publishTyping(ctx context.Context, su *models.SessionUser, convID int64) {
	var buf bytes.Buffer
	f := views.TypingFrame{ConvID: convID, UserID: su.User.ID, Name: su.User.Name, At: time.Now().UnixMilli()}
	if err := s.views.Fragment(&buf, "chats", "frame-typing", f); err != nil {
		s.log.Error("render typing frame", "err", err)
		return
	}
	pctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	s.hub.Publish(pctx, hub.Event{Topic: convTopic(convID), Frame: buf.Bytes()})
}
