package web

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
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

// publishTimeout bounds how long one frame waits on a full hub mailbox;
// the change is committed either way, and browsers catch up from the database.
const publishTimeout = time.Second

// Publisher is the one way a committed change reaches agents' screens: the
// web server's actions, the provider webhooks and the job worker all hand
// it their changes (Notify), and it renders each once and publishes it to
// the hub, which carries it to every node.
//
// Notify never blocks. A change that finds the queue full is dropped from
// the live path (counted, and logged at most once a second); the change is
// committed, and screens catch up from the database when they reconnect.
//
// # Order
//
// What it promises, per conversation, for the changes handed to this
// process's publisher (each node runs one; see below for several):
//
//   - Frames go out one change at a time, in the order the changes were
//     handed over: one goroutine (a shard) publishes every change of a
//     conversation.
//   - A screen never goes back to an older state of the conversation. A
//     change handed over late (two changes committed by different
//     goroutines can reach Notify in the other order) is recognised by its
//     events' ids: the publisher remembers, per conversation, the newest
//     event whose list row and thread header it published, and a change
//     whose events are all older publishes no row and no header. This is
//     sound because every change that alters a conversation (a message, an
//     assignment, a close, an inbound text, an opt-out) locks the
//     conversation's row before it writes its events: their ids follow
//     commit order, and the row a newer change carries includes the older
//     one's effect. (models must keep doing so.)
//   - A change of message statuses only (sent, delivered, failed) does not
//     lock the conversation and alters nothing the row or the header show,
//     so it publishes neither; only the ticks. A status older than one
//     already published for the same message (by event id; a message's
//     status events follow commit order, its row being locked) is skipped,
//     and a message item handed over after a newer status of its message
//     shows that status, so a tick never goes back.
//   - Timeline items always go out, late or not; the browser places each
//     one by its event id (data-seq, static/js/app.js), so a thread reads
//     in event order.
//
// The acting browser is outside this order: its own response is rendered
// from its change at once (it must see its result without waiting), and a
// newer change that reached its socket first can be overwritten by that
// response until the next frame of the conversation.
//
// This bookkeeping lives in this process and forgets a conversation after
// orderMemory without changes: a change handed over later than that after a
// newer one could still show an older row. With several nodes, each node's
// publisher orders what that node commits and pub/sub keeps one node's
// order, but a change committed on one node and an older one committed on
// another can reach a screen in either order.
type Publisher struct {
	views  *views.Renderer
	hub    *hub.Hub
	store  *models.Store
	log    *slog.Logger
	shards []*shard

	dropped   atomic.Uint64
	droppedAt atomic.Int64 // unix nanoseconds of the last drop logged
	// stale holds the inboxes whose screens missed a dropped change; Run
	// tells them to resync (staleKick wakes it).
	staleMu   sync.Mutex
	stale     map[int64]bool
	staleKick chan struct{}

	mu        sync.Mutex
	assignees map[int64]assigneeEntry // by inbox, for thread headers

	bcFrames broadcastFrames // publish_broadcast.go
	bcNames  broadcastNames  // broadcast_names.go
}

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	Store  *models.Store
	Hub    *hub.Hub
	Logger *slog.Logger
	// Queue bounds the changes waiting to be published, over all shards
	// (DefaultPublishQueue).
	Queue int
}

// DefaultPublishQueue bounds the changes waiting to be rendered. A burst
// beyond it is dropped from the live path (browsers catch up from the
// database) rather than making a webhook or an action wait.
const DefaultPublishQueue = 4096

// publishShards is how many changes are rendered and published at once:
// rendering waits on the database and Redis, so a few overlap well.
const publishShards = 4

