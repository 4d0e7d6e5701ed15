package hub

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// frame renders a recognisable frame: "<topic/publisher/seq>".
func frame(topic string, publisher, seq int) []byte {
	return fmt.Appendf(nil, "<%s/%d/%d>", topic, publisher, seq)
}

// frames splits what Next returned back into frames.
func frames(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, '>')
		if i < 0 {
			out = append(out, string(b))
			break
		}
		out = append(out, string(b[:i+1]))
		b = b[i+1:]
	}
	return out
}

func publish(t *testing.T, h *Hub, topic string, publisher, seq int) {
	t.Helper()
	if err := h.Publish(context.Background(), Event{Topic: topic, Seq: int64(seq), Frame: frame(topic, publisher, seq)}); err != nil {
		t.Fatalf("publish %s %d: %v", topic, seq, err)
	}
}

func join(t *testing.T, h *Hub, topic string, s *Subscriber) {
	t.Helper()
	if err := h.Join(context.Background(), topic, s); err != nil {
		t.Fatalf("join %s: %v", topic, err)
	}
}

func leave(t *testing.T, h *Hub, topic string, s *Subscriber) {
	t.Helper()
	if err := h.Leave(context.Background(), topic, s); err != nil {
		t.Fatalf("leave %s: %v", topic, err)
	}
}

// collect reads frames from s until it has n of them or s ends.
func collect(s *Subscriber, n int) ([]string, error) {
	var got []string
	for len(got) < n {
		b, err := s.Next(context.Background())
		if err != nil {
			return got, err
		}
		got = append(got, frames(b)...)
	}
	return got, nil
}

// queued returns what Next would return now, without waiting.
func queued(t *testing.T, s *Subscriber) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.mu.Lock()
	n := len(s.queue)
	s.mu.Unlock()
	if n == 0 {
		return nil
	}
	b, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("next: %v", err)
	}
	return frames(b)
}

func membersOf(t *testing.T, h *Hub, topic string) []Member {
	t.Helper()
	m, err := h.Members(context.Background(), topic)
	if err != nil {
		t.Fatalf("members %s: %v", topic, err)
	}
	return m
}

func closeHub(t *testing.T, h *Hub) {
	t.Helper()
	if err := h.Close(); err != nil {
		t.Errorf("close hub: %v", err)
	}
}
