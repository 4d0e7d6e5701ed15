package hub

import (
	"context"
	"errors"
	"fmt"
)

// Publish delivers ev to the subscribers of ev.Topic on this node and hands
// it to the broker for the other nodes. Events published to one topic from
// one goroutine arrive in that order everywhere.
//
// It waits only while the topic's room mailbox is full, never past ctx. A
// topic without subscribers on this node costs a map lookup (no room is
// started). Broker trouble never fails Publish: it is logged and counted in
// Stats.BrokerErrors, and the event still reaches this node's sockets.
func (h *Hub) Publish(ctx context.Context, ev Event) error {
	if ev.Topic == endSessionsTopic {
		return fmt.Errorf("hub: publish: %q is a reserved topic", ev.Topic)
	}
	h.stats.published.Add(1)
	err := h.deliverLocal(ctx, ev.Topic, ev.Seq, ev.Frame)
	if h.relay != nil && !errors.Is(err, ErrShutdown) {
		// Other nodes' sockets get the event even if this node's room
		// was too busy to take it before ctx ended.
		h.relay.enqueue(ev)
	}
	if err != nil {
		return fmt.Errorf("hub: publish %s: %w", ev.Topic, err)
	}
	return nil
}

// deliverLocal sends frame to topic's room, if there is one.
func (h *Hub) deliverLocal(ctx context.Context, topic string, seq int64, frame []byte) error {
	r, err := h.acquire(topic, false)
	if err != nil || r == nil {
		return err
	}
	return h.send(ctx, r, message{kind: msgPublish, frame: frame, seq: seq})
}
