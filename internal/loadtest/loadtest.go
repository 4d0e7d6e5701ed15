// Package loadtest is Parley's own load tool (quality.md, "Benchmarks"). Each
// scenario runs against a real `parley serve` process the tool starts, and
// measures, in the same run and the same way, a ceiling: the smallest
// fan-out server on the same websocket library (ceiling.go). It prints
// Markdown tables with the ratio Parley / ceiling for BENCHMARKS.md.
//
// Scenarios:
//
//	fanout  B1: N agent sockets on one inbox feed, 200-byte events at rising
//	        rates; deliveries/s, latency, losses, server CPU per million
//	idle    B4: N idle sockets; server memory per socket, disconnects
//	inbound B2: signed Vonage webhooks at a fixed rate while N agent
//	        sockets watch the inbox's chats list; webhook response time,
//	        webhook-to-screen latency, losses
//	email   N messages over SMTP from C concurrent clients to the
//	        listener, agent sockets watching the chats list; messages/s
//	        committed, listener-to-screen latency; the ceiling is an
//	        in-process SMTP listener that discards
//	chats   B5, B6: the Chats page, its searches and the Recipients
//	        search on generated data (100k conversations, 1M messages),
//	        for one or more binaries in turn; the ceiling is the store alone
//
// Everything runs on loopback and is bounded in time (-timeout); every
// process the tool starts (Parley, the ceiling server, a private
// redis-server) is stopped by its PID when the run ends, is interrupted,
// or fails, and is killed by the kernel if the tool itself dies.
package loadtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/hub"
	"github.com/redis/go-redis/v9"
)

// Main runs the load tool with args (scenario, then flags), e.g.
// `fanout -sockets 2000`. Results go to stdout as Markdown, progress to
// stderr. ctx ends the run early (stopping everything it started). When
// this process is the tool's own ceiling child, Main serves as that.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if IsChild() {
		if code := ChildMain(); code != 0 {
			return fmt.Errorf("loadtest: ceiling server exited with %d", code)
		}
		return nil
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, usage)
		return errors.New("loadtest: name a scenario: fanout, idle, inbound, chats or email")
	}
	scenario, args := args[0], args[1:]
	switch scenario {
	case "fanout":
		return runFanoutCmd(ctx, args, stdout, stderr)
	case "idle":
		return runIdleCmd(ctx, args, stdout, stderr)
	case "inbound":
		return runInboundCmd(ctx, args, stdout, stderr)
	case "chats":
		return runChatsCmd(ctx, args, stdout, stderr)
	case "email":
		return runEmailCmd(ctx, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	default:
		return fmt.Errorf("loadtest: unknown scenario %q\n\n%s", scenario, usage)
	}
}

const usage = `Usage: parley bench <scenario> [flags]

Scenarios:
  fanout   B1: sockets on one inbox feed, 200-byte events at rising rates
  idle     B4: idle sockets, server memory per socket, disconnects
  inbound  B2: signed Vonage webhooks at a fixed rate, agent sockets watching
           the chats list; webhook response time, webhook-to-screen latency
  chats    B5, B6: the Chats page and searches on generated data (100k
           conversations, 1M messages), each -bin in turn, and the store alone
  email    N messages over SMTP from C clients to the listener, agent sockets
           watching; messages/s committed, listener-to-screen latency, and the
           ceiling (an in-process SMTP listener that discards)

Run "parley bench <scenario> -h" for its flags. fanout and idle measure Parley
and, in the same run, the ceiling (a minimal coder/websocket fan-out server);
inbound measures Parley against the goals of quality.md B2.`

// common is the configuration every scenario shares.
type common struct {
	Targets     string
	Bin         string
	DatabaseURL string
	RedisURL    string
	RedisServer string
	Email       string
	Password    string
	HubChannel  string
	PerIP       int
	Concurrency int
	Buffer      int
	Timeout     time.Duration
	// ParleyPprof starts Parley serving /debug/pprof on a loopback port
	// of its own (the target's PprofURL).
	ParleyPprof bool
}

func (c *common) register(fs *flag.FlagSet, defTimeout time.Duration) {
	c.registerTargets(fs, defTimeout, "parley,ceiling",
		"servers to measure, in order: parley, ceiling, ceiling/N (the ceiling with an N-fragment channel per socket)")
}

// registerTargets is register with the -targets flag's default and text.
func (c *common) registerTargets(fs *flag.FlagSet, defTimeout time.Duration, defTargets, targetsUsage string) {
	fs.StringVar(&c.Targets, "targets", defTargets, targetsUsage)
	fs.StringVar(&c.Bin, "bin", "bin/parley", "the parley binary to run as the server")
	fs.StringVar(&c.DatabaseURL, "database-url", "postgres://postgres@127.0.0.1:5432/parley_bench?sslmode=disable",
		"PostgreSQL database of the benchmark's own (created, migrated and seeded if needed)")
	fs.StringVar(&c.RedisURL, "redis-url", "", "Redis no other Parley uses (empty: start a private redis-server)")
	fs.StringVar(&c.RedisServer, "redis-server", "redis-server", "redis-server binary for the private Redis")
	fs.StringVar(&c.Email, "email", "agent@demo.parley.test", "agent to sign in as")
	fs.StringVar(&c.Password, "password", "parley-demo-agent", "that agent's password")
	fs.StringVar(&c.HubChannel, "hub-channel", "", `Parley's hub pub/sub channel (empty: "parley:hub:<redis db>", as main.go names it)`)
	fs.IntVar(&c.PerIP, "per-ip", 5000, "client sockets per loopback source address (127.0.0.1, .2, ...)")
	fs.IntVar(&c.Concurrency, "dial-concurrency", 64, "websocket handshakes in flight at once")
	fs.IntVar(&c.Buffer, "buffer", hub.DefaultSubscriberBuffer, "ceiling: fragments queued per socket before it is dropped")
	fs.DurationVar(&c.Timeout, "timeout", defTimeout, "upper bound on the whole run")
}

