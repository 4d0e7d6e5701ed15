package hub

import "sync/atomic"

// Stats is a snapshot of the hub's counters (monotonic, since New) and
// gauges (current values), for the web layer to export as metrics.
type Stats struct {
	Rooms       int64 // gauge: live room goroutines (topics with a room)
	Subscribers int64 // gauge: subscribers created and not yet ended

	EventsPublished    uint64 // Publish calls on this node
	EventsReceived     uint64 // events from other nodes, through the broker
	FramesDelivered    uint64 // frames queued to subscribers
	SubscribersDropped uint64 // subscribers ended with ErrTooSlow
	SubscribersLagged  uint64 // times a subscriber fell behind and skipped frames (see Subscriber)
	BrokerErrors       uint64 // failed broker sends, subscription failures, undecodable or unsent (queue full) events
}

type counters struct {
	rooms       atomic.Int64
	subscribers atomic.Int64

	published    atomic.Uint64
	received     atomic.Uint64
	delivered    atomic.Uint64
	dropped      atomic.Uint64
	lagged       atomic.Uint64
	brokerErrors atomic.Uint64
}

// Stats returns the current counters and gauges.
func (h *Hub) Stats() Stats {
	c := &h.stats
	return Stats{
		Rooms:              c.rooms.Load(),
		Subscribers:        c.subscribers.Load(),
		EventsPublished:    c.published.Load(),
		EventsReceived:     c.received.Load(),
		FramesDelivered:    c.delivered.Load(),
		SubscribersDropped: c.dropped.Load(),
		SubscribersLagged:  c.lagged.Load(),
		BrokerErrors:       c.brokerErrors.Load(),
	}
}
