package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// maxSteps bounds the steps one fleet records (the warm-up is step 0).
const maxSteps = 64

// histShards spreads the clients' atomic adds over a few histograms per
// step, so two cores do not fight over one cache line per delivery.
const histShards = 8

// endpoint is where and how clients connect.
type endpoint struct {
	URL    string      // ws://127.0.0.1:port/ws
	Header http.Header // Cookie and Origin for Parley; none for the ceiling
}

// fleetOptions shapes how a fleet dials.
type fleetOptions struct {
	Sockets     int
	PerSourceIP int           // sockets per loopback source address (127.0.0.1, .2, …)
	Concurrency int           // handshakes in flight at once
	DialTimeout time.Duration // per handshake
	// Hello, when set, is sent on every socket right after it connects, as
	// a browser sends its first control message.
	Hello []byte
	// OnMessage, when set, receives every message instead of the bench
	// fragment parser: the client's index, the message (valid only during
	// the call) and when it was read. It runs on the client's own reader
	// goroutine, so state indexed by the client needs no lock.
	OnMessage func(id int, msg []byte, at time.Time)
}

// fleet is many websocket clients that read, parse and time every fragment.
// It records, per step: fragments received (per client, to count losses
// precisely), the last receive time, and a latency histogram.
type fleet struct {
	clients []*client
	hists   [maxSteps][histShards]Histogram

	// closed counts clients whose socket ended while the fleet was open
	// (server dropped it, or it failed); closeReasons keeps a few reasons.
	closed       atomic.Int64
	reasonsMu    sync.Mutex
	closeReasons map[string]int

	closing   atomic.Bool
	wg        sync.WaitGroup
	onMessage func(id int, msg []byte, at time.Time)
}

// client is one socket and its per-step counters. Only its own goroutine
// writes them; the fleet reads them after a step (hence atomics).
type client struct {
	id   int
	conn *websocket.Conn
	got  [maxSteps]atomic.Int64
	last [maxSteps]atomic.Int64 // Unix nanoseconds of the last receipt
	dead atomic.Bool
}

// dialFleet opens opt.Sockets sockets to ep, opt.Concurrency at a time, and
// starts a reader per socket. It returns the fleet with every socket that
// connected, and an error describing the failures if any did not (the
// caller decides whether a partial fleet is useful). ctx bounds the dialling.
func dialFleet(ctx context.Context, ep endpoint, opt fleetOptions) (*fleet, error) {
	f := &fleet{closeReasons: map[string]int{}, onMessage: opt.OnMessage}
	if opt.PerSourceIP <= 0 {
		opt.PerSourceIP = 5000
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 64
	}
	if opt.DialTimeout <= 0 {
		opt.DialTimeout = 30 * time.Second
	}
	// One HTTP client per source address. Each (source, destination) pair
	// has its own ~28k ephemeral ports, so spreading over 127.0.0.x lifts
	// the per-destination port limit (and TIME_WAIT left by earlier runs).
	// Every socket costs a descriptor here: past the file limit, dialling
	// more would fail and starve the tool of descriptors it needs for
	// everything else, so only as many as fit are dialled.
	var limited error
	if room := fdRoom(); room >= 0 && opt.Sockets > room {
		var lim syscall.Rlimit
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		limited = fmt.Errorf("loadtest: only %d of %d sockets dialled: RLIMIT_NOFILE is %d here (hard limit %d; raising the hard limit needs CAP_SYS_RESOURCE)",
			room, opt.Sockets, lim.Cur, lim.Max)
		opt.Sockets = room
	}
	nIPs := (opt.Sockets + opt.PerSourceIP - 1) / opt.PerSourceIP
	if nIPs > 250 {
		return nil, fmt.Errorf("loadtest: %d sockets need %d source addresses; raise -per-ip", opt.Sockets, nIPs)
	}
	httpClients := make([]*http.Client, nIPs)
	for i := range httpClients {
		// No TCP keepalive probes: thousands of sockets opened together
		// probe together, and on loopback such bursts overflow the input
		// backlog (see softnetDropped), so unanswered probes would end
		// healthy idle sockets. Dead-peer detection is not needed here.
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i))}, Timeout: opt.DialTimeout,
			KeepAlive: -1}
		httpClients[i] = &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: -1}}
	}

	clients := make([]*client, opt.Sockets)
	errs := make([]error, opt.Sockets)
	sem := make(chan struct{}, opt.Concurrency)
	var wg sync.WaitGroup
	for i := range clients {
		if ctx.Err() != nil {
			errs[i] = ctx.Err()
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			dctx, cancel := context.WithTimeout(ctx, opt.DialTimeout)
			defer cancel()
			conn, resp, err := websocket.Dial(dctx, ep.URL, &websocket.DialOptions{
				HTTPClient: httpClients[i/opt.PerSourceIP], HTTPHeader: ep.Header,
			})
			if err != nil {
				if resp != nil {
					err = fmt.Errorf("%w (HTTP %d)", err, resp.StatusCode)
				}
				errs[i] = err
				return
			}
			conn.SetReadLimit(1 << 24) // coalesced writes can carry hundreds of fragments
			if opt.Hello != nil {
				if err := conn.Write(dctx, websocket.MessageText, opt.Hello); err != nil {
					_ = conn.CloseNow()
					errs[i] = fmt.Errorf("hello: %w", err)
					return
				}
			}
			clients[i] = &client{id: i, conn: conn}
		})
	}
	wg.Wait()

	var failed int
	var firstErr error
	for i, c := range clients {
		if c == nil {
			failed++
			if firstErr == nil {
				firstErr = errs[i]
			}
			continue
		}
		f.clients = append(f.clients, c)
	}
	for _, c := range f.clients {
		f.wg.Go(func() { f.read(c) })
	}
	if failed > 0 {
		return f, errors.Join(limited, fmt.Errorf("loadtest: %d of %d sockets failed to connect; first error: %w", failed, opt.Sockets, firstErr))
	}
	return f, limited
}

