package web

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"sync"
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
	// shards hold changes for Run, each conversation always on the same
	// shard so its frames go out in order; nil for a synchronous publisher.
	shards []chan *models.Change

	mu        sync.Mutex
	assignees map[int64]assigneeEntry // by inbox, for thread headers
}

// assigneeEntry is an inbox's assignable users as loaded at some time.
type assigneeEntry struct {
	users []models.User
	at    time.Time
}

// notifyQueue bounds the changes waiting to be rendered, over all shards.
// A burst beyond it is dropped from the live path (browsers catch up from
// the database).
const notifyQueue = 4096

// publishShards is how many changes are rendered and published at once:
// rendering waits on the database and Redis, so a few overlap well.
const publishShards = 4

// assigneesTTL is how long a thread header's assignee list is reused
// across changes of the same inbox. Pages always load it fresh.
const assigneesTTL = 2 * time.Second

// NewPublisher builds an asynchronous publisher with its own renderer, for
// webhooks and workers: Notify returns at once and Run publishes, in order
// per conversation.
func NewPublisher(store *models.Store, h *hub.Hub, log *slog.Logger) (*Publisher, error) {
	r, err := views.New(func(p string) string { return "/static/" + p })
	if err != nil {
		return nil, err
	}
	p := &Publisher{views: r, hub: h, store: store, log: log}
	for range publishShards {
		p.shards = append(p.shards, make(chan *models.Change, notifyQueue/publishShards))
	}
	return p, nil
}

// Notify implements jobs.Notifier and webhook.Notifier: it never blocks.
func (p *Publisher) Notify(ch *models.Change) {
	if p.shards == nil {
		p.publish(ch)
		return
	}
	select {
	case p.shards[ch.Conversation.ID%int64(len(p.shards))] <- ch:
	default:
		p.log.Warn("live update dropped: publisher queue full; screens catch up on reconnect", "conversation", ch.Conversation.ID)
	}
}

// Run publishes queued changes until ctx ends, then drains what is left.
func (p *Publisher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, q := range p.shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.drain(ctx, q)
		}()
	}
	wg.Wait()
	return nil
}

// drain publishes one shard's changes until ctx ends, then what is left.
func (p *Publisher) drain(ctx context.Context, q chan *models.Change) {
	for {
		select {
		case ch := <-q:
			p.publish(ch)
		case <-ctx.Done():
			for {
				select {
				case ch := <-q:
					p.publish(ch)
				default:
					return
				}
			}
		}
	}
}

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
	assignees, err := s.assigneesOf(actx, conv.OrgID, conv.InboxID)
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
