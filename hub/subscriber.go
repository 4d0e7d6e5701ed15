package hub

import (
	"context"
	"sync"
	"sync/atomic"
)

// Subscriber is one agent socket's view of the hub: the topics it joined and
// the frames waiting to be written to it. Rooms queue frames without waiting;
// the socket's writer takes them with Next.
type Subscriber struct {
	hub      *Hub
	member   Member
	maxFrame int
	maxBytes int

	mu     sync.Mutex // guards queue, queued, err
	queue  [][]byte
	queued int // bytes in queue
	err    error

	dead   atomic.Bool   // err is set
	notify chan struct{} // one token: "queue became non-empty"
	done   chan struct{} // closed when the subscriber ends

	topicsMu sync.Mutex // guards topics; held across a join or leave, so they happen in call order
	topics   []string
}

// NewSubscriber returns a subscriber for member's socket that queues at
// most bufferSize frames (Config.SubscriberBuffer if <= 0) and
// Config.SubscriberMaxBytes bytes. After Shutdown it returns a subscriber
// that has already ended with ErrShutdown.
func (h *Hub) NewSubscriber(member Member, bufferSize int) *Subscriber {
	if bufferSize <= 0 {
		bufferSize = h.cfg.SubscriberBuffer
	}
	s := &Subscriber{
		hub:      h,
		member:   member,
		maxFrame: bufferSize,
		maxBytes: h.cfg.SubscriberMaxBytes,
		notify:   make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	h.subsMu.Lock()
	select {
	case <-h.done:
		h.subsMu.Unlock()
		s.err = ErrShutdown
		s.dead.Store(true)
		close(s.done)
		return s
	default:
	}
	h.subs[s] = struct{}{}
	h.subsMu.Unlock()
	h.stats.subscribers.Add(1)
	return s
}

// Member returns who the subscriber belongs to.
func (s *Subscriber) Member() Member { return s.member }

// Next waits until at least one frame is queued and returns every queued
// frame, concatenated in order, so the socket writes them in one message.
// The result is shared with other subscribers when it is a single frame:
// do not modify it. Next returns the subscriber's error (ErrTooSlow,
// ErrShutdown, ErrClosed) once it has ended, discarding what was queued, or
// ctx's error. Call it from one goroutine.
func (s *Subscriber) Next(ctx context.Context) ([]byte, error) {
	for {
		s.mu.Lock()
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			return nil, err
		}
		if len(s.queue) > 0 {
			out := s.take()
			s.mu.Unlock()
			return out, nil
		}
		s.mu.Unlock()
		select {
		case <-s.notify:
		case <-s.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// take empties the queue into one buffer. s.mu is held.
func (s *Subscriber) take() []byte {
	var out []byte
	if len(s.queue) == 1 {
		out = s.queue[0]
	} else {
		out = make([]byte, 0, s.queued)
		for _, f := range s.queue {
			out = append(out, f...)
		}
	}
	clear(s.queue)
	if cap(s.queue) > 64 {
		s.queue = nil // a burst's backing array is not kept by an idle socket
	} else {
		s.queue = s.queue[:0]
	}
	s.queued = 0
	return out
}

type pushResult uint8

const (
	pushed    pushResult = iota
	pushFull             // the queue is full: the subscriber is too slow
	pushEnded            // the subscriber has ended
)

// push queues frame without waiting. Called by rooms.
func (s *Subscriber) push(frame []byte) pushResult {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return pushEnded
	}
	if len(s.queue) >= s.maxFrame || s.queued+len(frame) > s.maxBytes {
		s.mu.Unlock()
		return pushFull
	}
	s.queue = append(s.queue, frame)
	s.queued += len(frame)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return pushed
}

// Done is closed when the subscriber ends; Err then says why.
func (s *Subscriber) Done() <-chan struct{} { return s.done }

// Err returns why the subscriber ended (ErrTooSlow, ErrShutdown,
// ErrClosed), or nil while it is live.
func (s *Subscriber) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the subscriber with ErrClosed and removes it from its topics
// before returning. It is safe to call more than once, and after the
// subscriber ended otherwise.
func (s *Subscriber) Close() {
	if s.end(ErrClosed) {
		s.leaveAll("")
	}
}

func (s *Subscriber) ended() bool { return s.dead.Load() }

// end records err as the reason the subscriber ended, unless it already
// had; it reports whether this call ended it.
func (s *Subscriber) end(err error) bool {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return false
	}
	s.err = err
	s.dead.Store(true)
	s.queue, s.queued = nil, 0
	s.mu.Unlock()
	close(s.done)

	h := s.hub
	h.subsMu.Lock()
	delete(h.subs, s)
	h.subsMu.Unlock()
	h.stats.subscribers.Add(-1)
	return true
}
