package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Subscriber is one agent socket's view of the hub: the topics it joined and
// the frames waiting to be written to it. Rooms queue frames without waiting;
// the socket's writer takes them with Next.
//
// # Falling behind
//
// A subscriber whose queue fills up (Config.SubscriberBuffer frames or
// Config.SubscriberMaxBytes bytes) is not dropped at once. Past saturation
// or in a burst, most sockets are briefly behind together; dropping them
// all makes them all reconnect and catch up at once, which is the next
// burst. Instead the subscriber starts lagging:
//
//   - its queue is discarded (it holds no memory) and the frames that follow
//     are skipped, remembering the lowest Event.Seq skipped;
//   - its next Next returns a *LagError (ErrLagging); it goes on skipping
//     until the socket is ready to catch up and calls Resume, which gives
//     where to catch up from. Frames queue again from that moment, and the
//     socket reads what it missed from the database after it, as a
//     reconnecting browser would, without the reconnect: an event is in the
//     catch-up, the queue, or both (never neither). One lag lasts until its
//     catch-up, however long the burst;
//   - it is dropped with ErrTooSlow only when it is behind persistently:
//     lagging again for the Config.MaxLags-th time within Config.LagWindow,
//     or its writer not back (Next not called) Config.LagTimeout after the
//     lag started, seen on the next frame for it (a socket that stopped
//     reading; a writer waiting for its turn to catch up is not timed).
type Subscriber struct {
	hub      *Hub
	member   Member
	maxFrame int
	maxBytes int

	mu     sync.Mutex // guards the fields below up to done
	queue  [][]byte
	queued int // bytes in queue
	err    error
	out    *[]byte // the buffer the last Next returned, from bufPool; reused by the next
	// Falling behind (see the type's doc).
	lagging  bool
	reported bool      // Next has returned the current lag
	lagSince time.Time // when the current lag started
	skipped  int64     // lowest Seq skipped in the current lag (0: none carried one)
	// skippedFrames counts the frames skipped in the current lag.
	skippedFrames int
	// minQueued is the lowest Seq in queue (0: none carried one).
	minQueued int64
	lags      []time.Time // when the lags within LagWindow started

	dead   atomic.Bool   // err is set
	notify chan struct{} // one token: "queue became non-empty" (or lagging)
	done   chan struct{} // closed when the subscriber ends

	topicsMu sync.Mutex // guards topics; held across a join or leave, so they happen in call order
	topics   []string
}

// ErrLagging is what a *LagError from Next matches (errors.Is): frames were
// skipped and the subscriber is live again; catch up from LagError.Since.
var ErrLagging = errors.New("hub: subscriber fell behind; frames skipped")

// LagError is returned by Next once when the hub starts skipping frames
// for a subscriber that fell behind (what was skipped so far), and by
// Resume (everything skipped). It does not end the subscriber.
type LagError struct {
	// Since is the last Seq before the first skipped frame that carried
	// one: the skipped events are those after it. -1 when no skipped frame
	// carried a Seq (only passing frames, e.g. typing, were lost).
	Since int64
	// Skipped is how many frames were discarded or not queued.
	Skipped int
}

func (e *LagError) Error() string {
	return fmt.Sprintf("hub: subscriber fell behind: %d frames skipped after seq %d", e.Skipped, e.Since)
}

// Is makes a *LagError match ErrLagging.
func (e *LagError) Is(target error) bool { return target == ErrLagging }

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
// The result is valid until the next call of Next, which reuses its
// buffer; it may be shared with other subscribers (a single frame): do not
// modify it. When the subscriber falls behind, Next returns a *LagError
// once; the caller then calls Resume before catching up (a Next without it
// resumes without a catch-up). Next returns the
// subscriber's error (ErrTooSlow, ErrShutdown, ErrClosed, ErrSignedOut)
// once it has ended, discarding what was queued, or ctx's error. Call it
// from one goroutine.
func (s *Subscriber) Next(ctx context.Context) ([]byte, error) {
	for {
		s.mu.Lock()
		if s.out != nil { // the caller is done with the previous result
			putBuf(s.out)
			s.out = nil
		}
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			return nil, err
		}
		if s.lagging && !s.reported {
			s.reported = true
			err := s.lagError()
			s.mu.Unlock()
			return nil, err
		}
		if s.lagging { // reported, and the caller did not Resume: it does not catch up
			s.resume()
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
		s.out = getBuf(s.queued)
		out = *s.out
		for _, f := range s.queue {
			out = append(out, f...)
		}
		*s.out = out
	}
	s.clearQueue()
	return out
}

// clearQueue empties the queue. s.mu is held.
func (s *Subscriber) clearQueue() {
	clear(s.queue)
	if cap(s.queue) > 64 {
		s.queue = nil // a burst's backing array is not kept by an idle socket
	} else {
		s.queue = s.queue[:0]
	}
	s.queued, s.minQueued = 0, 0
}

type pushResult uint8

const (
	pushed      pushResult = iota
	pushFull               // behind for good: end the subscriber with ErrTooSlow
	pushEnded              // the subscriber has ended
	pushSkipped            // lagging: the frame is left to the catch-up
)

