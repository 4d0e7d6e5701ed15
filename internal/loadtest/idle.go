package loadtest

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// idleOptions configures B4.
type idleOptions struct {
	common
	Sockets []int
	Hold    time.Duration // how long the sockets are held, watching for disconnects
	Settle  time.Duration // pause before each memory reading
	// ProfileDir, when set, receives heap and goroutine profiles of each
	// target serving pprof, taken just after connecting and at the end of
	// the hold (Parley is then started with PARLEY_PPROF_ADDR).
	ProfileDir string
}

// defaultIdleHold outlasts Parley's periodic session re-check (30 s) with
// room to spare: B4 measures the steady state, not the first seconds.
const defaultIdleHold = 75 * time.Second

// idleRun is one target at one socket count.
type idleRun struct {
	Target      string
	Wanted      int
	Connected   int
	DialError   string
	Subscribed  int   // sockets that received the check event
	RSSBefore   int64 // KiB, the server with no sockets
	RSSAfter    int64 // KiB, with the sockets open and subscribed
	RSSMax      int64 // KiB, highest while held
	RSSEnd      int64 // KiB, at the end of the hold
	HeapBefore  int64 // bytes of Go heap in use (-1: unknown)
	HeapAfter   int64
	StackBefore int64 // bytes of goroutine stacks (-1: unknown)
	StackAfter  int64
	SoftnetDrop uint64 // loopback packets the kernel dropped during the run (machine-wide)
	ClosedEarly int64  // sockets that ended before the hold (while connecting and warming up)
	Disconnects int64  // sockets that ended while held
	Reasons     string
	Held        time.Duration
}

// perSocketKiB is the RSS growth per connected socket at the end of the
// hold: by then a long hold has seen a forced GC (every 2 minutes) and the
// scavenger, so it is the steady state. perSocketAfterKiB is the same just
// after connecting.
func (r idleRun) perSocketKiB() float64 {
	if r.Connected == 0 {
		return 0
	}
	return float64(r.RSSEnd-r.RSSBefore) / float64(r.Connected)
}

func (r idleRun) perSocketAfterKiB() float64 {
	if r.Connected == 0 {
		return 0
	}
	return float64(r.RSSAfter-r.RSSBefore) / float64(r.Connected)
}

// heapPerSocketKiB is the Go heap growth per socket, or NaN if unknown.
func (r idleRun) heapPerSocketKiB() float64 {
	return growthKiB(r.HeapBefore, r.HeapAfter, r.Connected)
}

// stackPerSocketKiB is the goroutine stack growth per socket, or NaN.
func (r idleRun) stackPerSocketKiB() float64 {
	return growthKiB(r.StackBefore, r.StackAfter, r.Connected)
}

func growthKiB(before, after int64, n int) float64 {
	if n == 0 || before < 0 || after < 0 {
		return nanValue
	}
	return float64(after-before) / 1024 / float64(n)
}

func runIdleCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o idleOptions
	var counts string
	fs := flag.NewFlagSet("bench idle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.register(fs, 15*time.Minute)
	fs.StringVar(&counts, "sockets", "10000", "idle sockets; a comma-separated list runs each count")
	fs.DurationVar(&o.Hold, "hold", defaultIdleHold, "how long to hold the sockets open (B4: at least 60s, past the session re-check)")
	fs.DurationVar(&o.Settle, "settle", 3*time.Second, "pause before each memory reading")
	fs.StringVar(&o.ProfileDir, "profile-dir", "", "write heap and goroutine profiles of each target after connecting and after the hold")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.ParleyPprof = o.ProfileDir != ""
	var err error
	if o.Sockets, err = parseList("sockets", counts); err != nil {
		return err
	}
	targets, err := o.order()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	s, err := o.common.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(stderr, "file descriptor limit: %d (per process; each side of a socket needs one)\n", s.fdLimit)

	var runs []idleRun
	for _, n := range o.Sockets {
		for _, name := range targets {
			r, err := idleTarget(ctx, s, o, name, n)
			if err != nil {
				return fmt.Errorf("loadtest: idle %s %d: %w", name, n, err)
			}
			runs = append(runs, r)
		}
	}
	printIdle(stdout, o, s.fdLimit, runs)
	return nil
}