// order lists the requested targets in the order given: "parley",
// "ceiling" (its channel holds -buffer fragments) or "ceiling/N" (N).
func (c *common) order() ([]string, error) {
	var out []string
	for t := range strings.SplitSeq(c.Targets, ",") {
		t = strings.TrimSpace(t)
		switch _, err := c.ceilingBuffer(t); {
		case t == "":
		case t == "parley" || err == nil:
			out = append(out, t)
		default:
			return nil, fmt.Errorf("loadtest: unknown target %q (parley, ceiling, ceiling/N)", t)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("loadtest: no targets")
	}
	return out, nil
}

// ceilingBuffer returns the channel size of a ceiling target name.
func (c *common) ceilingBuffer(name string) (int, error) {
	if name == "ceiling" {
		return c.Buffer, nil
	}
	if n, ok := strings.CutPrefix(name, "ceiling/"); ok {
		if b, err := strconv.Atoi(n); err == nil && b > 0 {
			return b, nil
		}
	}
	return 0, fmt.Errorf("loadtest: %q is not a ceiling target", name)
}

// session is what a run holds open: the Redis the targets and the tool
// share, and the file limit.
type session struct {
	cfg      common
	redisURL string
	rdb      *redis.Client
	private  *privateRedis
	fdLimit  uint64
	progress io.Writer
}

// open raises the file limit and starts (or connects to) Redis.
func (c common) open(ctx context.Context, progress io.Writer) (*session, error) {
	s := &session{cfg: c, progress: progress}
	lim, err := raiseFileLimit()
	if err != nil {
		return nil, err
	}
	s.fdLimit = lim
	s.redisURL = c.RedisURL
	if s.redisURL == "" {
		r, err := startRedis(ctx, c.RedisServer)
		if err != nil {
			return nil, err
		}
		s.private = r
		s.redisURL = r.URL
		fmt.Fprintf(progress, "private redis-server: pid %d at %s\n", r.proc.PID(), r.URL)
	}
	opt, err := redis.ParseURL(s.redisURL)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("loadtest: redis url: %w", err)
	}
	s.rdb = redis.NewClient(opt)
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		s.Close()
		return nil, fmt.Errorf("loadtest: redis at %s: %w", s.redisURL, err)
	}
	return s, nil
}

// redisCPU is the private redis-server's CPU seconds so far (0 if none).
func (s *session) redisCPU() float64 {
	if s.private == nil {
		return 0
	}
	c, _ := cpuSeconds(s.private.proc.PID())
	return c
}

// Close releases Redis (stopping the private one).
func (s *session) Close() {
	if s.rdb != nil {
		_ = s.rdb.Close()
	}
	if s.private != nil {
		s.private.Stop()
	}
}

// parleyOptions says how to run Parley in this session.
func (s *session) parleyOptions() parleyOptions {
	return parleyOptions{Bin: s.cfg.Bin, DatabaseURL: s.cfg.DatabaseURL, RedisURL: s.redisURL,
		Email: s.cfg.Email, Password: s.cfg.Password, HubChannel: s.cfg.HubChannel}
}

// start starts the named target; the caller stops it.
func (s *session) start(ctx context.Context, name string) (*target, error) {
	if name == "parley" {
		po := s.parleyOptions()
		var pprofURL string
		if s.cfg.ParleyPprof {
			addr, err := freeLoopbackAddr()
			if err != nil {
				return nil, err
			}
			po.ExtraEnv = append(po.ExtraEnv, "PARLEY_PPROF_ADDR="+addr)
			pprofURL = "http://" + addr
		}
		t, err := startParleyTarget(ctx, po, s.rdb, s.progress)
		if t != nil && pprofURL != "" {
			t.PprofURL = pprofURL
		}
		return t, err
	}
	buffer, err := s.cfg.ceilingBuffer(name)
	if err != nil {
		return nil, err
	}
	t, err := startCeilingTarget(ctx, s.rdb, s.redisURL, buffer, s.cfg.Timeout+time.Minute)
	if t != nil {
		t.Name = name
	}
	return t, err
}

// fleetOptions for n sockets.
func (s *session) fleet(n int) fleetOptions {
	return fleetOptions{Sockets: n, PerSourceIP: s.cfg.PerIP, Concurrency: s.cfg.Concurrency}
}

// parseList reads a flag's list of positive numbers, e.g. "25,50,100".
func parseList(name, s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("loadtest: bad number %q in -%s", f, name)
		}
		out = append(out, n)
	}
	if len(out) == 0 || len(out) >= maxSteps {
		return nil, fmt.Errorf("loadtest: -%s needs 1 to %d numbers", name, maxSteps-1)
	}
	return out, nil
}

// sleepCtx sleeps d or until ctx ends, reporting whether it slept fully.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// machine describes the host for the report header.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				mem = fmt.Sprintf(", %.1f GiB RAM", float64(kb)/(1<<20))
			}
		}
	}
	return fmt.Sprintf("%d CPUs (%s)%s", runtime.NumCPU(), cpu, mem)
}
