package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parley-chat/parley/channels/sms"
)

// B2, webhook to screen: signed Vonage inbound-SMS webhooks are POSTed to a
// real `parley serve` at a fixed rate while N agent sockets watch the demo
// inbox's chats list, as a browser on /chats does (its socket joins the
// inbox feed and sends {"resume": <the page's data-seq>}). Each message's
// text starts with a marker naming the run, the message and the sender's
// clock just before the POST:
//
//	lt<run: 8 hex>m<message: 8 digits>t<Unix ns: 19 digits> …
//
// The chats list row Parley publishes for the message shows the text as
// its preview, so each socket finds the marker in its frames and times the
// delivery. Senders are used round-robin, so two messages of one
// conversation are Rate/Senders seconds apart and each row frame carries
// its own message's text. Warm-up messages (kind 'w' instead of 'm') come
// from a sender of their own.

// Marker layout.
const (
	markerLead   = "lt"
	markerRunLen = 8
	markerIdxLen = 8
	markerNsLen  = 19
	// markerLen is the length of a whole marker.
	markerLen = len(markerLead) + markerRunLen + 1 + markerIdxLen + 1 + markerNsLen
	// warmSender sends the warm-up messages; measured ones come from
	// senderBase + 0 … Senders-1. Both are outside the demo's numbers.
	warmSender = "19980000000"
	senderBase = 19990000000
)

// markerKind tells measured messages from warm-up ones.
type markerKind byte

const (
	kindMeasured markerKind = 'm'
	kindWarm     markerKind = 'w'
)