// idleTarget measures one target holding n idle sockets. A partial fleet
// (some sockets failed to connect) is reported, not treated as an error.
func idleTarget(ctx context.Context, s *session, o idleOptions, name string, n int) (idleRun, error) {
	r := idleRun{Target: name, Wanted: n}
	t, err := s.start(ctx, name)
	if err != nil {
		return r, err
	}
	defer func() {
		if err := t.Stop(); err != nil {
			fmt.Fprintln(s.progress, err)
		}
	}()
	if !sleepCtx(ctx, o.Settle) {
		return r, ctx.Err()
	}
	if r.RSSBefore, err = rssKiB(t.PID); err != nil {
		return r, err
	}
	r.HeapBefore, r.StackBefore = t.HeapInuse(ctx), t.StackInuse(ctx)
	drops0, _ := softnetDropped()

	fmt.Fprintf(s.progress, "%s: pid %d; dialling %d idle sockets\n", name, t.PID, n)
	f, err := dialFleet(ctx, t.Endpoint, s.fleet(n))
	if f == nil {
		return r, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		f.Close(cctx)
	}()
	if err != nil {
		r.DialError = strings.ReplaceAll(err.Error(), "\n", "; ")
		fmt.Fprintln(s.progress, err)
	}
	r.Connected = len(f.clients)
	// Subscriptions count: one small event proves every socket joined the
	// feed (and gives the rooms and queues their steady shape).
	if err := warmUp(ctx, t, f, 200, time.Minute); err != nil {
		fmt.Fprintf(s.progress, "%s: %v\n", name, err)
	}
	r.Subscribed = f.receivedAtLeast(0, 1)
	if !sleepCtx(ctx, o.Settle) {
		return r, ctx.Err()
	}
	if r.RSSAfter, err = rssKiB(t.PID); err != nil {
		return r, err
	}
	r.RSSMax, r.RSSEnd = r.RSSAfter, r.RSSAfter
	o.saveProfiles(ctx, s, t, n, "after")

	closed0 := f.closed.Load()
	r.ClosedEarly = closed0
	start := time.Now()
	for time.Since(start) < o.Hold {
		if !sleepCtx(ctx, min(time.Second, o.Hold-time.Since(start))) {
			return r, ctx.Err()
		}
		if rss, err := rssKiB(t.PID); err == nil {
			r.RSSMax = max(r.RSSMax, rss)
			r.RSSEnd = rss
		}
	}
	r.HeapAfter, r.StackAfter = t.HeapInuse(ctx), t.StackInuse(ctx)
	r.Held = time.Since(start)
	o.saveProfiles(ctx, s, t, n, "end")
	drops1, _ := softnetDropped()
	r.SoftnetDrop = drops1 - drops0
	r.Disconnects = f.closed.Load() - closed0
	r.Reasons = f.reasons()
	fmt.Fprintf(s.progress, "%s: %d/%d connected, %d subscribed, RSS %d → %d KiB, %d KiB at the end (%.1f KiB/socket), %d disconnects in %s\n",
		name, r.Connected, n, r.Subscribed, r.RSSBefore, r.RSSAfter, r.RSSEnd, r.perSocketKiB(), r.Disconnects, r.Held.Round(time.Second))
	return r, nil
}

// saveProfiles writes t's heap and goroutine profiles into the profile
// directory, if one is set and t serves pprof; a failure is reported, not
// fatal. The heap profile is that of the last GC: no GC is forced, so the
// readings that follow are undisturbed.
func (o idleOptions) saveProfiles(ctx context.Context, s *session, t *target, n int, when string) {
	if o.ProfileDir == "" || t.PprofURL == "" {
		return
	}
	for _, p := range []string{"heap", "goroutine"} {
		name := strings.ReplaceAll(t.Name, "/", "-")
		path := filepath.Join(o.ProfileDir, fmt.Sprintf("%s-%d-%s-%s.pprof", name, n, when, p))
		if err := fetchPprof(ctx, t.PprofURL+"/debug/pprof/"+p, path); err != nil {
			fmt.Fprintf(s.progress, "%s: %v\n", t.Name, err)
		}
	}
}

// printIdle writes the table and the ratios.
func printIdle(w io.Writer, o idleOptions, fdLimit uint64, runs []idleRun) {
	fmt.Fprintf(w, "## idle (B4): held %s\n\n", o.Hold)
	fmt.Fprintf(w, "Machine: %s. Date: %s. RLIMIT_NOFILE %d per process.\n\n", machine(), time.Now().Format("2006-01-02 15:04 MST"), fdLimit)
	fmt.Fprintln(w, "RSS before: the server with no sockets; after: sockets open and subscribed; end: after the hold (the")
	fmt.Fprintln(w, "per-socket figure, (end − before) / connected). Go heap and stacks: in use at the end minus before, per")
	fmt.Fprintln(w, "socket (part of the RSS figure). Loopback drops: packets the kernel dropped machine-wide (input backlog full).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | sockets wanted | connected | subscribed | RSS before KiB | RSS after KiB | RSS end KiB | RSS max KiB | KiB/socket after | KiB/socket end (RSS) | KiB/socket (Go heap) | KiB/socket (stacks) | disconnects while held | loopback drops |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range runs {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %d | %d | %d | %.1f | %.1f | %s | %s | %d | %d |\n", r.Target, r.Wanted, r.Connected, r.Subscribed,
			r.RSSBefore, r.RSSAfter, r.RSSEnd, r.RSSMax, r.perSocketAfterKiB(), r.perSocketKiB(), fmtFloat(r.heapPerSocketKiB(), 1),
			fmtFloat(r.stackPerSocketKiB(), 1), r.Disconnects, r.SoftnetDrop)
	}
	fmt.Fprintln(w)
	for _, r := range runs {
		if r.DialError != "" {
			fmt.Fprintf(w, "- %s, %d sockets: %s\n", r.Target, r.Wanted, r.DialError)
		}
		if r.Disconnects > 0 || r.ClosedEarly > 0 {
			fmt.Fprintf(w, "- %s, %d sockets: %d closed before the hold, %d while held: %s\n", r.Target, r.Wanted,
				r.ClosedEarly, r.Disconnects, r.Reasons)
		}
	}
	for _, p := range runs {
		if p.Target != "parley" {
			continue
		}
		for _, c := range runs {
			if strings.HasPrefix(c.Target, "ceiling") && c.Wanted == p.Wanted {
				fmt.Fprintf(w, "\n%d sockets: Parley / %s memory per socket (RSS): **%s** (goal ≤ 1.1×); Go heap: %s.\n",
					p.Wanted, c.Target, fmtRatio(Ratio(p.perSocketKiB(), c.perSocketKiB())),
					fmtRatio(Ratio(p.heapPerSocketKiB(), c.heapPerSocketKiB())))
			}
		}
	}
	fmt.Fprintln(w)
}
