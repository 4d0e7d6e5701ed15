package loadtest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// email: N messages are sent over SMTP to a real `parley serve`'s
// listener by C concurrent clients (each on its own connection, one
// transaction after another: closed loop) while agent sockets watch the
// demo inbox's chats list. Each message's text starts with the marker of
// inbound.go, so each socket times listener-to-screen delivery. Measured:
// messages committed per second (250 answers over the send span), the
// DATA-to-250 time, screen latency, losses. In the same run, the
// ceiling: the same clients against an in-process go-smtp listener that
// discards every message, bounding what the SMTP exchange alone allows.

// emailOptions configures the email scenario.
type emailOptions struct {
	common
	Messages int
	Clients  int
	Sockets  int
	Senders  int
	Drain    time.Duration
}

// emailResult is one target's summary.
type emailResult struct {
	Name                 string
	Messages, OK, Failed int64
	FirstErr             string
	Span                 time.Duration
	SMTPP50, SMTPP99     time.Duration
	SMTPMax              time.Duration
	// Screen side (Parley only).
	Sockets, Connected   int
	Expected, Seen, Lost int64
	ScreenP50, ScreenP99 time.Duration
	ScreenMax            time.Duration
	ServerCPU            float64
	ServerWarnings       int
	WarningSample        string
}

func (r *emailResult) perSecond() float64 {
	if r.Span <= 0 {
		return 0
	}
	return float64(r.OK) / r.Span.Seconds()
}

func runEmailCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o emailOptions
	fs := flag.NewFlagSet("bench email", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.registerTargets(fs, 10*time.Minute, "parley,ceiling", "servers to measure, in order: parley, ceiling (an in-process SMTP listener that discards)")
	fs.IntVar(&o.Messages, "messages", 2000, "messages sent to each target")
	fs.IntVar(&o.Clients, "clients", 8, "concurrent SMTP clients (connections)")
	fs.IntVar(&o.Sockets, "sockets", 20, "agent sockets watching the inbox's chats list")
	fs.IntVar(&o.Senders, "senders", 500, "distinct sender addresses (conversations), used round-robin")
	fs.DurationVar(&o.Drain, "drain", 10*time.Second, "after the last message, the longest wait for deliveries; later ones count as lost")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case o.Messages <= 0 || o.Messages > 1_000_000:
		return errors.New("loadtest: -messages must be in [1, 1,000,000]")
	case o.Clients <= 0 || o.Clients > 1000 || o.Sockets <= 0 || o.Senders <= 0:
		return errors.New("loadtest: -clients (at most 1000), -sockets and -senders must be positive")
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var results []*emailResult
	for t := range strings.SplitSeq(o.Targets, ",") {
		var res *emailResult
		var err error
		switch strings.TrimSpace(t) {
		case "parley":
			res, err = emailParley(ctx, o, stderr)
		case "ceiling":
			res, err = emailCeiling(ctx, o, stderr)
		default:
			return fmt.Errorf("loadtest: email: unknown target %q (parley or ceiling)", t)
		}
		if err != nil {
			return fmt.Errorf("loadtest: email: %s: %w", t, err)
		}
		results = append(results, res)
	}
	printEmail(stdout, o, results)
	return nil
}

// emailMessage is message idx from sender to to, its text led by text.
func emailMessage(sender, to, run string, idx int, text string) []byte {
	return fmt.Appendf(nil, "From: Load Tool <%s>\r\nTo: %s\r\nSubject: Load %s\r\nMessage-ID: <%s.%d@loadtest.parley>\r\n"+
		"Date: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		sender, to, run, run, idx, time.Now().Format(time.RFC1123Z), text)
}

// smtpClient is one connection that sends transaction after transaction,
// redialling after a failure.
type smtpClient struct {
	addr string
	c    *smtp.Client
}

func (s *smtpClient) send(from, to string, msg []byte) error {
	if s.c == nil {
		c, err := smtp.Dial(s.addr)
		if err != nil {
			return err
		}
		if err := c.Hello("loadtest.parley"); err != nil {
			c.Close()
			return err
		}
		s.c = c
	}
	err := s.c.SendMail(from, []string{to}, bytes.NewReader(msg))
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			_ = s.c.Reset() // the server answered: the connection is still good
		} else {
			s.c.Close()
			s.c = nil
		}
	}
	return err
}

