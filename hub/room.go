package hub

import (
	"slices"
	"sync/atomic"
	"time"
)

type messageKind uint8

const (
	msgPublish messageKind = iota
	msgJoin
	msgLeave
	msgMembers
)

// message is what a room's mailbox carries.
type message struct {
	kind  messageKind
	frame []byte        // msgPublish
	seq   int64         // msgPublish: the event's Seq
	sub   *Subscriber   // msgJoin, msgLeave
	reply chan []Member // msgMembers; buffered, so the room never waits
}

// room is the goroutine that owns one live topic: its subscribers, their
// presence, and the order in which its events go out.
type room struct {
	hub     *Hub
	topic   string
	mailbox chan message
	pending atomic.Int64 // senders that found this room and have not sent yet

	// Owned by the room's goroutine.
	subs       []*Subscriber
	index      map[*Subscriber]int // position in subs
	members    members
	lastActive time.Time // last message handled while it had no subscribers
	dropped    []*Subscriber
}

func newRoom(h *Hub, topic string) *room {
	return &room{
		hub:     h,
		topic:   topic,
		mailbox: make(chan message, h.cfg.MailboxSize),
		index:   make(map[*Subscriber]int),
	}
}

func (r *room) run() {
	idle := r.hub.cfg.IdleTimeout
	timer := time.NewTimer(idle)
	defer timer.Stop()
	r.lastActive = time.Now()
	for {
		select {
		case m := <-r.mailbox:
			r.handle(m)
			if len(r.subs) == 0 {
				r.lastActive = time.Now()
			}
		case <-timer.C:
			if len(r.subs) > 0 {
				timer.Reset(idle)
				continue
			}
			if left := idle - time.Since(r.lastActive); left > 0 {
				timer.Reset(left)
				continue
			}
			if r.hub.tryRemove(r) {
				return
			}
			timer.Reset(idle)
		case <-r.hub.done:
			r.hub.stats.rooms.Add(-1)
			return
		}
	}
}

func (r *room) handle(m message) {
	switch m.kind {
	case msgPublish:
		r.publish(m.frame, m.seq)
	case msgJoin:
		r.join(m.sub)
	case msgLeave:
		r.leave(m.sub)
	case msgMembers:
		m.reply <- r.members.snapshot()
	}
}

// publish queues frame on every subscriber without waiting for any of them;
// one that is behind skips it, and one behind for good is dropped (see
// Subscriber).
func (r *room) publish(frame []byte, seq int64) {
	delivered := 0
	for _, s := range r.subs {
		switch s.push(frame, seq) {
		case pushed:
			delivered++
		case pushSkipped: // left to its catch-up
		case pushFull:
			if s.end(ErrTooSlow) {
				r.hub.stats.dropped.Add(1)
				// Its other rooms learn from a goroutine: a room never
				// waits on another room's mailbox.
				r.hub.spawn(func() { s.leaveAll(r.topic) })
			}
			r.dropped = append(r.dropped, s)
		case pushEnded:
			r.dropped = append(r.dropped, s)
		}
	}
	r.hub.stats.delivered.Add(uint64(delivered))
	if len(r.dropped) > 0 {
		for _, s := range r.dropped {
			r.leave(s)
		}
		clear(r.dropped)
		r.dropped = r.dropped[:0]
	}
}

func (r *room) join(s *Subscriber) {
	if s.ended() {
		return // closed while its join was in the mailbox; its leave came first
	}
	if _, ok := r.index[s]; ok {
		return
	}
	r.index[s] = len(r.subs)
	r.subs = append(r.subs, s)
	if r.members.add(s.member) {
		r.presenceChanged()
	}
}

func (r *room) leave(s *Subscriber) {
	i, ok := r.index[s]
	if !ok {
		return
	}
	last := len(r.subs) - 1
	r.subs[i] = r.subs[last]
	r.index[r.subs[i]] = i
	r.subs[last] = nil
	r.subs = r.subs[:last]
	delete(r.index, s)
	if len(r.subs) == 0 && cap(r.subs) > 64 {
		r.subs = nil // a feed that once had thousands of sockets gives the memory back
	}
	if r.members.remove(s.member) {
		r.presenceChanged()
	}
}

func (r *room) presenceChanged() {
	if p := r.hub.presence.Load(); p != nil {
		p.post(r.topic, slices.Clone(r.members.list))
	}
}
