package hub

import (
	"slices"
	"sync"
)

// Member identifies who is behind a subscriber (an agent may have several
// sockets open; presence counts them once).
type Member struct {
	UserID int64
	Name   string
	// Session is the login the socket belongs to (0: none), so that
	// EndSessions finds its sockets. Presence ignores it.
	Session int64
}

// members is a room's presence: one entry per user, sorted by UserID, with
// the number of that user's subscribers in the room.
type members struct {
	list  []Member
	count []int // parallel to list
}

func (m *members) find(userID int64) (int, bool) {
	return slices.BinarySearchFunc(m.list, userID, func(e Member, id int64) int {
		switch {
		case e.UserID < id:
			return -1
		case e.UserID > id:
			return 1
		}
		return 0
	})
}

// add counts one more subscriber of mem and reports whether mem is new.
func (m *members) add(mem Member) bool {
	i, ok := m.find(mem.UserID)
	if ok {
		m.count[i]++
		return false
	}
	m.list = slices.Insert(m.list, i, mem)
	m.count = slices.Insert(m.count, i, 1)
	return true
}

// remove counts one subscriber of mem less and reports whether mem left.
func (m *members) remove(mem Member) bool {
	i, ok := m.find(mem.UserID)
	if !ok {
		return false
	}
	if m.count[i]--; m.count[i] > 0 {
		return false
	}
	m.list = slices.Delete(m.list, i, i+1)
	m.count = slices.Delete(m.count, i, i+1)
	return true
}

func (m *members) snapshot() []Member { return slices.Clone(m.list) }

// presence calls Config.OnPresence away from the rooms: a room posts the new
// member list and goes on; one goroutine delivers the latest list per topic,
// so a burst of joins becomes one call.
type presence struct {
	notify func(topic string, members []Member)

	mu      sync.Mutex
	pending map[string][]Member
	order   []string // topics in pending, in the order they changed
	wake    chan struct{}
}

func newPresence(notify func(string, []Member)) *presence {
	return &presence{
		notify:  notify,
		pending: make(map[string][]Member),
		wake:    make(chan struct{}, 1),
	}
}

// post records the latest members of topic; it never blocks.
func (p *presence) post(topic string, list []Member) {
	p.mu.Lock()
	if _, ok := p.pending[topic]; !ok {
		p.order = append(p.order, topic)
	}
	p.pending[topic] = list
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *presence) run(done <-chan struct{}) {
	for {
		select {
		case <-p.wake:
		case <-done:
			return
		}
		p.mu.Lock()
		pending, order := p.pending, p.order
		p.pending, p.order = make(map[string][]Member, len(pending)), nil
		p.mu.Unlock()
		for _, topic := range order {
			select {
			case <-done:
				return
			default:
			}
			p.notify(topic, pending[topic])
		}
	}
}
