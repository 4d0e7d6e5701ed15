package hub

import (
	"context"
	"errors"
	"sync/atomic"
)

var errRelayQueueFull = errors.New("relay queue full")

// relay moves events between this hub and the broker. Publish hands events
// to a bounded queue and returns; one goroutine sends them in order, so a
// slow or absent broker delays nothing local. Another goroutine delivers
// other nodes' events to the local rooms.
type relay struct {
	hub    *Hub
	broker Broker
	node   uint64
	out    chan Event

	sendFailing atomic.Bool // for logging transitions, not every failure
	subFailing  atomic.Bool
}

func newRelay(h *Hub, b Broker, node uint64) *relay {
	return &relay{hub: h, broker: b, node: node, out: make(chan Event, h.cfg.BrokerQueueSize)}
}

// enqueue queues ev for the broker without waiting.
func (r *relay) enqueue(ev Event) {
	select {
	case r.out <- ev:
	default:
		r.sendFailed(errRelayQueueFull)
	}
}

func (r *relay) sendLoop() {
	for {
		select {
		case ev := <-r.out:
			r.send(r.hub.ctx, ev)
		case <-r.hub.done:
			r.flush()
			return
		}
	}
}

// flush sends what is still queued at shutdown, within one BrokerTimeout.
func (r *relay) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), r.hub.cfg.BrokerTimeout)
	defer cancel()
	for {
		select {
		case ev := <-r.out:
			if ctx.Err() != nil {
				continue // count nothing: the process is going away
			}
			r.send(ctx, ev)
		default:
			return
		}
	}
}

func (r *relay) send(ctx context.Context, ev Event) {
	ctx, cancel := context.WithTimeout(ctx, r.hub.cfg.BrokerTimeout)
	defer cancel()
	if err := r.broker.Publish(ctx, encodeEvent(r.node, ev)); err != nil {
		r.sendFailed(err)
		return
	}
	if r.sendFailing.CompareAndSwap(true, false) {
		r.hub.log.Info("hub: broker publish recovered")
	}
}

func (r *relay) sendFailed(err error) {
	r.hub.stats.brokerErrors.Add(1)
	if r.sendFailing.CompareAndSwap(false, true) {
		r.hub.log.Warn("hub: broker publish failing; events reach only this node's sockets until it recovers",
			"err", err)
	}
}

func (r *relay) receiveLoop() {
	err := r.broker.Subscribe(r.hub.ctx, r.receive, r.subscriptionStatus)
	if err != nil {
		r.hub.stats.brokerErrors.Add(1)
		r.hub.log.Error("hub: broker subscription ended; events from other nodes will not arrive", "err", err)
	}
}

// receive delivers another node's event to the local rooms.
func (r *relay) receive(payload []byte) {
	node, ev, err := decodeEvent(payload)
	if err != nil {
		r.hub.stats.brokerErrors.Add(1)
		r.hub.log.Warn("hub: undecodable broker message", "err", err, "bytes", len(payload))
		return
	}
	if node == r.node {
		return // ours, already delivered locally
	}
	r.hub.stats.received.Add(1)
	if ev.Topic == endSessionsTopic {
		userID, sessionID, err := decodeEndSessions(ev.Frame)
		if err != nil {
			r.hub.stats.brokerErrors.Add(1)
			r.hub.log.Warn("hub: undecodable end-sessions message", "err", err)
			return
		}
		r.hub.endSessionsLocal(userID, sessionID)
		return
	}
	// Waiting here (a full mailbox) holds back the other topics' remote
	// events too, which keeps per-topic order without a queue per topic;
	// rooms never wait, so the wait is short.
	if err := r.hub.deliverLocal(r.hub.ctx, ev.Topic, ev.Seq, ev.Frame); err != nil && !errors.Is(err, ErrShutdown) &&
		!errors.Is(err, context.Canceled) {
		r.hub.log.Warn("hub: deliver remote event", "topic", ev.Topic, "err", err)
	}
}

func (r *relay) subscriptionStatus(err error) {
	if err == nil {
		if r.subFailing.CompareAndSwap(true, false) {
			r.hub.log.Info("hub: broker subscription recovered")
		}
		return
	}
	r.hub.stats.brokerErrors.Add(1)
	if r.subFailing.CompareAndSwap(false, true) {
		r.hub.log.Warn("hub: broker subscription failing; retrying", "err", err)
	}
}