// NewPublisher builds the publisher; Run publishes what Notify queues.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	if cfg.Hub == nil || cfg.Store == nil {
		return nil, errors.New("web: publisher: a hub and a store are required")
	}
	if cfg.Queue <= 0 {
		cfg.Queue = DefaultPublishQueue
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// Frames carry no asset URLs, so the renderer needs no versions.
	r, err := views.New(func(p string) string { return "/static/" + p })
	if err != nil {
		return nil, err
	}
	p := &Publisher{views: r, hub: cfg.Hub, store: cfg.Store, log: cfg.Logger.With("component", "publisher"),
		stale: map[int64]bool{}, staleKick: make(chan struct{}, 1)}
	per := max(cfg.Queue/publishShards, 1)
	for range publishShards {
		p.shards = append(p.shards, &shard{p: p, queue: make(chan *models.Change, per)})
	}
	return p, nil
}

// Notify queues a committed change for every screen that shows it. It
// never blocks (webhook.Notifier, jobs.Notifier, and the web server's
// actions all call it before or just after answering).
func (p *Publisher) Notify(ch *models.Change) {
	if ch == nil {
		return
	}
	p.notifyBroadcast(ch)
	if len(ch.Events) == 0 {
		return
	}
	id := ch.Events[0].ConversationID
	select {
	case p.shards[uint64(id)%uint64(len(p.shards))].queue <- ch:
	default:
		p.drop(id, ch.Conversation.InboxID)
	}
}

// drop counts a change the queue had no room for and marks its inbox's
// screens stale (Run tells them to resync: a later frame moves their
// sequence past the dropped events, so a reconnect would not bring them
// back). The log says so at most once a second, so a burst does not also
// flood the log.
func (p *Publisher) drop(convID, inboxID int64) {
	p.staleMu.Lock()
	p.stale[inboxID] = true
	p.staleMu.Unlock()
	select {
	case p.staleKick <- struct{}{}:
	default:
	}
	n := p.dropped.Add(1)
	now, last := time.Now().UnixNano(), p.droppedAt.Load()
	if now-last >= int64(time.Second) && p.droppedAt.CompareAndSwap(last, now) {
		p.log.Warn("live updates dropped: publisher queue full; screens catch up on reconnect",
			"conversation", convID, "dropped_total", n)
	}
}

// Dropped is how many changes Notify has dropped for a full queue.
func (p *Publisher) Dropped() uint64 { return p.dropped.Load() }

// Run publishes queued changes until ctx ends, then what is still queued.
// Stop it after the parts that call Notify, so their last changes go out.
func (p *Publisher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { p.resyncStale(ctx) })
	for _, sh := range p.shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sh.run(ctx)
		}()
	}
	wg.Wait()
	return nil
}

// send publishes one frame, logging (not returning) a failure: the change
// is committed, and screens catch up from the database.
func (p *Publisher) send(topic string, seq int64, frame []byte) {
	if len(frame) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	if err := p.hub.Publish(ctx, hub.Event{Topic: topic, Seq: seq, Frame: frame}); err != nil {
		p.log.Warn("publish", "topic", topic, "err", err)
	}
}

// resyncEvery spaces the resync frames one inbox gets during an overload:
// each makes its screens reload, which is itself work for the server.
const resyncEvery = 5 * time.Second

// resyncFrame makes a screen reload (static/js/app.js), as catch-up does
// when too much was missed.
var resyncFrame = []byte(`<div id="resync" hx-swap-oob="true"></div>`)

// resyncStale tells the screens of inboxes that missed a dropped change
// to reload, at most once per resyncEvery, until ctx ends.
func (p *Publisher) resyncStale(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.staleKick:
		}
		p.staleMu.Lock()
		inboxes := p.stale
		p.stale = map[int64]bool{}
		p.staleMu.Unlock()
		for id := range inboxes {
			pctx, cancel := context.WithTimeout(ctx, time.Second)
			if err := p.hub.Publish(pctx, hub.Event{Topic: inboxTopic(id), Frame: resyncFrame}); err != nil {
				p.log.Warn("resync after dropped updates", "inbox", id, "err", err)
			}
			cancel()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(resyncEvery):
		}
	}
}
