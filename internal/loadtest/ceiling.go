package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
)

// The ceiling is the smallest honest fan-out server on the same library:
// net/http, websocket.Accept, and per socket a reader (the handler
// goroutine), a writer goroutine and a buffered channel of fragments. The
// writer coalesces everything queued into one websocket message (what
// quality.md B1 says a fan-out must do), a socket whose channel is full is
// dropped (the same policy as Parley's hub), and every write has a timeout,
// as any server exposed to real clients needs. Events arrive the way they
// reach a Parley node: one Redis pub/sub channel, here carrying the bare
// fragment.
//
// It runs in a child process (this same program re-executed with the
// environment variable roleEnv set), so its CPU time and memory are read
// from /proc exactly like Parley's, apart from the clients'.

// Environment of the child process.
const (
	roleEnv          = "PARLEY_LOADTEST_ROLE"   // "ceiling" selects the child role
	ceilingConfigEnv = "PARLEY_LOADTEST_CONFIG" // JSON ceilingConfig
)

// ceilingConfig is what the parent tells the child.
type ceilingConfig struct {
	RedisURL string        `json:"redis_url"`
	Channel  string        `json:"channel"`
	Buffer   int           `json:"buffer"`   // fragments queued per socket before it is dropped
	MaxLife  time.Duration `json:"max_life"` // the child exits after this long whatever happens
}

// ceilingWriteTimeout bounds one socket write, as Parley's wsWriteTimeout.
const ceilingWriteTimeout = 10 * time.Second

// IsChild reports whether this process was started as the load tool's
// ceiling server; a program embedding the tool should then call ChildMain
// before anything else. Main does this by itself.
func IsChild() bool { return os.Getenv(roleEnv) == "ceiling" }

