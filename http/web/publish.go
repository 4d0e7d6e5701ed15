package web

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/parley-chat/parley/hub"
	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// Topics: an inbox's conversation list, and one conversation's thread.
// Feeds are per inbox (not per location) so a socket only ever joins
// feeds its user may see.
func inboxTopic(id int64) string { return "inbox:" + strconv.FormatInt(id, 10) }
func convTopic(id int64) string  { return "conv:" + strconv.FormatInt(id, 10) }

// publishTimeout bounds how long an action waits on a full hub mailbox;
// the change is committed either way, and browsers catch up from the database.
const publishTimeout = time.Second

// Publisher renders committed changes once and publishes them to every
// screen that shows them, on every node. The web server uses it after each
// action; workers use it (as jobs.Notifier) after sends and receipts.
type Publisher struct {
	views *views.Renderer
	hub   *hub.Hub
	store *models.Store
	log   *slog.Logger
	// queue holds changes for Run, in order; nil for a synchronous publisher.
	queue chan *models.Change
}

// notifyQueue bounds the changes waiting to be rendered. A burst beyond it
// is dropped from the live path (browsers catch up from the database).
const notifyQueue = 4096

// NewPublisher builds an asynchronous publisher with its own renderer, for
// webhooks and workers: Notify returns at once and Run publishes in order.
func NewPublisher(store *models.Store, h *hub.Hub, log *slog.Logger) (*Publisher, error) {
	r, err := views.New(func(p string) string { return "/static/" + p })
	if err != nil {
		return nil, err
	}
	return &Publisher{views: r, hub: h, store: store, log: log, queue: make(chan *models.Change, notifyQueue)}, nil
}

// Notify implements jobs.Notifier and webhook.Notifier: it never blocks.
func (p *Publisher) Notify(ch *models.Change) {
	if p.queue == nil {
		p.publish(ch)
		return
	}
	select {
	case p.queue <- ch:
	default:
		p.log.Warn("live update dropped: publisher queue full; screens catch up on reconnect", "conversation", ch.Conversation.ID)
	}
}

// Run publishes queued changes until ctx ends, then drains what is left.
func (p *Publisher) Run(ctx context.Context) error {
	for {
		select {
		case ch := <-p.queue:
			p.publish(ch)
		case <-ctx.Done():
			for {
				select {
				case ch := <-p.queue:
					p.publish(ch)
				default:
					return nil
				}
			}
		}
	}
}

// changeFrames are a change rendered once for every viewer.
type changeFrames struct {
	row    []byte // for the inbox feed: the conversation's list row
	thread []byte // for the thread: its header and new timeline items
}

// frames renders a change's websocket frames (out-of-band swaps by id).
func (s *Publisher) frames(ch *models.Change) changeFrames {
	var row, thread bytes.Buffer
	conv := ch.Conversation
	seq := ch.LastSeq()
	if err := s.views.Fragment(&row, "chats", "frame-row", views.RowFrame{Row: conv, Seq: seq}); err != nil {
		s.log.Error("render row frame", "conversation", conv.ID, "err", err)
	}
	actx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	assignees, err := s.store.Assignees(actx, models.Scope{OrgID: conv.OrgID}, conv.InboxID)
	if err != nil {
		s.log.Error("load assignees for frame", "conversation", conv.ID, "err", err)
	}
	if err := s.views.Fragment(&thread, "chats", "frame-head", views.ThreadData{Conv: conv, Assignees: assignees}); err != nil {
		s.log.Error("render head frame", "conversation", conv.ID, "err", err)
	}
	for _, ev := range ch.Events {
		var err error
		if ev.Kind == models.EvMessageStatus && ev.Message != nil {
			err = s.views.Fragment(&thread, "chats", "frame-status", ev.Message)
		} else {
			err = s.views.Fragment(&thread, "chats", "frame-item", views.ItemFrame{Conv: conv, Item: ev, Seq: ev.ID})
		}
		if err != nil {
			s.log.Error("render item frame", "conversation", conv.ID, "event", ev.ID, "err", err)
		}
	}
	return changeFrames{row: row.Bytes(), thread: thread.Bytes()}
}

// publish sends a committed change to every screen that shows it, on
// every node. Nothing is published for a change with no events.
func (s *Publisher) publish(ch *models.Change) {
	if s.hub == nil || len(ch.Events) == 0 {
		return
	}
	f := s.frames(ch)
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	seq := ch.LastSeq()
	if err := s.hub.Publish(ctx, hub.Event{Topic: inboxTopic(ch.Conversation.InboxID), Seq: seq, Frame: f.row}); err != nil {
		s.log.Warn("publish row", "conversation", ch.Conversation.ID, "err", err)
	}
	if err := s.hub.Publish(ctx, hub.Event{Topic: convTopic(ch.Conversation.ID), Seq: seq, Frame: f.thread}); err != nil {
		s.log.Warn("publish thread", "conversation", ch.Conversation.ID, "err", err)
	}
}
