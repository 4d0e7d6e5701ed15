package hub

import "context"

// The registry maps topics to rooms. Its lock is held only to look up,
// create or delete a room; sending to a room happens outside it.
//
// A room may stop (idle) while someone is about to send to it. To lose no
// join and never send to a dead room, a sender raises the room's pending
// count under the registry lock (acquire) and lowers it once its message is
// in the mailbox (send). A room stops only under the registry's write lock,
// and only when pending is zero and its mailbox is empty: any sender that
// found the room either still holds pending or has put its message in the
// mailbox, and a sender that comes later finds no room and creates a new one.

// acquire returns the room of topic with its pending count raised, or nil if
// there is none and create is false. The caller must call send (or release).
func (h *Hub) acquire(topic string, create bool) (*room, error) {
	h.mu.RLock()
	if h.closed {
		h.mu.RUnlock()
		return nil, ErrShutdown
	}
	r := h.rooms[topic]
	if r != nil {
		r.pending.Add(1)
	}
	h.mu.RUnlock()
	if r != nil || !create {
		return r, nil
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrShutdown
	}
	r = h.rooms[topic]
	if r == nil {
		r = newRoom(h, topic)
		h.rooms[topic] = r
		h.stats.rooms.Add(1)
		h.wg.Add(1)
		go func() { defer h.wg.Done(); r.run() }()
	}
	r.pending.Add(1)
	return r, nil
}

// release lowers the pending count raised by acquire.
func (r *room) release() { r.pending.Add(-1) }

// send puts m in r's mailbox and releases r. It waits only while the mailbox
// is full, and not past ctx or shutdown.
func (h *Hub) send(ctx context.Context, r *room, m message) error {
	defer r.release()
	select {
	case r.mailbox <- m:
		return nil
	default:
	}
	select {
	case r.mailbox <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-h.done:
		return ErrShutdown
	}
}

// tryRemove deletes r from the registry if nobody can still reach it: no
// subscribers, no pending sender, nothing in the mailbox. Called by r's own
// goroutine, which exits when it returns true.
func (h *Hub) tryRemove(r *room) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(r.subs) > 0 || r.pending.Load() > 0 || len(r.mailbox) > 0 {
		return false
	}
	if h.rooms[r.topic] == r {
		delete(h.rooms, r.topic)
	}
	h.stats.rooms.Add(-1)
	return true
}