// push queues frame (of event seq) without waiting. Called by rooms.
func (s *Subscriber) push(frame []byte, seq int64) pushResult {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return pushEnded
	}
	if s.lagging {
		r := s.skip(seq)
		s.mu.Unlock()
		return r
	}
	if len(s.queue) >= s.maxFrame || s.queued+len(frame) > s.maxBytes {
		r := s.fallBehind(seq)
		s.mu.Unlock()
		s.wake()
		return r
	}
	s.queue = append(s.queue, frame)
	s.queued += len(frame)
	if seq > 0 && (s.minQueued == 0 || seq < s.minQueued) {
		s.minQueued = seq
	}
	s.mu.Unlock()
	s.wake()
	return pushed
}

func (s *Subscriber) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// fallBehind starts a lag: the queue is discarded and the frame of seq
// skipped, unless this is the MaxLags-th lag within LagWindow. s.mu is held.
func (s *Subscriber) fallBehind(seq int64) pushResult {
	cfg := &s.hub.cfg
	now := time.Now()
	kept := s.lags[:0]
	for _, t := range s.lags {
		if now.Sub(t) < cfg.LagWindow {
			kept = append(kept, t)
		}
	}
	s.lags = kept
	if len(s.lags)+1 >= cfg.MaxLags {
		return pushFull
	}
	s.lags = append(s.lags, now)
	// What was queued is skipped too: the catch-up starts at its lowest Seq
	// (frames queue in order, but Seqs of different topics need not).
	s.lagging, s.lagSince = true, now
	s.skipped, s.skippedFrames = s.minQueued, len(s.queue)
	s.clearQueue()
	s.noteSkipped(seq)
	s.hub.stats.lagged.Add(1)
	return pushSkipped
}

// skip leaves the frame of seq to the catch-up, or reports a subscriber
// whose writer has not come back (called Next) within LagTimeout. One that
// has, and waits for its turn to catch up, is not timed. s.mu is held.
func (s *Subscriber) skip(seq int64) pushResult {
	if !s.reported && time.Since(s.lagSince) > s.hub.cfg.LagTimeout {
		return pushFull
	}
	s.noteSkipped(seq)
	return pushSkipped
}

func (s *Subscriber) noteSkipped(seq int64) {
	s.skippedFrames++
	if seq > 0 && (s.skipped == 0 || seq < s.skipped) {
		s.skipped = seq
	}
}

// Resume ends the subscriber's lag, if it is lagging: frames queue again
// from now on. The result says what was skipped: catch up from its Since
// after Resume returns. Not lagging, it returns Since -1.
func (s *Subscriber) Resume() LagError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.lagging {
		return LagError{Since: -1}
	}
	return *s.resume()
}

// resume ends the lag. s.mu is held.
func (s *Subscriber) resume() *LagError {
	e := s.lagError()
	s.lagging, s.reported, s.skipped, s.skippedFrames = false, false, 0, 0
	return e
}

// lagError describes the current lag. s.mu is held.
func (s *Subscriber) lagError() *LagError {
	e := &LagError{Since: s.skipped - 1, Skipped: s.skippedFrames}
	if s.skipped == 0 {
		e.Since = -1
	}
	return e
}

// Done is closed when the subscriber ends; Err then says why.
func (s *Subscriber) Done() <-chan struct{} { return s.done }

// Err returns why the subscriber ended (ErrTooSlow, ErrShutdown,
// ErrClosed, ErrSignedOut), or nil while it is live.
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
	// s.out may still be being written by the caller of Next: it is left
	// to the garbage collector, not reused.
	s.out = nil
	s.mu.Unlock()
	close(s.done)

	h := s.hub
	h.subsMu.Lock()
	delete(h.subs, s)
	h.subsMu.Unlock()
	h.stats.subscribers.Add(-1)
	return true
}

// Coalescing buffers. At hundreds of thousands of deliveries a second, a
// new buffer per coalesced write made allocation and GC a quarter of the
// CPU; pooled per size class, a busy socket reuses one buffer and an idle
// one holds none (Next returns it before waiting).
const (
	minBufShift = 12 // 4 KiB: the smallest class
	maxBufShift = 20 // 1 MiB (DefaultSubscriberMaxBytes): larger is not pooled
)

var bufPools [maxBufShift - minBufShift + 1]sync.Pool

// bufClass is the index of the smallest class holding n bytes, or -1.
func bufClass(n int) int {
	for c := range bufPools {
		if n <= 1<<(minBufShift+c) {
			return c
		}
	}
	return -1
}

// getBuf returns an empty buffer with room for n bytes.
func getBuf(n int) *[]byte {
	c := bufClass(n)
	if c < 0 {
		b := make([]byte, 0, n)
		return &b
	}
	if p, ok := bufPools[c].Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, 0, 1<<(minBufShift+c))
	return &b
}

// putBuf returns a buffer from getBuf to its pool.
func putBuf(p *[]byte) {
	c := bufClass(cap(*p))
	if c < 0 || cap(*p) != 1<<(minBufShift+c) {
		return
	}
	*p = (*p)[:0]
	bufPools[c].Put(p)
}
