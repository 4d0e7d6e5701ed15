package loadtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// fanoutOptions configures B1.
type fanoutOptions struct {
	common
	Sockets  int
	Rates    []int // events per second, one step each
	Step     time.Duration
	Drain    time.Duration // after a step's last event, how long to wait for the rest
	Frame    int           // bytes per event
	StopLoss float64       // stop the ramp after a step losing more than this fraction
	MaxOther float64       // cores other processes may use during a step before it is measured again
	Retries  int           // how many times a disturbed step is measured again
	Profile  string        // directory for CPU profiles per step ("" = none)
	PeakP99  time.Duration // a step counts towards the peak only with p99 within this
}

// stepStats is one step's measurements on one target.
type stepStats struct {
	Rate       int     // events/s published
	Events     int     // events published
	Sockets    int     // sockets open at the step's start
	Offered    float64 // deliveries/s: Rate × Sockets
	Achieved   float64 // deliveries/s: received / max(step, last receipt − start)
	Received   int64
	Lost       int64 // expected − received after the drain
	P50, P99   time.Duration
	P999, Max  time.Duration
	Dropped    int64   // sockets the server dropped as too slow during the step (-1: unknown)
	Closed     int64   // sockets that ended during the step, seen by clients
	ServerCPU  float64 // seconds, from the step's start to the end of its drain
	ClientCPU  float64 // the tool's own seconds (clients and publisher) over the same span
	RedisCPU   float64 // the private redis-server's seconds (0 with -redis-url)
	OtherCPU   float64 // everything else on the machine: noise from other work
	CPUPerM    float64 // server CPU-seconds per million deliveries
	PublishLag time.Duration
	Window     time.Duration // from the step's start to the end of its drain
	Tries      int           // measurements taken (more than 1: earlier ones were disturbed)
}

// fanoutRun is one target's whole ramp.
type fanoutRun struct {
	Target string
	Steps  []stepStats
	Note   string
	// IdleCPU is the server's CPU use with the sockets open and no events
	// (CPU-seconds per second): background work included in every step.
	IdleCPU float64
}

// peak is the highest achieved deliveries/s of a step that lost nothing
// (no socket dropped, every delivery made) with a p99 latency within
// limit: what the server sustains while still useful to an agent. (Past
// its limit a server may lose nothing yet fall seconds behind: the backlog
// then sits before the fan-out, where nothing is dropped.)
func (r *fanoutRun) peak(limit time.Duration) float64 {
	p := 0.0
	for _, s := range r.Steps {
		if s.Lost == 0 && s.Closed == 0 && s.P99 <= limit {
			p = max(p, s.Achieved)
		}
	}
	return p
}

// highest is the highest achieved deliveries/s of any step, lossy or not.
func (r *fanoutRun) highest() float64 {
	p := 0.0
	for _, s := range r.Steps {
		p = max(p, s.Achieved)
	}
	return p
}

func runFanoutCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o fanoutOptions
	var rates string
	fs := flag.NewFlagSet("bench fanout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.register(fs, 15*time.Minute)
	fs.IntVar(&o.Sockets, "sockets", 2000, "agent sockets on the feed")
	fs.StringVar(&rates, "rates", "25,50,100,200,300,400,500,600,800,1000,1200,1500,2000,2500,3000",
		"events per second, one step each (the ramp ends at the first step losing more than -stop-loss)")
	fs.DurationVar(&o.Step, "step", 5*time.Second, "length of each step")
	fs.DurationVar(&o.Drain, "drain", 5*time.Second, "longest wait after a step for its last deliveries")
	fs.IntVar(&o.Frame, "frame", 200, "bytes per event")
	fs.Float64Var(&o.StopLoss, "stop-loss", 0.05, "end the ramp after a step that loses more than this fraction")
	fs.Float64Var(&o.MaxOther, "max-other", 0.25,
		"measure a step again when other processes used more than this many cores during it (noise)")
	fs.IntVar(&o.Retries, "retries", 3, "how many times to measure a disturbed step again")
	fs.DurationVar(&o.PeakP99, "peak-p99", time.Second, "a step counts towards the peak only if lossless with p99 within this")
	fs.StringVar(&o.Profile, "profile-dir", "", "write a CPU profile per step of each target serving pprof")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if o.Rates, err = parseList("rates", rates); err != nil {
		return err
	}
	if o.Frame < minFrame {
		return fmt.Errorf("loadtest: -frame must be at least %d bytes", minFrame)
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
	fmt.Fprintf(stderr, "file descriptor limit: %d\n", s.fdLimit)

	// Every target runs at once, each with its own fleet, and the ramp
	// alternates between them rate by rate: a burst of other work on the
	// machine then hits both sides of a comparison alike, not one.
	var cs []*contender
	defer func() {
		for _, c := range cs {
			c.close(s.progress)
		}
	}()
	for _, name := range targets {
		c, err := startContender(ctx, s, o, name)
		if c != nil {
			cs = append(cs, c)
		}
		if err != nil {
			return fmt.Errorf("loadtest: fanout %s: %w", name, err)
		}
	}
	for _, rate := range o.Rates {
		for _, c := range cs {
			if c.done {
				continue
			}
			if err := c.measure(ctx, s, o, rate); err != nil {
				return fmt.Errorf("loadtest: fanout %s at %d ev/s: %w", c.t.Name, rate, err)
			}
		}
	}
	runs := make([]*fanoutRun, len(cs))
	for i, c := range cs {
		runs[i] = c.run
	}
	printFanout(stdout, o, runs)
	return nil
}

// contender is one target in a fan-out run: its server, its sockets, its
// results so far.
type contender struct {
	t    *target
	f    *fleet
	step int // the last step index used on f (0 is the warm-up)
	run  *fanoutRun
	done bool // the ramp stopped for it
}

// startContender starts the target, opens its sockets and measures its
// background CPU use.
func startContender(ctx context.Context, s *session, o fanoutOptions, name string) (*contender, error) {
	t, err := s.start(ctx, name)
	if err != nil {
		return nil, err
	}
	c := &contender{t: t, run: &fanoutRun{Target: name}}
	if err := c.dial(ctx, s, o); err != nil {
		return c, err
	}
	idle0, err := cpuSeconds(t.PID)
	if err != nil {
		return c, err
	}
	if !sleepCtx(ctx, 3*time.Second) {
		return c, ctx.Err()
	}
	idle1, err := cpuSeconds(t.PID)
	if err != nil {
		return c, err
	}
	c.run.IdleCPU = (idle1 - idle0) / 3
	return c, nil
}

// dial opens a fresh fleet (closing the old one), warms it up and lets the
// connection storm's garbage be collected.
func (c *contender) dial(ctx context.Context, s *session, o fanoutOptions) error {
	c.closeFleet()
	fmt.Fprintf(s.progress, "%s: pid %d; dialling %d sockets\n", c.t.Name, c.t.PID, o.Sockets)
	began := time.Now()
	f, err := dialFleet(ctx, c.t.Endpoint, s.fleet(o.Sockets))
	c.f, c.step = f, 0
	if err != nil {
		return err
	}
	fmt.Fprintf(s.progress, "%s: %d sockets open in %s\n", c.t.Name, len(f.clients), time.Since(began).Round(time.Millisecond))
	if err := warmUp(ctx, c.t, f, o.Frame, time.Minute); err != nil {
		return err
	}
	if !sleepCtx(ctx, time.Second) {
		return ctx.Err()
	}
	return nil
}

// measure runs one rate's step, again (up to o.Retries times) while other
// processes took more than o.MaxOther cores during it, and records the
// least disturbed try (the one during which other processes used the
// least CPU). A fleet that lost sockets is re-dialled first.
func (c *contender) measure(ctx context.Context, s *session, o fanoutOptions, rate int) error {
	var st, best stepStats
	for try := 0; ; try++ {
		if c.f.alive() < o.Sockets || c.step+1 >= maxSteps {
			if err := c.dial(ctx, s, o); err != nil {
				return err
			}
		}
		c.step++
		var err error
		st, err = fanoutStep(ctx, s, o, c.t, c.f, c.step, rate)
		if err != nil {
			return err
		}
		st.Tries = try + 1
		if try == 0 || st.OtherCPU/st.Window.Seconds() < best.OtherCPU/best.Window.Seconds() {
			best = st
		}
		fmt.Fprintf(s.progress, "%s: %4d ev/s × %d: offered %.0f/s achieved %.0f/s p50 %s ms p99 %s ms lost %d dropped %d cpu %.2fs (%s s/M) tool %.2fs other %.2fs\n",
			c.t.Name, rate, st.Sockets, st.Offered, st.Achieved, fmtMs(st.P50), fmtMs(st.P99), st.Lost, st.Dropped,
			st.ServerCPU, fmtFloat(st.CPUPerM, 2), st.ClientCPU, st.OtherCPU)
		if st.OtherCPU <= o.MaxOther*st.Window.Seconds() || try >= o.Retries {
			break
		}
		fmt.Fprintf(s.progress, "%s: other processes took %.2f CPU-s during the step; measuring it again\n", c.t.Name, st.OtherCPU)
		if !sleepCtx(ctx, 3*time.Second) {
			return ctx.Err()
		}
	}
	tries := st.Tries
	st = best
	st.Tries = tries
	c.run.Steps = append(c.run.Steps, st)
	expected := float64(st.Events) * float64(st.Sockets)
	if expected > 0 && float64(st.Lost)/expected > o.StopLoss {
		c.done = true
		c.run.Note = fmt.Sprintf("ramp stopped after %d ev/s: %.1f %% of deliveries lost (sockets ended: %s)",
			rate, 100*float64(st.Lost)/expected, c.f.reasons())
	}
	return nil
}

// closeFleet closes the sockets, bounded.
func (c *contender) closeFleet() {
	if c.f == nil {
		return
	}
	cctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c.f.Close(cctx)
	c.f = nil
}

// close closes the sockets and stops the server.
func (c *contender) close(progress io.Writer) {
	c.closeFleet()
	if err := c.t.Stop(); err != nil {
		fmt.Fprintln(progress, err)
	}
}

// warmUp publishes step-0 events until every socket has received one: the
// server has joined all of them to the feed.
func warmUp(ctx context.Context, t *target, f *fleet, size int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for seq := int64(1); ; seq++ {
		if err := t.Publish(ctx, -seq, makeFrame(0, time.Now().UnixNano(), size)); err != nil {
			return fmt.Errorf("warm-up publish: %w", err)
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
		alive := f.alive()
		if n := f.receivedAtLeast(0, 1); n >= alive {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d sockets received an event within %s (%s)", n, alive, limit, f.reasons())
		}
	}
}

// fanoutStep publishes rate events/s for o.Step, waits for the deliveries
// (at most o.Drain) and measures.
func fanoutStep(ctx context.Context, s *session, o fanoutOptions, t *target, f *fleet, step, rate int) (stepStats, error) {
	st := stepStats{Rate: rate, Sockets: f.alive(), Events: int(float64(rate) * o.Step.Seconds())}
	st.Offered = float64(rate) * float64(st.Sockets)
	closed0 := f.closed.Load()
	dropped0 := t.Dropped(ctx)
	cpu0, err := cpuSeconds(t.PID)
	if err != nil {
		return st, err
	}
	self0, _ := cpuSeconds(os.Getpid())
	redis0 := s.redisCPU()
	sys0, _ := systemBusySeconds()
	var profDone chan struct{}
	if o.Profile != "" && t.PprofURL != "" {
		profDone = make(chan struct{})
		go func() {
			defer close(profDone)
			path := filepath.Join(o.Profile, fmt.Sprintf("%s-%d.pprof", t.Name, rate))
			if err := fetchProfile(ctx, t.PprofURL, o.Step, path); err != nil {
				fmt.Fprintln(s.progress, "profile:", err)
			}
		}()
	}

	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := range st.Events {
		if !sleepCtx(ctx, time.Until(start.Add(time.Duration(i)*interval))) {
			return st, ctx.Err()
		}
		seq := int64(step)<<32 | int64(i)
		if err := t.Publish(ctx, seq, makeFrame(step, time.Now().UnixNano(), o.Frame)); err != nil {
			return st, fmt.Errorf("publish: %w", err)
		}
	}
	st.PublishLag = time.Since(start) - o.Step + interval

	expected := int64(st.Events) * int64(st.Sockets)
	drainEnd := time.Now().Add(o.Drain)
	for time.Now().Before(drainEnd) {
		var got int64
		for _, c := range f.clients {
			got += c.got[step].Load()
		}
		if got >= expected || !sleepCtx(ctx, 20*time.Millisecond) {
			break
		}
	}
	if profDone != nil {
		<-profDone
	}
	cpu1, err := cpuSeconds(t.PID)
	if err != nil {
		return st, err
	}
	self1, _ := cpuSeconds(os.Getpid())
	st.Window = time.Since(start)
	redis1 := s.redisCPU()
	sys1, _ := systemBusySeconds()

	r := f.result(step)
	st.Received = r.Received
	st.Lost = expected - r.Received
	elapsed := o.Step
	if !r.Last.IsZero() {
		elapsed = max(elapsed, r.Last.Sub(start))
	}
	st.Achieved = float64(r.Received) / elapsed.Seconds()
	st.P50, st.P99 = r.Latency.Quantile(0.50), r.Latency.Quantile(0.99)
	st.P999, st.Max = r.Latency.Quantile(0.999), r.Latency.Quantile(1)
	st.Closed = f.closed.Load() - closed0
	st.Dropped = -1
	if dropped0 >= 0 {
		if d := t.Dropped(ctx); d >= 0 {
			st.Dropped = d - dropped0
		}
	}
	st.ServerCPU = cpu1 - cpu0
	st.ClientCPU = self1 - self0
	st.RedisCPU = redis1 - redis0
	st.OtherCPU = max(0, (sys1-sys0)-st.ServerCPU-st.ClientCPU-st.RedisCPU)
	st.CPUPerM = perMillion(st.ServerCPU, r.Received)
	return st, nil
}

// fetchProfile saves a CPU profile of d from base's /debug/pprof/profile.
func fetchProfile(ctx context.Context, base string, d time.Duration, path string) error {
	secs := max(1, int(math.Round(d.Seconds())))
	cctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	return fetchPprof(cctx, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, secs), path)
}

// fetchPprof saves the profile at url (a /debug/pprof endpoint) to path.
func fetchPprof(ctx context.Context, url, path string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch %s: HTTP %d", path, resp.StatusCode)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, resp.Body)
	return errors.Join(err, out.Close())
}

// printFanout writes the per-target tables and the comparison.
func printFanout(w io.Writer, o fanoutOptions, runs []*fanoutRun) {
	fmt.Fprintf(w, "## fanout (B1): %d sockets, %d-byte events, %s steps\n\n", o.Sockets, o.Frame, o.Step)
	fmt.Fprintf(w, "Machine: %s. Date: %s. Load average (1 min) at the end: %s.\n\n", machine(),
		time.Now().Format("2006-01-02 15:04 MST"), loadAverage())
	fmt.Fprintln(w, "CPU columns are seconds over each step and its drain: the server process, the tool (clients and")
	fmt.Fprintln(w, "publisher), the private redis-server, and every other process on the machine (noise). The targets run")
	fmt.Fprintln(w, "side by side and the ramp alternates between them; a step during which other processes used more than")
	fmt.Fprintf(w, "%.2f cores is measured again (up to %d times; \"tries\"); the least disturbed try is shown.\n", o.MaxOther, o.Retries+1)
	fmt.Fprintln(w)
	for _, r := range runs {
		fmt.Fprintf(w, "### %s\n\n", r.Target)
		fmt.Fprintln(w, "| ev/s | sockets | offered deliveries/s | achieved deliveries/s | p50 ms | p99 ms | p99.9 ms | max ms | lost | dropped (server) | sockets ended | server CPU s | server CPU-s per M | tool CPU s | redis CPU s | other CPU s | tries |")
		fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, s := range r.Steps {
			dropped := fmt.Sprint(s.Dropped)
			if s.Dropped < 0 {
				dropped = "n/a"
			}
			fmt.Fprintf(w, "| %d | %d | %.0f | %.0f | %s | %s | %s | %s | %d | %s | %d | %.2f | %s | %.2f | %.2f | %.2f | %d |\n",
				s.Rate, s.Sockets, s.Offered, s.Achieved, fmtMs(s.P50), fmtMs(s.P99), fmtMs(s.P999), fmtMs(s.Max),
				s.Lost, dropped, s.Closed, s.ServerCPU, fmtFloat(s.CPUPerM, 2), s.ClientCPU, s.RedisCPU, s.OtherCPU, s.Tries)
		}
		fmt.Fprintf(w, "\nPeak (no loss, p99 ≤ %s): %.0f deliveries/s (highest achieved, anything allowed: %.0f). Server CPU with the sockets open and no events: %.3f CPU-s/s.",
			o.PeakP99, r.peak(o.PeakP99), r.highest(), r.IdleCPU)
		if r.Note != "" {
			fmt.Fprintf(w, " %s.", r.Note)
		}
		fmt.Fprint(w, "\n\n")
	}
	var parley, ceiling *fanoutRun
	for _, r := range runs {
		switch r.Target {
		case "parley":
			parley = r
		case "ceiling":
			ceiling = r
		}
	}
	if parley == nil || ceiling == nil {
		return
	}
	fmt.Fprintln(w, "### Parley / ceiling")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| ev/s | offered/s | achieved ratio | p99 parley ms | p99 ceiling ms | p99 ratio | CPU-s/M parley | CPU-s/M ceiling | CPU ratio |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, p := range parley.Steps {
		for _, c := range ceiling.Steps {
			if c.Rate != p.Rate {
				continue
			}
			fmt.Fprintf(w, "| %d | %.0f | %s | %s | %s | %s | %s | %s | %s |\n", p.Rate, p.Offered,
				fmtRatio(Ratio(p.Achieved, c.Achieved)), fmtMs(p.P99), fmtMs(c.P99),
				fmtRatio(Ratio(float64(p.P99), float64(c.P99))),
				fmtFloat(p.CPUPerM, 2), fmtFloat(c.CPUPerM, 2), fmtRatio(Ratio(p.CPUPerM, c.CPUPerM)))
		}
	}
	pp, cp := parley.peak(o.PeakP99), ceiling.peak(o.PeakP99)
	fmt.Fprintf(w, "\nPeak deliveries/s (no loss, p99 ≤ %s): parley %.0f, ceiling %.0f: **%s** (goal ≥ 0.95×).",
		o.PeakP99, pp, cp, fmtRatio(Ratio(pp, cp)))
	if n := len(ceiling.Steps); n > 0 && ceiling.peak(o.PeakP99) == ceiling.Steps[n-1].Achieved && ceiling.Steps[n-1].Rate == o.Rates[len(o.Rates)-1] {
		fmt.Fprint(w, " The ceiling lost nothing even at the last rate: its peak is higher, so the ratio is an upper bound.")
	}
	fmt.Fprint(w, "\n\n")
}