// ChildMain runs the ceiling server of a parent load tool until the parent
// closes its stdin, a signal arrives or its maximum life ends. It prints
// "ready <addr>" on stdout once it accepts connections and returns the exit
// code.
func ChildMain() int {
	var cfg ceilingConfig
	if err := json.Unmarshal([]byte(os.Getenv(ceilingConfigEnv)), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest ceiling: bad config:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.MaxLife)
	defer cancel()
	go func() { // the parent went away: stop
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := serveCeiling(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest ceiling:", err)
		return 1
	}
	return 0
}

// ceilingServer is the child's state.
type ceilingServer struct {
	buffer  int
	mu      sync.Mutex
	socks   map[*ceilingSock]struct{}
	list    atomic.Pointer[[]*ceilingSock] // copy of socks for the fan-out loop
	dropped atomic.Int64
	frames  atomic.Int64
}

type ceilingSock struct {
	conn *websocket.Conn
	ch   chan []byte
	done chan struct{}
	once sync.Once
}

func (s *ceilingSock) close() { s.once.Do(func() { close(s.done) }) }

// serveCeiling listens on a loopback port, prints "ready <addr>", and fans
// the Redis channel's messages out until ctx ends.
func serveCeiling(ctx context.Context, cfg ceilingConfig, out io.Writer) error {
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("redis url: %w", err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ps := rdb.Subscribe(ctx, cfg.Channel)
	defer ps.Close()
	// A blocked receive does not watch ctx; closing the subscription ends it.
	stopAfter := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stopAfter()
	if _, err := ps.Receive(ctx); err != nil { // the subscription confirmation
		return fmt.Errorf("redis subscribe: %w", err)
	}

	s := &ceilingServer{buffer: max(cfg.Buffer, 1), socks: map[*ceilingSock]struct{}{}}
	s.list.Store(&[]*ceilingSock{})
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", s.serveWS)
	mux.HandleFunc("/stats", s.serveStats)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	// No TCP keepalive on accepted sockets either (see the fleet's dialer).
	ln, err := (&net.ListenConfig{KeepAlive: -1}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		s.closeAll()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Fprintf(out, "ready %s\n", ln.Addr())

	for ctx.Err() == nil {
		msg, err := ps.ReceiveMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("redis receive: %w", err)
		}
		s.fanOut([]byte(msg.Payload))
	}
	return nil
}

// fanOut queues frame on every socket without waiting; a full queue drops
// the socket.
func (s *ceilingServer) fanOut(frame []byte) {
	for _, k := range *s.list.Load() {
		select {
		case k.ch <- frame:
			s.frames.Add(1)
		default:
			s.dropped.Add(1)
			s.remove(k)
			k.close()
		}
	}
}

func (s *ceilingServer) add(k *ceilingSock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.socks[k] = struct{}{}
	s.publishList()
}

func (s *ceilingServer) remove(k *ceilingSock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.socks[k]; ok {
		delete(s.socks, k)
		s.publishList()
	}
}

// publishList rebuilds the fan-out copy; s.mu is held. Joins and leaves
// are rare next to events, so copying on change keeps fan-out lock-free.
func (s *ceilingServer) publishList() {
	l := make([]*ceilingSock, 0, len(s.socks))
	for k := range s.socks {
		l = append(l, k)
	}
	s.list.Store(&l)
}

func (s *ceilingServer) closeAll() {
	s.mu.Lock()
	socks := make([]*ceilingSock, 0, len(s.socks))
	for k := range s.socks {
		socks = append(socks, k)
	}
	s.mu.Unlock()
	for _, k := range socks {
		k.close()
	}
}

// serveWS accepts a socket and reads it (control frames) in the handler
// goroutine while a writer goroutine drains its queue: two goroutines and
// one channel per socket.
func (s *ceilingServer) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	conn.SetReadLimit(4096)
	k := &ceilingSock{conn: conn, ch: make(chan []byte, s.buffer), done: make(chan struct{})}
	s.add(k)
	defer s.remove(k)
	go s.write(k)
	for {
		if _, _, err := conn.Read(context.Background()); err != nil {
			k.close()
			return
		}
	}
}

// write sends queued fragments, everything queued at once in one message.
// When the socket ends it closes it, with "too slow" (Parley's reason) if
// the fan-out dropped it; if the client went away that close fails at once.
func (s *ceilingServer) write(k *ceilingSock) {
	var buf []byte
	for {
		var frame []byte
		select {
		case frame = <-k.ch:
		case <-k.done:
			_ = k.conn.Close(websocket.StatusPolicyViolation, "too slow")
			return
		}
		msg := frame
		if len(k.ch) > 0 {
			buf = append(buf[:0], frame...)
			for more := true; more; {
				select {
				case f := <-k.ch:
					buf = append(buf, f...)
				default:
					more = false
				}
			}
			msg = buf
		}
		ctx, cancel := context.WithTimeout(context.Background(), ceilingWriteTimeout)
		err := k.conn.Write(ctx, websocket.MessageText, msg)
		cancel()
		if err != nil {
			k.close()
			_ = k.conn.CloseNow()
			return
		}
		if cap(buf) > 64<<10 {
			buf = nil // an idle socket keeps no burst buffer
		}
	}
}

// ceilingStats is the child's /stats answer.
type ceilingStats struct {
	Sockets    int    `json:"sockets"`
	Dropped    int64  `json:"dropped"`
	Frames     int64  `json:"frames"`
	HeapInuse  uint64 `json:"heap_inuse"`
	StackInuse uint64 `json:"stack_inuse"`
	Goroutines int    `json:"goroutines"`
}

func (s *ceilingServer) serveStats(w http.ResponseWriter, _ *http.Request) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.mu.Lock()
	n := len(s.socks)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ceilingStats{
		Sockets: n, Dropped: s.dropped.Load(), Frames: s.frames.Load(),
		HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse, Goroutines: runtime.NumGoroutine(),
	})
}

// errChildNotReady reports a child that never said "ready".
var errChildNotReady = errors.New("loadtest: ceiling server did not start")
