package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// assigneeEntry is an inbox's assignable users as loaded at some time.
type assigneeEntry struct {
	users []models.User
	at    time.Time
}

// assigneesTTL is how long a thread header's assignee list is reused
// across changes of the same inbox. Pages always load it fresh.
const assigneesTTL = 2 * time.Second

// assigneesOf returns an inbox's assignable users, reusing a recent load.
func (p *Publisher) assigneesOf(ctx context.Context, orgID, inboxID int64) ([]models.User, error) {
	p.mu.Lock()
	e, ok := p.assignees[inboxID]
	p.mu.Unlock()
	if ok && time.Since(e.at) < assigneesTTL {
		return e.users, nil
	}
	users, err := p.store.Assignees(ctx, models.Scope{OrgID: orgID}, inboxID)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.assignees == nil {
		p.assignees = map[int64]assigneeEntry{}
	}
	p.assignees[inboxID] = assigneeEntry{users: users, at: time.Now()}
	p.mu.Unlock()
	return users, nil
}

// changeFrames are a change rendered once for every viewer.
type changeFrames struct {
	row    []byte // for the inbox feed: the conversation's list row
	thread []byte // for the thread: its header and new timeline items
}

// frames renders all of a change's frames, as the acting browser's own
// response shows them (synchronously, whatever was published since).
func (p *Publisher) frames(ch *models.Change) changeFrames { return p.render(ch, true, ch.Events) }

// render writes a change's websocket frames (out-of-band swaps by id): the
// list row and thread header when state is set, then a timeline item or a
// status tick for each of events.
func (p *Publisher) render(ch *models.Change, state bool, events []models.Event) changeFrames {
	var row, thread bytes.Buffer
	conv := ch.Conversation
	if state {
		// The broadcast's name and the assignees are read within the
		// publish timeout: this runs on the conversation's publish queue.
		actx, cancel := context.WithTimeout(context.Background(), publishTimeout)
		rows := []views.ConvRow{views.NewConvRow(&conv, time.Now())}
		p.nameBroadcasts(actx, conv.OrgID, rows)
		if err := p.views.Fragment(&row, "chats", "frame-row", views.RowFrame{Row: rows[0], Seq: ch.LastSeq()}); err != nil {
			p.log.Error("render row frame", "conversation", conv.ID, "err", err)
		}
		assignees, err := p.assigneesOf(actx, conv.OrgID, conv.InboxID)
		cancel()
		if err != nil {
			p.log.Error("load assignees for frame", "conversation", conv.ID, "err", err)
		}
		if err := p.views.Fragment(&thread, "chats", "frame-head", views.ThreadData{Conv: conv, Assignees: assignees, Broadcast: rows[0].Broadcast}); err != nil {
			p.log.Error("render head frame", "conversation", conv.ID, "err", err)
		}
	}
	if err := writeItems(p.views, &thread, conv, events); err != nil {
		p.log.Error("render item frames", "conversation", conv.ID, "err", err)
	}
	return changeFrames{row: row.Bytes(), thread: thread.Bytes()}
}

// writeItems renders events as a thread's live frames: a timeline item
// for each shown event, new ticks for a status, nothing for a read mark.
// It is the one way an event reaches a browser after the page: the
// publisher, an action's own response and the catch-ups all use it, so the
// acting browser's copy and the socket's are the same bytes (the browser
// keeps the first by its id, ev-N).
func writeItems(r *views.Renderer, w io.Writer, conv models.ConversationRow, events []models.Event) error {
	for _, ev := range events {
		var err error
		switch {
		case ev.Kind == models.EvMessageStatus && ev.Message != nil:
			err = r.Fragment(w, "chats", "frame-status", ev.Message)
		case ev.Hidden():
		default:
			err = r.Fragment(w, "chats", "frame-item", views.ItemFrame{Conv: conv, Item: ev, Seq: ev.ID})
		}
		if err != nil {
			return fmt.Errorf("render event %d: %w", ev.ID, err)
		}
	}
	return nil
}