func (s *smtpClient) close() {
	if s.c != nil {
		_ = s.c.Quit()
		s.c.Close()
	}
}

// emailLoad sends messages 0 … n-1 from clients concurrent connections to
// addr and returns the send span; each message's outcome goes to onDone.
func emailLoad(ctx context.Context, addr, to, run string, n, clients, senders int,
	hist *Histogram, onDone func(idx int, err error)) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			c := &smtpClient{addr: addr}
			defer c.close()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				sender := "load" + strconv.Itoa(i%senders) + "@loadtest.example"
				now := time.Now()
				msg := emailMessage(sender, to, run, i, makeMarker(run, kindMeasured, i, now.UnixNano())+" hello from the load tool")
				err := c.send(sender, to, msg)
				hist.Record(time.Since(now))
				onDone(i, err)
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// emailParley measures a real Parley: its SMTP listener, its store, its
// sockets.
func emailParley(ctx context.Context, o emailOptions, progress io.Writer) (*emailResult, error) {
	s, err := o.common.open(ctx, progress)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	smtpAddr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	po := s.parleyOptions()
	po.ExtraEnv = []string{"PARLEY_SMTP_LISTEN_ADDR=" + smtpAddr, "PARLEY_MAILBOX_ADDR=127.0.0.1:0"}
	srv, err := startParley(ctx, po, s.progress)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(s.progress, err)
		}
	}()
	to, err := inboxEmail(ctx, po.DatabaseURL, srv.inbox)
	if err != nil {
		return nil, err
	}
	seq, err := srv.chatsSeq(ctx)
	if err != nil {
		return nil, err
	}
	logStart := fileSize(srv.logPath)
	run := newRunID()
	r := newInboundRun(run, o.Messages, o.Sockets)
	fo := s.fleet(o.Sockets)
	fo.Hello = fmt.Appendf(nil, `{"resume":%d,"view":null}`, seq)
	fo.OnMessage = r.onMessage
	fmt.Fprintf(s.progress, "parley: inbox %d (%s), smtp %s; dialling %d sockets; run %s\n", srv.inbox, to, smtpAddr, o.Sockets, run)
	f, err := dialFleet(ctx, endpoint{URL: "ws" + strings.TrimPrefix(srv.base, "http") + "/ws", Header: srv.header}, fo)
	if f != nil {
		defer func() {
			cctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			f.Close(cctx)
		}()
	}
	if err != nil {
		return nil, err
	}

	// Warm-up: a message every 100 ms until every socket has shown one.
	warm := &smtpClient{addr: smtpAddr}
	deadline := time.Now().Add(time.Minute)
	for i := 0; ; i++ {
		now := time.Now()
		msg := emailMessage("warm@loadtest.example", to, run+"w", i, makeMarker(run, kindWarm, i, now.UnixNano())+" warm-up")
		if err := warm.send("warm@loadtest.example", to, msg); err != nil {
			warm.close()
			return nil, fmt.Errorf("warm-up message: %w\n%s", err, tail(srv.logPath, 1500))
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			warm.close()
			return nil, ctx.Err()
		}
		shown := 0
		for j := range r.warm {
			if r.warm[j].Load() {
				shown++
			}
		}
		if alive := f.alive(); shown >= alive {
			break
		} else if time.Now().After(deadline) {
			warm.close()
			return nil, fmt.Errorf("only %d of %d sockets showed a warm-up message within a minute (%s)", shown, alive, f.reasons())
		}
	}
	warm.close()
	fmt.Fprintf(s.progress, "parley: every socket shows the feed; sending %d messages from %d clients\n", o.Messages, o.Clients)

	cpu0, _ := cpuSeconds(srv.proc.PID())
	res := &emailResult{Name: "parley", Messages: int64(o.Messages), Sockets: o.Sockets, Connected: len(f.clients)}
	var errMu sync.Mutex
	var failed atomic.Int64
	res.Span = emailLoad(ctx, smtpAddr, to, run, o.Messages, o.Clients, o.Senders, &r.webhook, func(i int, err error) {
		if err != nil {
			failed.Add(1)
			errMu.Lock()
			if res.FirstErr == "" {
				res.FirstErr = err.Error()
			}
			errMu.Unlock()
			return
		}
		r.ok[i].Store(true)
		r.status200.Add(1)
	})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	ok := r.status200.Load()
	drainEnd := time.Now().Add(o.Drain)
	for time.Now().Before(drainEnd) {
		if r.seenTotal() >= ok*int64(f.alive()) || !sleepCtx(ctx, 20*time.Millisecond) {
			break
		}
	}
	cpu1, _ := cpuSeconds(srv.proc.PID())
	cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
	f.Close(cctx)
	ccancel()

	res.OK, res.Failed, res.ServerCPU = ok, failed.Load(), cpu1-cpu0
	d := r.webhook.Snapshot()
	res.SMTPP50, res.SMTPP99, res.SMTPMax = d.Quantile(0.5), d.Quantile(0.99), d.Quantile(1)
	sd := &Distribution{}
	for i := range r.screen {
		sd.Merge(r.screen[i].Snapshot())
	}
	res.ScreenP50, res.ScreenP99, res.ScreenMax = sd.Quantile(0.5), sd.Quantile(0.99), sd.Quantile(1)
	for i := range o.Messages {
		if !r.ok[i].Load() {
			continue
		}
		w, bit := i/64, uint64(1)<<(i%64)
		for c := range r.seen {
			if r.seen[c][w]&bit != 0 {
				res.Seen++
			} else {
				res.Lost++
			}
		}
	}
	res.Expected = ok * int64(len(r.seen))
	res.ServerWarnings, res.WarningSample = countWarnings(srv.logPath, logStart)
	fmt.Fprintf(s.progress, "parley: %d committed (%.0f/s), %d failed; deliveries %d of %d, lost %d; screen p50 %s ms p99 %s ms\n",
		res.OK, res.perSecond(), res.Failed, res.Seen, res.Expected, res.Lost, fmtMs(res.ScreenP50), fmtMs(res.ScreenP99))
	return res, nil
}

