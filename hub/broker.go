package hub

import (
	"context"
	"sync"
)

// Broker carries encoded events between the nodes (parley serve processes)
// that share it. The hub encodes, tags each payload with its node id and
// ignores its own when they come back; a Broker only moves bytes.
type Broker interface {
	// Publish sends payload to every node subscribed to the broker, this
	// one included. It must not keep payload after returning.
	Publish(ctx context.Context, payload []byte) error

	// Subscribe calls deliver with every payload published by any node, one
	// at a time, in the order the broker received them, until ctx is done;
	// then it returns nil. deliver owns payload. Subscribe reconnects by
	// itself after failures, reporting each one to status, and calls
	// status(nil) when the subscription is (re)established. It returns an
	// error only if it cannot subscribe at all (a misconfiguration).
	Subscribe(ctx context.Context, deliver func(payload []byte), status func(err error)) error
}

// MemoryBroker is a Broker inside one process: the hubs that share it act as
// nodes. Useful in tests; a single node needs no broker at all.
type MemoryBroker struct {
	mu   sync.RWMutex
	subs map[*memorySub]struct{}
}

type memorySub struct {
	mu      sync.Mutex // one delivery at a time, in publish order per publisher
	deliver func([]byte)
}

// NewMemoryBroker returns an empty in-process broker.
func NewMemoryBroker() *MemoryBroker {
	return &MemoryBroker{subs: make(map[*memorySub]struct{})}
}

// Publish calls every subscriber's deliver with a copy of payload before
// returning.
func (b *MemoryBroker) Publish(ctx context.Context, payload []byte) error {
	b.mu.RLock()
	subs := make([]*memorySub, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.RUnlock()
	for _, s := range subs {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mu.Lock()
		s.deliver(append([]byte(nil), payload...))
		s.mu.Unlock()
	}
	return nil
}

// Subscribe registers deliver until ctx is done.
func (b *MemoryBroker) Subscribe(ctx context.Context, deliver func([]byte), status func(error)) error {
	s := &memorySub{deliver: deliver}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	status(nil)
	<-ctx.Done()
	b.mu.Lock()
	delete(b.subs, s)
	b.mu.Unlock()
	return nil
}
