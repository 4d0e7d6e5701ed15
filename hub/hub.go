// Package hub fans live events out to agents' sockets.
//
// It owns the topics (one conversation, one location's conversation list), the
// goroutine ("room") that serves each live topic and is the only code touching
// its subscriber set, each socket's bounded queue of outgoing frames, presence
// (who is viewing a topic), and the relay that carries events to the other
// nodes through a Broker (Redis pub/sub when there are several).
//
// It carries plain bytes: a frame is rendered once per event by the caller and
// shared, unmodified, by every subscriber. It must not know about HTML, HTTP,
// websockets or the database, must never block on a socket (a subscriber that
// cannot keep up is dropped with ErrTooSlow), and is not a record: delivery is
// best-effort, and a reconnecting browser catches up from the database by
// Event.Seq.
package hub

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
)

// Errors a subscriber ends with, and that hub calls return.
var (
	// ErrTooSlow ends a subscriber whose queue filled up: its socket stopped
	// reading, or reads slower than events arrive. Close its socket with a
	// "too slow" reason; the browser reconnects and catches up.
	ErrTooSlow = errors.New("hub: subscriber too slow")
	// ErrShutdown ends every subscriber when the hub shuts down, and is
	// returned by calls made after that. Close sockets with "going away".
	ErrShutdown = errors.New("hub: shut down")
	// ErrClosed ends a subscriber closed by its owner (Subscriber.Close).
	ErrClosed = errors.New("hub: subscriber closed")
)

// Event is one thing that happened on a topic.
type Event struct {
	// Topic names what the event is about, e.g. "conv:42" or "loc:7".
	Topic string
	// Seq is the caller's id for the event (the database's event id); the
	// browser sends back the last one it saw to catch up after a reconnect.
	// The hub carries it to the other nodes but does not interpret it.
	Seq int64
	// Frame is what every subscriber of Topic receives. It is shared, not
	// copied: do not modify it after Publish.
	Frame []byte
}

// Hub routes events to the subscribers of their topic, on this node and,
// through the broker, on every other node. Its methods are safe for
// concurrent use.
type Hub struct {
	cfg Config
	log *slog.Logger

	mu     sync.RWMutex // guards rooms and closed; held only to look up, create or delete
	rooms  map[string]*room
	closed bool

	subsMu sync.Mutex // guards subs: every live subscriber, to end them on shutdown
	subs   map[*Subscriber]struct{}

	done       chan struct{}   // closed when shutdown starts
	ctx        context.Context // cancelled when shutdown starts
	cancel     context.CancelFunc
	wg         sync.WaitGroup // every goroutine the hub started
	shutdownMu sync.Once

	presence atomic.Pointer[presence] // nil until a presence handler is set
	relay    *relay                   // nil when Config.Broker is nil
	stats    counters
}

// New returns a running hub. It starts the broker subscription (if
// cfg.Broker is set) and the presence notifier (if cfg.OnPresence is set;
// HandlePresence sets it later); rooms start on demand. Stop it with Shutdown.
func New(cfg Config) *Hub {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{
		cfg:    cfg,
		log:    cfg.Logger,
		rooms:  make(map[string]*room),
		subs:   make(map[*Subscriber]struct{}),
		done:   make(chan struct{}),
		ctx:    ctx,
		cancel: cancel,
	}
	if cfg.OnPresence != nil {
		h.HandlePresence(cfg.OnPresence)
	}
	if cfg.Broker != nil {
		h.relay = newRelay(h, cfg.Broker, newNodeID())
		h.wg.Add(2)
		go func() { defer h.wg.Done(); h.relay.sendLoop() }()
		go func() { defer h.wg.Done(); h.relay.receiveLoop() }()
	}
	return h
}

// Shutdown stops every room, the presence notifier and the broker
// subscription, and ends every subscriber with ErrShutdown. Events already
// queued for the broker get up to Config.BrokerTimeout to go out. It waits for
// the hub's goroutines until ctx is done. It is safe to call more than once.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.shutdownMu.Do(func() {
		h.mu.Lock()
		h.closed = true
		clear(h.rooms)
		h.mu.Unlock()
		close(h.done)
		h.cancel()

		h.subsMu.Lock()
		subs := make([]*Subscriber, 0, len(h.subs))
		for s := range h.subs {
			subs = append(subs, s)
		}
		h.subsMu.Unlock()
		for _, s := range subs {
			s.end(ErrShutdown)
		}
	})

	waited := make(chan struct{})
	go func() { h.wg.Wait(); close(waited) }()
	select {
	case <-waited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("hub: shutdown: %w", ctx.Err())
	}
}

// Close is Shutdown without a deadline.
func (h *Hub) Close() error { return h.Shutdown(context.Background()) }

// spawn runs f in a goroutine the hub waits for on shutdown, unless shutdown
// has started (then f is not run: there is nothing left for it to clean).
func (h *Hub) spawn(f func()) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return
	}
	h.wg.Add(1)
	go func() { defer h.wg.Done(); f() }()
}

// newNodeID returns a random id that tells this node's broker messages from
// other nodes'.
func newNodeID() uint64 {
	var b [8]byte
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		panic(fmt.Sprintf("hub: node id: %v", err)) // crypto/rand does not fail on supported platforms
	}
	return binary.BigEndian.Uint64(b[:])
}
