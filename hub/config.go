package hub

import (
	"log/slog"
	"time"
)

const (
	// DefaultMailboxSize bounds each room's queue of publishes, joins and
	// leaves. A room handles a message in microseconds (fan-out never waits
	// on a socket), so 256 absorbs a burst from many publishers at once; past
	// that, publishers wait (up to their context) instead of the hub growing
	// without bound.
	DefaultMailboxSize = 256

	// DefaultSubscriberBuffer is how many frames may wait for one socket. The
	// socket writer takes everything queued in one write, so the queue grows
	// only while a write is in flight; 256 frames is seconds of a busy
	// location feed. A socket further behind is cheaper to reconnect (it
	// catches up from the database) than to feed (quality.md R12).
	DefaultSubscriberBuffer = 256

	// DefaultSubscriberMaxBytes bounds the bytes waiting for one socket, so
	// a few large frames (a whole rendered thread) cannot hold megabytes per
	// stalled socket. Idle sockets hold nothing (quality.md B4).
	DefaultSubscriberMaxBytes = 1 << 20

	// DefaultMaxLags, DefaultLagWindow and DefaultLagTimeout say when a
	// subscriber that fell behind is dropped rather than told to catch up
	// (see Subscriber): on its fifth lag within a minute (a socket that
	// reads, but slower than its feed for a minute; a long burst costs a
	// few lags, each ended by a catch-up), or when it has not come back for
	// the catch-up within 5 s (it stopped reading).
	DefaultMaxLags    = 5
	DefaultLagWindow  = time.Minute
	DefaultLagTimeout = 5 * time.Second

	// DefaultIdleTimeout is how long a room with no subscribers lives on. It
	// outlasts an agent switching threads or a socket reconnecting, so those
	// do not stop and restart the goroutine, and is short enough that rooms
	// of conversations nobody watches do not pile up.
	DefaultIdleTimeout = time.Minute

	// DefaultBrokerQueueSize bounds the events waiting to go to the broker.
	// Publish never waits on the broker: at a few hundred events a second
	// this rides out a broker stall of several seconds, after which events
	// reach only this node's sockets (and are counted as broker errors).
	DefaultBrokerQueueSize = 4096

	// DefaultBrokerTimeout bounds one send to the broker, so a broker that
	// stops answering costs a bounded delay per event rather than a stuck
	// relay; it also bounds the flush of queued events on shutdown.
	DefaultBrokerTimeout = 2 * time.Second
)

// Config configures a Hub. The zero value is a working single-node hub;
// zero (or negative) sizes and durations take the Default* values.
type Config struct {
	// Broker carries events to the other nodes and theirs to this one.
	// Nil: this process is the only node.
	Broker Broker

	// MailboxSize bounds each room's queue (DefaultMailboxSize).
	MailboxSize int

	// SubscriberBuffer is the default frame limit of a subscriber queue,
	// used when NewSubscriber is given a size <= 0 (DefaultSubscriberBuffer).
	SubscriberBuffer int

	// SubscriberMaxBytes bounds the bytes queued for one subscriber
	// (DefaultSubscriberMaxBytes). A frame that would pass it drops the
	// subscriber, like a full frame queue.
	SubscriberMaxBytes int

	// MaxLags drops a subscriber on its MaxLags-th lag within LagWindow
	// (DefaultMaxLags; 1 drops at the first full queue, with no lag).
	MaxLags int
	// LagWindow (DefaultLagWindow) and LagTimeout (DefaultLagTimeout): see
	// Subscriber.
	LagWindow  time.Duration
	LagTimeout time.Duration

	// IdleTimeout is how long a room with no subscribers and no messages
	// lives before its goroutine stops (DefaultIdleTimeout).
	IdleTimeout time.Duration

	// BrokerQueueSize bounds events waiting to go to the broker
	// (DefaultBrokerQueueSize); when full, events are not relayed and each is
	// counted in Stats.BrokerErrors.
	BrokerQueueSize int

	// BrokerTimeout bounds one broker send (DefaultBrokerTimeout).
	BrokerTimeout time.Duration

	// OnPresence, if set, is called with a topic's members after they
	// change. It runs on a goroutine of its own, one call at a time; a burst
	// of changes is coalesced into one call with the latest members. It may
	// be slow (it delays later presence calls, never delivery), but must not
	// block for ever.
	OnPresence func(topic string, members []Member)

	// Logger receives broker failures and recoveries. Nil discards.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.MailboxSize <= 0 {
		c.MailboxSize = DefaultMailboxSize
	}
	if c.SubscriberBuffer <= 0 {
		c.SubscriberBuffer = DefaultSubscriberBuffer
	}
	if c.SubscriberMaxBytes <= 0 {
		c.SubscriberMaxBytes = DefaultSubscriberMaxBytes
	}
	if c.MaxLags <= 0 {
		c.MaxLags = DefaultMaxLags
	}
	if c.LagWindow <= 0 {
		c.LagWindow = DefaultLagWindow
	}
	if c.LagTimeout <= 0 {
		c.LagTimeout = DefaultLagTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.BrokerQueueSize <= 0 {
		c.BrokerQueueSize = DefaultBrokerQueueSize
	}
	if c.BrokerTimeout <= 0 {
		c.BrokerTimeout = DefaultBrokerTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
