package hub

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisHealthCheck is how long the subscription may be silent before
// it pings Redis; a ping unanswered for as long again means the connection
// died without saying so (a half-open TCP connection after a network cut),
// and it reconnects. 15s finds such a cut well before agents give up.
const DefaultRedisHealthCheck = 15 * time.Second

// RedisBroker is a Broker on one Redis pub/sub channel: every node publishes
// to it and subscribes to it. Redis pub/sub is fire-and-forget: a node that
// is disconnected misses what is published meanwhile (browsers catch up
// from the database).
type RedisBroker struct {
	client  redis.UniversalClient
	channel string

	// HealthCheck overrides DefaultRedisHealthCheck when > 0. Set it before
	// the broker is used.
	HealthCheck time.Duration
}

// NewRedisBroker returns a broker on channel. Every node of one deployment
// must use the same channel, and deployments sharing a Redis different ones.
// The client stays the caller's to close (after the hub's Shutdown).
func NewRedisBroker(client redis.UniversalClient, channel string) *RedisBroker {
	return &RedisBroker{client: client, channel: channel}
}

// Publish sends payload to every subscribed node.
func (b *RedisBroker) Publish(ctx context.Context, payload []byte) error {
	if err := b.client.Publish(ctx, b.channel, payload).Err(); err != nil {
		return fmt.Errorf("hub: redis publish: %w", err)
	}
	return nil
}

// Subscribe delivers the channel's messages until ctx is done. go-redis
// reconnects and resubscribes after a failed read; Subscribe adds a ping
// when the connection is silent, a new connection when the ping goes
// unanswered, and a growing pause between failed attempts.
func (b *RedisBroker) Subscribe(ctx context.Context, deliver func([]byte), status func(error)) error {
	if b.channel == "" {
		return errors.New("hub: redis subscribe: empty channel name")
	}
	interval := b.HealthCheck
	if interval <= 0 {
		interval = DefaultRedisHealthCheck
	}

	var mu sync.Mutex // guards ps against the AfterFunc; only this goroutine assigns it
	ps := b.subscribe(ctx, status)
	stop := context.AfterFunc(ctx, func() { // unblocks ReceiveTimeout at once
		mu.Lock()
		defer mu.Unlock()
		_ = ps.Close()
	})
	defer func() {
		stop()
		mu.Lock()
		defer mu.Unlock()
		_ = ps.Close()
	}()

	failures, awaitingPong := 0, false
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, interval)
		if ctx.Err() != nil {
			return nil
		}
		var nerr net.Error
		switch {
		case err != nil && errors.As(err, &nerr) && nerr.Timeout() && !awaitingPong:
			awaitingPong = true
			if err := ps.Ping(ctx); err != nil {
				status(fmt.Errorf("hub: redis ping: %w", err))
			}
		case err != nil && errors.As(err, &nerr) && nerr.Timeout():
			status(fmt.Errorf("hub: redis subscription: no answer to ping within %s; reconnecting", interval))
			awaitingPong = false
			fresh := b.subscribe(ctx, status)
			mu.Lock()
			old := ps
			ps = fresh
			mu.Unlock()
			_ = old.Close()
		case err != nil:
			status(fmt.Errorf("hub: redis receive: %w", err))
			t := time.NewTimer(redisBackoff(failures))
			failures++
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil
			}
		default:
			failures, awaitingPong = 0, false
			switch m := msg.(type) {
			case *redis.Message:
				if m.Channel == b.channel {
					deliver([]byte(m.Payload))
				}
			case *redis.Subscription:
				if m.Kind == "subscribe" {
					status(nil)
				}
			}
		}
	}
	return nil
}

// subscribe opens a PubSub on the channel; if Redis is unreachable now, the
// first receive retries.
func (b *RedisBroker) subscribe(ctx context.Context, status func(error)) *redis.PubSub {
	ps := b.client.Subscribe(ctx)
	if err := ps.Subscribe(ctx, b.channel); err != nil && ctx.Err() == nil {
		status(fmt.Errorf("hub: redis subscribe %s: %w", b.channel, err))
	}
	return ps
}

// redisBackoff is the pause after the n-th consecutive failure (0-based):
// 100ms doubling to 5s, so a Redis restart is noticed quickly without a
// dial loop spinning while it is down.
func redisBackoff(n int) time.Duration {
	return min(100*time.Millisecond<<min(n, 6), 5*time.Second)
}