// newRunID returns 8 random lower-case hex digits naming one run.
func newRunID() string {
	b := make([]byte, markerRunLen/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// makeMarker renders the marker of message idx of run sent at sentUnixNano.
func makeMarker(run string, kind markerKind, idx int, sentUnixNano int64) string {
	return fmt.Sprintf("%s%s%c%0*dt%0*d", markerLead, run, kind, markerIdxLen, idx, markerNsLen, sentUnixNano)
}

// parseMarkers calls fn for every marker of run in msg (a websocket
// message, possibly many fragments) and returns how many it found.
func parseMarkers(msg []byte, run string, fn func(kind markerKind, idx int, sentUnixNano int64)) int {
	prefix := []byte(markerLead + run)
	n := 0
	for {
		i := bytes.Index(msg, prefix)
		if i < 0 {
			return n
		}
		msg = msg[i+len(prefix):]
		if len(msg) < markerLen-len(prefix) {
			return n
		}
		kind := markerKind(msg[0])
		idx, ok1 := digits(msg[1 : 1+markerIdxLen])
		sep := msg[1+markerIdxLen]
		sent, ok2 := digits(msg[2+markerIdxLen : 2+markerIdxLen+markerNsLen])
		if !ok1 || !ok2 || sep != 't' || (kind != kindMeasured && kind != kindWarm) {
			continue
		}
		fn(kind, int(idx), sent)
		n++
	}
}

// inboundOptions configures B2.
type inboundOptions struct {
	common
	Sockets  int
	Rate     int           // webhooks per second
	Duration time.Duration // how long they are sent
	Senders  int           // distinct sender numbers (conversations)
	Drain    time.Duration // after the last webhook, the longest wait for deliveries
	InFlight int           // webhooks outstanding at once; beyond it sending falls behind
	Method   string        // Vonage signature method
}

// webhookForm is the signed form of one inbound SMS, as Vonage POSTs it.
func webhookForm(msisdn, to, messageID, text string, now time.Time, nonce, secret string, m sms.SignatureMethod) url.Values {
	keyword, _, _ := strings.Cut(text, " ")
	v := url.Values{
		"msisdn":            {msisdn},
		"to":                {strings.TrimPrefix(to, "+")},
		"messageId":         {messageID},
		"text":              {text},
		"type":              {"text"},
		"keyword":           {strings.ToUpper(keyword)},
		"message-timestamp": {now.UTC().Format("2006-01-02 15:04:05")},
		"timestamp":         {strconv.FormatInt(now.Unix(), 10)},
		"nonce":             {nonce},
	}
	v.Set("sig", sms.Sign(v, secret, m))
	return v
}

// inboundRun collects what one B2 run saw.
type inboundRun struct {
	run      string
	messages int
	sockets  int

	// Per message, written by the sender goroutines.
	ok []atomic.Bool // answered 200

	// Webhook side.
	webhook               Histogram // POST → response
	status200, statusElse atomic.Int64
	errs                  atomic.Int64
	errMu                 sync.Mutex
	firstErr              string
	statuses              map[int]int
	sendLag               atomic.Int64 // ns, largest delay of a POST behind its schedule

	// Socket side; seen[c] is only touched by client c's reader.
	screen [histShards]Histogram
	seen   [][]uint64
	count  []atomic.Int64 // distinct measured markers per socket
	dups   atomic.Int64
	warm   []atomic.Bool
}

func newInboundRun(run string, messages, sockets int) *inboundRun {
	r := &inboundRun{run: run, messages: messages, sockets: sockets, ok: make([]atomic.Bool, messages),
		statuses: map[int]int{}, seen: make([][]uint64, sockets), count: make([]atomic.Int64, sockets),
		warm: make([]atomic.Bool, sockets)}
	for i := range r.seen {
		r.seen[i] = make([]uint64, (messages+63)/64)
	}
	return r
}

// onMessage is the fleet's message hook: it times each first sighting of
// a measured message on a socket.
func (r *inboundRun) onMessage(id int, msg []byte, at time.Time) {
	if id < 0 || id >= r.sockets {
		return
	}
	now := at.UnixNano()
	parseMarkers(msg, r.run, func(kind markerKind, idx int, sent int64) {
		if kind == kindWarm {
			r.warm[id].Store(true)
			return
		}
		if idx < 0 || idx >= r.messages {
			return
		}
		w, bit := idx/64, uint64(1)<<(idx%64)
		if r.seen[id][w]&bit != 0 {
			r.dups.Add(1)
			return
		}
		r.seen[id][w] |= bit
		r.count[id].Add(1)
		r.screen[id%histShards].Record(time.Duration(now - sent))
	})
}

// seenTotal is the distinct (message, socket) sightings so far.
func (r *inboundRun) seenTotal() int64 {
	var n int64
	for i := range r.count {
		n += r.count[i].Load()
	}
	return n
}

// noteErr counts a failed POST and keeps the first reason.
func (r *inboundRun) noteErr(err error) {
	r.errs.Add(1)
	r.errMu.Lock()
	if r.firstErr == "" {
		r.firstErr = err.Error()
	}
	r.errMu.Unlock()
}

// noteLag keeps the largest delay of a POST behind its schedule.
func (r *inboundRun) noteLag(d time.Duration) {
	for {
		old := r.sendLag.Load()
		if int64(d) <= old || r.sendLag.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

// noteStatus counts a webhook's answer.
func (r *inboundRun) noteStatus(code int) {
	if code == http.StatusOK {
		r.status200.Add(1)
		return
	}
	r.statusElse.Add(1)
	r.errMu.Lock()
	r.statuses[code]++
	r.errMu.Unlock()
}

// inboundResult is the summary printed.
type inboundResult struct {
	Sockets, Connected, Ended    int
	Messages, Rate, Senders      int
	Duration, SendSpan           time.Duration
	OK, NotOK, Errors            int64
	Statuses                     string
	FirstErr                     string
	WebhookP50, WebhookP99       time.Duration
	WebhookMax                   time.Duration
	SendLag                      time.Duration
	Expected, Seen, Lost         int64
	SeenNotOK                    int64 // sightings of messages not answered 200
	Dups                         int64
	ScreenP50, ScreenP99         time.Duration
	ScreenP999, ScreenMax        time.Duration
	ServerCPU, ToolCPU, OtherCPU float64
	PostgresCPU, RedisCPU        float64
	Window                       time.Duration
	ServerWarnings               int
	WarningSample                string
}

func runInboundCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o inboundOptions
	fs := flag.NewFlagSet("bench inbound", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.registerTargets(fs, 10*time.Minute, "parley", `servers to measure: "parley" only (B2's ceiling is the database's commit rate)`)
	fs.IntVar(&o.Sockets, "sockets", 200, "agent sockets watching the inbox's chats list")
	fs.IntVar(&o.Rate, "rate", 500, "inbound webhooks per second")
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "how long webhooks are sent")
	fs.IntVar(&o.Senders, "senders", 5000, "distinct sender numbers (conversations), used round-robin")
	fs.DurationVar(&o.Drain, "drain", 10*time.Second, "after the last webhook, the longest wait for deliveries; later ones count as lost")
	fs.IntVar(&o.InFlight, "in-flight", 1000, "webhooks outstanding at once (past it, sending falls behind schedule: see send lag)")
	fs.StringVar(&o.Method, "signature-method", string(sms.SignatureMD5Hash), "Vonage signature method Parley is configured with")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Targets != "parley" {
		return fmt.Errorf("loadtest: inbound measures parley only, not %q", o.Targets)
	}
	method, err := sms.ParseSignatureMethod(o.Method)
	if err != nil {
		return fmt.Errorf("loadtest: -signature-method: %w", err)
	}
	switch {
	case o.Sockets <= 0 || o.Rate <= 0 || o.Senders <= 0 || o.InFlight <= 0:
		return errors.New("loadtest: -sockets, -rate, -senders and -in-flight must be positive")
	case o.Duration <= 0 || o.Duration > time.Hour:
		return errors.New("loadtest: -duration must be in (0, 1h]")
	case o.Senders > 10_000_000:
		return errors.New("loadtest: at most 10,000,000 senders")
	}
	messages := int(float64(o.Rate) * o.Duration.Seconds())
	if messages <= 0 || messages > 5_000_000 {
		return fmt.Errorf("loadtest: %d messages: want 1 to 5,000,000 (-rate × -duration)", messages)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	s, err := o.common.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(stderr, "file descriptor limit: %d\n", s.fdLimit)

	res, err := inbound(ctx, s, o, method, messages)
	if err != nil {
		return fmt.Errorf("loadtest: inbound: %w", err)
	}
	printInbound(stdout, o, res)
	return nil
}

// inbound starts Parley with a webhook signature secret, opens the
// sockets, warms up, sends, drains and sums up.
func inbound(ctx context.Context, s *session, o inboundOptions, method sms.SignatureMethod, messages int) (*inboundResult, error) {
	secretBytes := make([]byte, 16)
	_, _ = rand.Read(secretBytes)
	secret := hex.EncodeToString(secretBytes)
	po := s.parleyOptions()
	po.ExtraEnv = []string{"PARLEY_VONAGE_SIGNATURE_SECRET=" + secret, "PARLEY_VONAGE_SIGNATURE_METHOD=" + string(method)}
	srv, err := startParley(ctx, po, s.progress)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(s.progress, err)
		}
	}()
	to, err := inboxNumber(ctx, po.DatabaseURL, srv.inbox)
	if err != nil {
		return nil, err
	}
	seq, err := srv.chatsSeq(ctx)
	if err != nil {
		return nil, err
	}
	logStart := fileSize(srv.logPath)

	run := newRunID()
	r := newInboundRun(run, messages, o.Sockets)
	fo := s.fleet(o.Sockets)
	fo.Hello = fmt.Appendf(nil, `{"resume":%d,"view":null}`, seq)
	fo.OnMessage = r.onMessage
	fmt.Fprintf(s.progress, "parley: inbox %d (%s); dialling %d sockets (resume %d); run %s\n", srv.inbox, to, o.Sockets, seq, run)
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
	// The fleet's clients are numbered 0 … Sockets-1 in dial order; with
	// every socket connected, client i is f.clients[i].

	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: o.InFlight, MaxIdleConnsPerHost: o.InFlight, IdleConnTimeout: time.Minute, DisableCompression: true}}
	defer hc.CloseIdleConnections()
	hookURL := srv.base + "/webhooks/vonage/inbound"
	post := func(ctx context.Context, form url.Values) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, hookURL, strings.NewReader(form.Encode()))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	// Warm-up: one message every 100 ms until every socket has shown one
	// (so every socket has joined the feed), at most a minute.
	deadline := time.Now().Add(time.Minute)
	for i := 0; ; i++ {
		now := time.Now()
		text := makeMarker(run, kindWarm, i, now.UnixNano()) + " warm-up"
		code, err := post(ctx, webhookForm(warmSender, to, run+"-w"+strconv.Itoa(i), text, now, newRunID(), secret, method))
		if err != nil {
			return nil, fmt.Errorf("warm-up webhook: %w", err)
		}
		if code != http.StatusOK {
			return nil, fmt.Errorf("warm-up webhook: HTTP %d (is the signature secret in effect?)\n%s", code, tail(srv.logPath, 1500))
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return nil, ctx.Err()
		}
		warm := 0
		for j := range r.warm {
			if r.warm[j].Load() {
				warm++
			}
		}
		if alive := f.alive(); warm >= alive {
			break
		} else if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d sockets showed a warm-up message within a minute (%s)", warm, alive, f.reasons())
		}
	}
	fmt.Fprintf(s.progress, "parley: every socket shows the feed; sending %d webhooks at %d/s over %d senders\n", messages, o.Rate, o.Senders)
	if !sleepCtx(ctx, time.Second) {
		return nil, ctx.Err()
	}

	closed0 := f.closed.Load()
	cpu0, err := cpuSeconds(srv.proc.PID())
	if err != nil {
		return nil, err
	}
	self0, _ := cpuSeconds(os.Getpid())
	redis0 := s.redisCPU()
	sys0, _ := systemBusySeconds()
	dbName := databaseName(po.DatabaseURL)
	pg0 := dbBackends(dbName)

	start := time.Now()
	interval := time.Second / time.Duration(o.Rate)
	sem := make(chan struct{}, o.InFlight)
	var wg sync.WaitGroup
	for i := range messages {
		due := start.Add(time.Duration(i) * interval)
		if !sleepCtx(ctx, time.Until(due)) {
			break
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			now := time.Now()
			r.noteLag(now.Sub(due))
			text := makeMarker(run, kindMeasured, i, now.UnixNano()) + " hello from the load tool"
			form := webhookForm(strconv.FormatInt(senderBase+int64(i%o.Senders), 10), to,
				run+"-"+strconv.Itoa(i), text, now, newRunID(), secret, method)
			code, err := post(ctx, form)
			r.webhook.Record(time.Since(now))
			if err != nil {
				r.noteErr(err)
				return
			}
			r.noteStatus(code)
			if code == http.StatusOK {
				r.ok[i].Store(true)
			}
		})
	}
	sendSpan := time.Since(start)
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	// Drain: until every socket still open has every answered message.
	ok := r.status200.Load()
	drainEnd := time.Now().Add(o.Drain)
	for time.Now().Before(drainEnd) {
		if r.seenTotal() >= ok*int64(f.alive()) || !sleepCtx(ctx, 20*time.Millisecond) {
			break
		}
	}
	window := time.Since(start)
	cpu1, _ := cpuSeconds(srv.proc.PID())
	self1, _ := cpuSeconds(os.Getpid())
	redis1 := s.redisCPU()
	sys1, _ := systemBusySeconds()
	pg1 := dbBackends(dbName)
	ended := int(f.closed.Load() - closed0)

	// Stop the readers before reading their per-socket bitsets.
	cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
	f.Close(cctx)
	ccancel()

	res := &inboundResult{Sockets: o.Sockets, Connected: len(f.clients), Ended: ended, Messages: messages,
		Rate: o.Rate, Senders: o.Senders, Duration: o.Duration, SendSpan: sendSpan,
		OK: ok, NotOK: r.statusElse.Load(), Errors: r.errs.Load(), FirstErr: r.firstErr,
		SendLag: time.Duration(r.sendLag.Load()), Dups: r.dups.Load(), Window: window}
	var codes []string
	for code, n := range r.statuses {
		codes = append(codes, fmt.Sprintf("HTTP %d ×%d", code, n))
	}
	res.Statuses = strings.Join(codes, ", ")
	wd := r.webhook.Snapshot()
	res.WebhookP50, res.WebhookP99, res.WebhookMax = wd.Quantile(0.5), wd.Quantile(0.99), wd.Quantile(1)
	sd := &Distribution{}
	for i := range r.screen {
		sd.Merge(r.screen[i].Snapshot())
	}
	res.ScreenP50, res.ScreenP99 = sd.Quantile(0.5), sd.Quantile(0.99)
	res.ScreenP999, res.ScreenMax = sd.Quantile(0.999), sd.Quantile(1)
	for i := range messages {
		okMsg := r.ok[i].Load()
		w, bit := i/64, uint64(1)<<(i%64)
		for c := range r.seen {
			got := r.seen[c][w]&bit != 0
			switch {
			case okMsg && got:
				res.Seen++
			case okMsg:
				res.Lost++
			case got:
				res.SeenNotOK++
			}
		}
	}
	res.Expected = ok * int64(len(r.seen))
	res.ServerCPU = cpu1 - cpu0
	res.ToolCPU = self1 - self0
	res.PostgresCPU = dbBackendsCPU(pg0, pg1)
	res.RedisCPU = redis1 - redis0
	res.OtherCPU = max(0, (sys1-sys0)-res.ServerCPU-res.ToolCPU-res.RedisCPU-res.PostgresCPU)
	res.ServerWarnings, res.WarningSample = countWarnings(srv.logPath, logStart)
	fmt.Fprintf(s.progress, "parley: %d webhooks answered 200, %d not, %d failed; deliveries %d of %d, lost %d; screen p50 %s ms p99 %s ms\n",
		res.OK, res.NotOK, res.Errors, res.Seen, res.Expected, res.Lost, fmtMs(res.ScreenP50), fmtMs(res.ScreenP99))
	return res, nil
}

