package loadtest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/hub"
	"github.com/redis/go-redis/v9"
)

// target is one server under test, Parley or the ceiling, seen the same
// way by the scenarios.
type target struct {
	Name     string
	PID      int // CPU and RSS are read from /proc/<PID>
	Endpoint endpoint
	// Publish sends one event to every socket of the target.
	Publish func(ctx context.Context, seq int64, frame []byte) error
	// Server-side figures; -1 when the target cannot tell.
	Dropped    func(ctx context.Context) int64 // sockets dropped as too slow, since start
	HeapInuse  func(ctx context.Context) int64 // Go heap in use, bytes
	StackInuse func(ctx context.Context) int64 // goroutine stacks, bytes
	PprofURL   string                          // base URL serving /debug/pprof/profile, or ""
	Stop       func() error
}

// startParleyTarget starts Parley and a hub "node" of the tool's own on the
// same Redis: its Publish reaches the server through pub/sub exactly as an
// event from another `parley serve` would, with no HTTP in the way.
func startParleyTarget(ctx context.Context, o parleyOptions, rdb *redis.Client, progress io.Writer) (*target, error) {
	channel := o.HubChannel
	if channel == "" {
		// What main.go uses: the channel carries the Redis database number.
		channel = fmt.Sprintf("parley:hub:%d", rdb.Options().DB)
	}
	srv, err := startParley(ctx, o, progress)
	if err != nil {
		return nil, err
	}
	node := hub.New(hub.Config{Broker: hub.NewRedisBroker(rdb, channel)})
	topic := "inbox:" + strconv.FormatInt(srv.inbox, 10)
	metric := func(ctx context.Context, name string) int64 {
		mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		m, err := srv.metrics(mctx, name)
		if err != nil {
			return -1
		}
		return int64(m[name])
	}
	return &target{
		Name:     "parley",
		PID:      srv.proc.PID(),
		Endpoint: endpoint{URL: "ws" + strings.TrimPrefix(srv.base, "http") + "/ws", Header: srv.header},
		Publish: func(ctx context.Context, seq int64, frame []byte) error {
			return node.Publish(ctx, hub.Event{Topic: topic, Seq: seq, Frame: frame})
		},
		Dropped:    func(ctx context.Context) int64 { return metric(ctx, "parley_hub_subscribers_dropped_total") },
		HeapInuse:  func(ctx context.Context) int64 { return metric(ctx, "go_memstats_heap_inuse_bytes") },
		StackInuse: func(ctx context.Context) int64 { return metric(ctx, "go_memstats_stack_inuse_bytes") },
		PprofURL:   os.Getenv("PARLEY_BENCH_PPROF_URL"), // a profiling build may serve one
		Stop: func() error {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = node.Shutdown(sctx)
			return srv.Stop()
		},
	}, nil
}

// startCeilingTarget re-executes this program (same arguments) as the
// ceiling server (see ceiling.go) and publishes to it on a Redis channel of
// its own.
func startCeilingTarget(ctx context.Context, rdb *redis.Client, redisURL string, buffer int, maxLife time.Duration) (*target, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("loadtest: own executable: %w", err)
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	cfg := ceilingConfig{RedisURL: redisURL, Channel: "parley:bench:ceiling:" + hex.EncodeToString(suffix),
		Buffer: buffer, MaxLife: maxLife}
	js, _ := json.Marshal(cfg)
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), roleEnv+"=ceiling", ceilingConfigEnv+"="+string(js))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("loadtest: ceiling stdin: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("loadtest: ceiling stdout: %w", err)
	}
	p, err := startProcess("ceiling server", cmd)
	if err != nil {
		return nil, err
	}
	stop := func() error {
		_ = stdin.Close() // the child stops when its stdin closes
		return p.Stop(15 * time.Second)
	}

	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
				ready <- addr
			}
		}
	}()
	var addr string
	select {
	case addr = <-ready:
	case <-time.After(20 * time.Second):
		_ = stop()
		return nil, fmt.Errorf("%w within 20s (it runs as %s %s with %s=ceiling)", errChildNotReady, exe,
			strings.Join(os.Args[1:], " "), roleEnv)
	case <-ctx.Done():
		_ = stop()
		return nil, ctx.Err()
	}

	statsURL := "http://" + addr + "/stats"
	stats := func(ctx context.Context) (ceilingStats, error) {
		var st ceilingStats
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(sctx, http.MethodGet, statsURL, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return st, err
		}
		defer resp.Body.Close()
		return st, json.NewDecoder(resp.Body).Decode(&st)
	}
	return &target{
		Name:     "ceiling",
		PID:      p.PID(),
		Endpoint: endpoint{URL: "ws://" + addr + "/ws"},
		Publish: func(ctx context.Context, _ int64, frame []byte) error {
			return rdb.Publish(ctx, cfg.Channel, frame).Err()
		},
		Dropped: func(ctx context.Context) int64 {
			st, err := stats(ctx)
			if err != nil {
				return -1
			}
			return st.Dropped
		},
		HeapInuse: func(ctx context.Context) int64 {
			st, err := stats(ctx)
			if err != nil {
				return -1
			}
			return int64(st.HeapInuse)
		},
		StackInuse: func(ctx context.Context) int64 {
			st, err := stats(ctx)
			if err != nil {
				return -1
			}
			return int64(st.StackInuse)
		},
		PprofURL: "http://" + addr,
		Stop:     stop,
	}, nil
}