// discardBackend is the ceiling's SMTP backend: every recipient is
// accepted and every message read and thrown away.
type discardBackend struct{}

func (discardBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return discardSession{}, nil }

type discardSession struct{}

func (discardSession) Reset()                               {}
func (discardSession) Logout() error                        { return nil }
func (discardSession) Mail(string, *smtp.MailOptions) error { return nil }
func (discardSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (discardSession) Data(r io.Reader) error               { _, err := io.Copy(io.Discard, r); return err }

// emailCeiling runs the same clients against an in-process go-smtp
// listener that discards.
func emailCeiling(ctx context.Context, o emailOptions, progress io.Writer) (*emailResult, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := smtp.NewServer(discardBackend{})
	srv.Domain = "ceiling.loadtest"
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	defer func() { srv.Close(); <-done }()
	fmt.Fprintf(progress, "ceiling: discarding SMTP listener on %s; sending %d messages from %d clients\n", ln.Addr(), o.Messages, o.Clients)
	res := &emailResult{Name: "ceiling", Messages: int64(o.Messages)}
	var h Histogram
	var okN, failed atomic.Int64
	var errMu sync.Mutex
	res.Span = emailLoad(ctx, ln.Addr().String(), "inbox@ceiling.loadtest", newRunID(), o.Messages, o.Clients, o.Senders, &h,
		func(_ int, err error) {
			if err != nil {
				failed.Add(1)
				errMu.Lock()
				if res.FirstErr == "" {
					res.FirstErr = err.Error()
				}
				errMu.Unlock()
				return
			}
			okN.Add(1)
		})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	res.OK, res.Failed = okN.Load(), failed.Load()
	d := h.Snapshot()
	res.SMTPP50, res.SMTPP99, res.SMTPMax = d.Quantile(0.5), d.Quantile(0.99), d.Quantile(1)
	fmt.Fprintf(progress, "ceiling: %d accepted (%.0f/s), %d failed\n", res.OK, res.perSecond(), res.Failed)
	return res, nil
}

// inboxEmail reads the email address of inbox id from the database.
func inboxEmail(ctx context.Context, dbURL string, id int64) (string, error) {
	return inboxAddress(ctx, dbURL, id, "email_address", "email address")
}

// printEmail writes the email scenario's table.
func printEmail(w io.Writer, o emailOptions, rs []*emailResult) {
	fmt.Fprintf(w, "## email: %d messages over SMTP from %d concurrent clients, %d senders, %d agent sockets\n\n",
		o.Messages, o.Clients, o.Senders, o.Sockets)
	fmt.Fprintf(w, "Machine: %s. Date: %s. Load average (1 min) at the end: %s.\n\n", machine(),
		time.Now().Format("2006-01-02 15:04 MST"), loadAverage())
	fmt.Fprintln(w, "Closed loop: each client sends transaction after transaction on its own connection. Per second: messages")
	fmt.Fprintln(w, "answered 250 (for Parley: committed) over the send span. SMTP time: MAIL FROM to the 250 after DATA. Screen")
	fmt.Fprintln(w, "time (Parley): from just before MAIL FROM to the socket reading the chats-list row showing the message, over")
	fmt.Fprintf(w, "every (message answered 250, socket) pair; lost: such pairs not seen within %s. The ceiling is an in-process\n", o.Drain)
	fmt.Fprintln(w, "go-smtp listener that discards every message.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target | messages | 250 | failed | span s | per second | SMTP p50 ms | SMTP p99 ms | SMTP max ms | screen p50 ms | screen p99 ms | screen max ms | deliveries | lost | server CPU s |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	var parley, ceiling *emailResult
	for _, r := range rs {
		screen50, screen99, screenMax, deliveries, lost, cpu := "–", "–", "–", "–", "–", "–"
		if r.Name == "parley" {
			parley = r
			screen50, screen99, screenMax = fmtMs(r.ScreenP50), fmtMs(r.ScreenP99), fmtMs(r.ScreenMax)
			deliveries, lost = fmt.Sprintf("%d of %d", r.Seen, r.Expected), strconv.FormatInt(r.Lost, 10)
			cpu = fmt.Sprintf("%.2f", r.ServerCPU)
		} else {
			ceiling = r
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %.2f | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Name, r.Messages, r.OK,
			r.Failed, r.Span.Seconds(), r.perSecond(), fmtMs(r.SMTPP50), fmtMs(r.SMTPP99), fmtMs(r.SMTPMax),
			screen50, screen99, screenMax, deliveries, lost, cpu)
	}
	fmt.Fprintln(w)
	if parley != nil && ceiling != nil && ceiling.perSecond() > 0 {
		fmt.Fprintf(w, "Parley / ceiling: %.1f %% of the messages per second.\n\n", 100*parley.perSecond()/ceiling.perSecond())
	}
	for _, r := range rs {
		if r.FirstErr != "" {
			fmt.Fprintf(w, "- %s: first failed message: %s\n", r.Name, r.FirstErr)
		}
		if r.ServerWarnings > 0 {
			fmt.Fprintf(w, "- %s: the server logged %d warning/error lines, e.g. `%s`\n", r.Name, r.ServerWarnings, r.WarningSample)
		}
	}
	fmt.Fprintln(w)
}