// inboxNumber reads the SMS number of inbox id from the database.
func inboxNumber(ctx context.Context, dbURL string, id int64) (string, error) {
	return inboxAddress(ctx, dbURL, id, "sms_number", "SMS number")
}

// inboxAddress reads one of inbox id's addresses (column: sms_number or
// email_address, named what in errors) from the database.
func inboxAddress(ctx context.Context, dbURL string, id int64, column, what string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, dbURL)
	if err != nil {
		return "", fmt.Errorf("loadtest: connect to the benchmark database: %w", err)
	}
	defer conn.Close(context.Background())
	var addr *string
	// column is one of the two constants above, never input.
	if err := conn.QueryRow(cctx, "select "+column+" from inboxes where id = $1", id).Scan(&addr); err != nil {
		return "", fmt.Errorf("loadtest: inbox %d's %s: %w", id, what, err)
	}
	if addr == nil || *addr == "" {
		return "", fmt.Errorf("loadtest: inbox %d has no %s", id, what)
	}
	return *addr, nil
}

// databaseName is the database a PostgreSQL URL names ("" if none).
func databaseName(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// fileSize is the size of the file at path, 0 if unknown.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// countWarnings counts the server log's lines from offset on (the server
// logs warnings and errors only) and returns one of them, shortened.
func countWarnings(path string, offset int64) (int, string) {
	f, err := os.Open(path)
	if err != nil {
		return 0, ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, ""
	}
	b, _ := io.ReadAll(io.LimitReader(f, 64<<20))
	n, sample := 0, ""
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		n++
		if sample == "" {
			sample = line
			if len(sample) > 200 {
				sample = sample[:200]
			}
		}
	}
	return n, sample
}