// read consumes c's messages until its socket ends. Reads use a context
// without a deadline (coder/websocket then arms no timer per read); Close
// ends them by closing the sockets.
func (f *fleet) read(c *client) {
	buf := make([]byte, 0, 4096)
	shard := c.id % histShards
	for {
		_, r, err := c.conn.Reader(context.Background())
		if err == nil {
			buf, err = readAll(r, buf[:0])
		}
		if err != nil {
			c.dead.Store(true)
			if !f.closing.Load() {
				f.closed.Add(1)
				f.noteReason(err)
			}
			return
		}
		now := time.Now()
		if f.onMessage != nil {
			f.onMessage(c.id, buf, now)
			if cap(buf) > 1<<20 {
				buf = make([]byte, 0, 4096)
			}
			continue
		}
		nowNano := now.UnixNano()
		parseFrames(buf, func(step int, sent int64) {
			if step < 0 || step >= maxSteps {
				return
			}
			c.got[step].Add(1)
			c.last[step].Store(nowNano)
			f.hists[step][shard].Record(time.Duration(nowNano - sent))
		})
		if cap(buf) > 1<<20 {
			buf = make([]byte, 0, 4096) // do not keep a burst's buffer
		}
	}
}

// readAll appends r's bytes to buf, growing it as needed.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// noteReason keeps a count of why sockets ended (close status or error).
func (f *fleet) noteReason(err error) {
	reason := err.Error()
	if st := websocket.CloseStatus(err); st != -1 {
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			reason = fmt.Sprintf("close %d %q", int(st), ce.Reason)
		}
	}
	// Group alike errors: drop the addresses ("read tcp a->b: ...").
	if i := strings.Index(reason, "read tcp "); i >= 0 {
		if j := strings.Index(reason[i:], ": "); j >= 0 {
			reason = reason[:i] + "read tcp" + reason[i+j:]
		}
	}
	if len(reason) > 120 {
		reason = reason[:120]
	}
	f.reasonsMu.Lock()
	f.closeReasons[reason]++
	f.reasonsMu.Unlock()
}

// reasons returns why sockets ended, e.g. `close 1008 "too slow"×12`.
func (f *fleet) reasons() string {
	f.reasonsMu.Lock()
	defer f.reasonsMu.Unlock()
	s := ""
	for r, n := range f.closeReasons {
		if s != "" {
			s += "; "
		}
		s += fmt.Sprintf("%s ×%d", r, n)
	}
	return s
}

// alive counts sockets still open.
func (f *fleet) alive() int {
	n := 0
	for _, c := range f.clients {
		if !c.dead.Load() {
			n++
		}
	}
	return n
}

// stepResult is what the fleet saw of one step.
type stepResult struct {
	Received int64         // fragments of the step received, over all sockets
	Last     time.Time     // latest receipt of one of them
	Latency  *Distribution // send → receive
}

// result sums step's counters over all clients.
func (f *fleet) result(step int) stepResult {
	var r stepResult
	var last int64
	for _, c := range f.clients {
		r.Received += c.got[step].Load()
		last = max(last, c.last[step].Load())
	}
	if last > 0 {
		r.Last = time.Unix(0, last)
	}
	r.Latency = &Distribution{}
	for i := range f.hists[step] {
		r.Latency.Merge(f.hists[step][i].Snapshot())
	}
	return r
}

// receivedAtLeast counts clients that received at least want fragments of step.
func (f *fleet) receivedAtLeast(step int, want int64) int {
	n := 0
	for _, c := range f.clients {
		if c.got[step].Load() >= want {
			n++
		}
	}
	return n
}

// Close closes every socket (without waiting for close handshakes) and
// waits, bounded by ctx, for the readers to end.
func (f *fleet) Close(ctx context.Context) {
	f.closing.Store(true)
	for _, c := range f.clients {
		_ = c.conn.CloseNow()
	}
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
