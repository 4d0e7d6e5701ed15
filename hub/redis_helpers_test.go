package hub

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisOptions returns options for the test Redis, or skips (fails in CI)
// when it is not reachable.
func redisOptions(t *testing.T) *redis.Options {
	t.Helper()
	url := os.Getenv("PARLEY_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("PARLEY_TEST_REDIS_URL=%q: %v", url, err)
	}
	probe := *opt
	probe.MaxRetries = -1 // answer at once when nothing listens
	c := redis.NewClient(&probe)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		msg := fmt.Sprintf("Redis at %s unreachable (%v); start one or set PARLEY_TEST_REDIS_URL", url, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return opt
}

// node is one "parley serve" process: its own Redis client and hub.
type node struct {
	hub    *Hub
	client *redis.Client
}

func newNode(t *testing.T, opt *redis.Options, channel string) node {
	t.Helper()
	o := *opt
	o.ClientName = fmt.Sprintf("parley-hubtest-%d", time.Now().UnixNano())
	c := redis.NewClient(&o)
	h := New(Config{Broker: NewRedisBroker(c, channel)})
	t.Cleanup(func() {
		closeHub(t, h)
		c.Close()
	})
	return node{h, c}
}

func testChannel(t *testing.T) string {
	return fmt.Sprintf("parley-test:%s:%d", t.Name(), time.Now().UnixNano())
}

// waitSubscribed waits until n connections subscribe to channel.
func waitSubscribed(t *testing.T, c *redis.Client, channel string, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		got, err := c.PubSubNumSub(context.Background(), channel).Result()
		if err == nil && got[channel] == n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: never got %d subscribers", channel, n)
}

// tally counts every frame a subscriber receives, on a goroutine of its own.
type tally struct {
	mu     sync.Mutex
	counts map[string]int
}

func newTally(t *testing.T, s *Subscriber) *tally {
	ta := &tally{counts: map[string]int{}}
	go func() {
		for {
			b, err := s.Next(context.Background())
			if err != nil {
				return
			}
			ta.mu.Lock()
			for _, f := range frames(b) {
				ta.counts[f]++
			}
			ta.mu.Unlock()
		}
	}()
	t.Cleanup(s.Close)
	return ta
}

func (ta *tally) waitFor(t *testing.T, f string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ta.mu.Lock()
		n := ta.counts[f]
		ta.mu.Unlock()
		if n > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("frame %s never arrived", f)
}

func (ta *tally) snapshot() map[string]int {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	out := make(map[string]int, len(ta.counts))
	for k, v := range ta.counts {
		out[k] = v
	}
	return out
}

// blackhole is a TCP proxy to Redis that can silently stop forwarding on the
// connections it has (a network cut that sends no RST), while new
// connections still get through.
type blackhole struct {
	ln  net.Listener
	gen atomic.Int64
}

func newBlackhole(t *testing.T, target string) *blackhole {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bh := &blackhole{ln: ln}
	var conns sync.WaitGroup
	t.Cleanup(func() { ln.Close(); conns.Wait() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			gen := bh.gen.Load()
			pipe := func(dst, src net.Conn) {
				defer conns.Done()
				defer dst.Close()
				defer src.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					if err != nil {
						return
					}
					if bh.gen.Load() != gen {
						continue // cut: swallow everything
					}
					if _, err := dst.Write(buf[:n]); err != nil {
						return
					}
				}
			}
			conns.Add(2)
			go pipe(out, in)
			go pipe(in, out)
			t.Cleanup(func() { in.Close(); out.Close() })
		}
	}()
	return bh
}

func (bh *blackhole) cut() { bh.gen.Add(1) }
