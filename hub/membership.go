package hub

import (
	"context"
	"fmt"
	"slices"
)

// Join adds sub to topic, starting the topic's room if needed. Events
// published after Join returns reach sub (until it leaves or ends); joining a
// topic twice is a no-op. It waits only while the room's mailbox is full.
func (h *Hub) Join(ctx context.Context, topic string, sub *Subscriber) error {
	sub.topicsMu.Lock()
	defer sub.topicsMu.Unlock()
	if err := sub.Err(); err != nil {
		return fmt.Errorf("hub: join %s: %w", topic, err)
	}
	if slices.Contains(sub.topics, topic) {
		return nil
	}
	r, err := h.acquire(topic, true)
	if err != nil {
		return fmt.Errorf("hub: join %s: %w", topic, err)
	}
	if err := h.send(ctx, r, message{kind: msgJoin, sub: sub}); err != nil {
		return fmt.Errorf("hub: join %s: %w", topic, err)
	}
	sub.topics = append(sub.topics, topic)
	return nil
}

// Leave removes sub from topic; leaving a topic not joined is a no-op.
// Switching threads is Leave then Join, from the same goroutine.
func (h *Hub) Leave(ctx context.Context, topic string, sub *Subscriber) error {
	sub.topicsMu.Lock()
	defer sub.topicsMu.Unlock()
	i := slices.Index(sub.topics, topic)
	if i < 0 {
		return nil
	}
	if err := h.leave(ctx, topic, sub); err != nil {
		return fmt.Errorf("hub: leave %s: %w", topic, err)
	}
	sub.topics = slices.Delete(sub.topics, i, i+1)
	return nil
}

// leave tells topic's room, if it runs, to drop sub. sub.topicsMu is held.
func (h *Hub) leave(ctx context.Context, topic string, sub *Subscriber) error {
	r, err := h.acquire(topic, false)
	if err != nil || r == nil {
		return err // no room: sub is not in it
	}
	return h.send(ctx, r, message{kind: msgLeave, sub: sub})
}

// leaveAll removes an ended subscriber from every topic but except (whose
// room already dropped it). After shutdown there is nothing to leave.
func (s *Subscriber) leaveAll(except string) {
	s.topicsMu.Lock()
	defer s.topicsMu.Unlock()
	for _, topic := range s.topics {
		if topic == except {
			continue
		}
		if err := s.hub.leave(s.hub.ctx, topic, s); err != nil {
			return // shutting down: the rooms are going too
		}
	}
	s.topics = nil
}

// Topics returns the topics sub has joined, in the order it joined them.
func (s *Subscriber) Topics() []string {
	s.topicsMu.Lock()
	defer s.topicsMu.Unlock()
	return slices.Clone(s.topics)
}

// Members returns who is subscribed to topic on this node, one entry per
// user, ordered by UserID. A topic without a room has no members.
func (h *Hub) Members(ctx context.Context, topic string) ([]Member, error) {
	r, err := h.acquire(topic, false)
	if err != nil {
		return nil, fmt.Errorf("hub: members %s: %w", topic, err)
	}
	if r == nil {
		return nil, nil
	}
	reply := make(chan []Member, 1)
	if err := h.send(ctx, r, message{kind: msgMembers, reply: reply}); err != nil {
		return nil, fmt.Errorf("hub: members %s: %w", topic, err)
	}
	select {
	case m := <-reply:
		return m, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("hub: members %s: %w", topic, ctx.Err())
	case <-h.done:
		return nil, fmt.Errorf("hub: members %s: %w", topic, ErrShutdown)
	}
}