// printInbound writes the B2 tables.
func printInbound(w io.Writer, o inboundOptions, r *inboundResult) {
	fmt.Fprintf(w, "## inbound (B2): %d webhooks/s for %s over %d senders, %d agent sockets\n\n", r.Rate, r.Duration, r.Senders, r.Sockets)
	fmt.Fprintf(w, "Machine: %s. Date: %s. Load average (1 min) at the end: %s.\n\n", machine(),
		time.Now().Format("2006-01-02 15:04 MST"), loadAverage())
	fmt.Fprintln(w, "Signed (md5hash unless -signature-method says otherwise) Vonage inbound-SMS webhooks, form-encoded, on")
	fmt.Fprintln(w, "keep-alive connections, each at its scheduled time (open loop). Webhook time: POST to response. Screen time:")
	fmt.Fprintln(w, "from just before the POST to the socket reading the chats-list row that shows the message, over every")
	fmt.Fprintf(w, "(message answered 200, socket) pair. Lost: such pairs not seen within %s after the last webhook.\n\n", o.Drain)
	fmt.Fprintln(w, "| webhooks | answered 200 | non-200 | failed | sent in s | max send lag ms | webhook p50 ms | webhook p99 ms | webhook max ms |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	fmt.Fprintf(w, "| %d | %d | %d | %d | %.2f | %s | %s | %s | %s |\n\n", r.Messages, r.OK, r.NotOK, r.Errors, r.SendSpan.Seconds(),
		fmtMs(r.SendLag), fmtMs(r.WebhookP50), fmtMs(r.WebhookP99), fmtMs(r.WebhookMax))
	fmt.Fprintln(w, "| sockets | connected | ended | expected deliveries | seen | lost | screen p50 ms | screen p99 ms | screen p99.9 ms | screen max ms | duplicates | server log lines |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	fmt.Fprintf(w, "| %d | %d | %d | %d | %d | %d | %s | %s | %s | %s | %d | %d |\n\n", r.Sockets, r.Connected, r.Ended,
		r.Expected, r.Seen, r.Lost, fmtMs(r.ScreenP50), fmtMs(r.ScreenP99), fmtMs(r.ScreenP999), fmtMs(r.ScreenMax), r.Dups,
		r.ServerWarnings)
	fmt.Fprintf(w, "CPU seconds over the %.1f s from the first webhook to the end of the drain: Parley %.2f, its PostgreSQL backends %.2f, the private redis-server %.2f, the tool %.2f, every other process on the machine (noise) %.2f.\n\n",
		r.Window.Seconds(), r.ServerCPU, r.PostgresCPU, r.RedisCPU, r.ToolCPU, r.OtherCPU)
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**not met**"
	}
	fmt.Fprintf(w, "Goals (quality.md B2): screen p50 ≤ 10 ms: %s (%s ms); p99 ≤ 50 ms: %s (%s ms); 0 lost: %s (%d).\n",
		verdict(r.Expected > 0 && r.ScreenP50 <= 10*time.Millisecond), fmtMs(r.ScreenP50),
		verdict(r.Expected > 0 && r.ScreenP99 <= 50*time.Millisecond), fmtMs(r.ScreenP99),
		verdict(r.Expected > 0 && r.Lost == 0 && r.NotOK == 0 && r.Errors == 0), r.Lost)
	if r.Statuses != "" {
		fmt.Fprintf(w, "\n- non-200 answers: %s\n", r.Statuses)
	}
	if r.FirstErr != "" {
		fmt.Fprintf(w, "- first failed POST: %s\n", r.FirstErr)
	}
	if r.SeenNotOK > 0 {
		fmt.Fprintf(w, "- %d deliveries of messages that were not answered 200 (committed anyway)\n", r.SeenNotOK)
	}
	if r.ServerWarnings > 0 {
		fmt.Fprintf(w, "- the server logged %d warning/error lines during the run, e.g. `%s`\n", r.ServerWarnings, r.WarningSample)
	}
	fmt.Fprintln(w)
}
