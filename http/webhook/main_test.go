package webhook_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/parley-chat/parley/channels/sms"
	"github.com/parley-chat/parley/http/webhook"
	"github.com/parley-chat/parley/internal/testenv"
	"github.com/parley-chat/parley/models"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

var env testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, "webhook", &env)) }

const (
	inboxNumber   = "+15550100100" // the demo inbox's SMS number
	testSecret    = "s3cr3t-vonage-signature-secret-0123456789"
	inboundPath   = "/webhooks/vonage/inbound"
	statusPath    = "/webhooks/vonage/status"
	vonageTime    = "2026-11-24 09:15:00"
	unixTimestamp = "1795511700"
)

// The store and the demo are shared by every test of the package: the
// tests do not run in parallel, and each uses its own phone numbers.
var (
	storeOnce sync.Once
	shared    struct {
		store *models.Store
		demo  *models.DemoResult
		err   error
	}
)

func sharedStore(t testing.TB) (*models.Store, *models.DemoResult) {
	t.Helper()
	storeOnce.Do(func() {
		ctx := context.Background()
		db, err := models.OpenDB(ctx, env.DatabaseURL)
		if err != nil {
			shared.err = err
			return
		}
		st := models.NewStore(db)
		demo, err := st.SeedDemo(ctx, models.DemoOptions{
			AdminEmail: "admin@demo.parley.test", AdminPassword: "admin password 123",
			AgentEmail: "agent@demo.parley.test", AgentPassword: "agent password 123",
			SMSNumber: inboxNumber, EmailAddress: "demo@inbound.parley.test",
		})
		shared.store, shared.demo, shared.err = st, demo, err
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.store, shared.demo
}

// recorder is a Notifier that keeps every change it is handed.
type recorder struct {
	mu      sync.Mutex
	changes []*models.Change
}

func (r *recorder) Notify(ch *models.Change) {
	if ch == nil {
		panic("Notify(nil)")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, ch)
}

// calls is the number of Notify calls so far.
func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.changes)
}

// events lists every event of every change, in order.
func (r *recorder) events() []models.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var evs []models.Event
	for _, ch := range r.changes {
		evs = append(evs, ch.Events...)
	}
	return evs
}

// inboundMessageCalls counts Notify calls whose change carries an inbound
// message event, and the distinct inbound message ids among them.
func (r *recorder) inboundMessageCalls() (calls int, ids map[int64]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids = map[int64]int{}
	for _, ch := range r.changes {
		found := false
		for _, ev := range ch.Events {
			if ev.Kind == models.EvMessage && ev.Message != nil && ev.Message.Direction == "inbound" {
				found = true
				ids[ev.Message.ID]++
			}
		}
		if found {
			calls++
		}
	}
	return calls, ids
}

// fixture is the webhook handler mounted on a real Fiber app served on a
// loopback port.
type fixture struct {
	t     testing.TB
	url   string
	http  *http.Client
	store *models.Store // the live store (for seeding and checking)
	demo  *models.DemoResult
	cfg   webhook.Config
	rec   *recorder
	kicks atomic.Int64
	// batcher is the handler's group-commit batcher (nil when the test
	// passed its own store).
	batcher *webhook.Batcher
}

// newFixture serves webhook.New(cfg, live store, ...). With handlerStore
// set, the handler uses it instead of the live store.
func newFixture(t testing.TB, cfg webhook.Config, handlerStore ...webhook.Store) *fixture {
	t.Helper()
	st, demo := sharedStore(t)
	f := &fixture{t: t, store: st, demo: demo, cfg: cfg, rec: &recorder{}}
	// The production path: inbound SMS through the group-commit batcher.
	batcher := webhook.NewBatcher(st, webhook.BatcherOptions{}, testLogger())
	t.Cleanup(batcher.Close)
	f.batcher = batcher
	var hs webhook.Store = batcher
	if len(handlerStore) > 0 {
		hs = handlerStore[0]
		f.batcher, _ = hs.(*webhook.Batcher)
	}
	app := fiber.New(fiber.Config{Immutable: true, DisableStartupMessage: true})
	// The paths of http/web's route table, where serve mounts the handler.
	h := webhook.New(cfg, hs, f.rec, func() { f.kicks.Add(1) }, testLogger())
	for _, m := range []string{fiber.MethodGet, fiber.MethodPost} {
		app.Add(m, inboundPath, h.VonageInbound)
		app.Add(m, statusPath, h.VonageStatus)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() {
		if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	f.url = "http://" + ln.Addr().String()
	f.http = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	t.Cleanup(f.http.CloseIdleConnections)
	return f
}

func signedConfig(m sms.SignatureMethod) webhook.Config {
	return webhook.Config{SignatureSecret: testSecret, SignatureMethod: m}
}

// testLogger discards the handler's logs unless PARLEY_TEST_LOG=1.
func testLogger() *slog.Logger {
	if os.Getenv("PARLEY_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// encoding is how a callback carries its parameters.
type encoding int

const (
	encGET encoding = iota
	encForm
	encJSON
)

var encodings = []encoding{encGET, encForm, encJSON}

func (e encoding) String() string { return [...]string{"GET query", "POST form", "POST JSON"}[e] }

// sign returns a copy of p with Vonage's timestamp (unless p has one) and
// the sig for the fixture's secret and method; p unchanged when the
// fixture has no secret.
func (f *fixture) sign(p url.Values) url.Values {
	if f.cfg.SignatureSecret == "" {
		return p
	}
	return signWith(p, f.cfg.SignatureSecret, f.cfg.SignatureMethod)
}

func signWith(p url.Values, secret string, m sms.SignatureMethod) url.Values {
	q := cloneValues(p)
	if q.Get("timestamp") == "" {
		q.Set("timestamp", unixTimestamp)
	}
	q.Del("sig")
	q.Set("sig", sms.Sign(q, secret, m))
	return q
}

func cloneValues(p url.Values) url.Values {
	q := make(url.Values, len(p))
	for k, vs := range p {
		q[k] = slices.Clone(vs)
	}
	return q
}

// encode builds the request for p in encoding e: the query string and the
// body with its content type.
func encode(e encoding, p url.Values) (query string, contentType string, body []byte) {
	switch e {
	case encGET:
		return p.Encode(), "", nil
	case encForm:
		return "", "application/x-www-form-urlencoded", []byte(p.Encode())
	default:
		// A flat object of strings; a name with several values repeats.
		var b bytes.Buffer
		b.WriteByte('{')
		for _, k := range slices.Sorted(maps.Keys(p)) {
			for _, v := range p[k] {
				if b.Len() > 1 {
					b.WriteByte(',')
				}
				b.Write(jsonString(k))
				b.WriteByte(':')
				b.Write(jsonString(v))
			}
		}
		b.WriteByte('}')
		return "", "application/json", b.Bytes()
	}
}

// jsonString encodes s as a JSON string; invalid UTF-8 is kept as is (so
// tests can send it) rather than replaced.
func jsonString(s string) []byte {
	if !utf8.ValidString(s) {
		return []byte(`"` + s + `"`)
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return b
}

// send posts (or gets) p to path in encoding e and returns the status and body.
func (f *fixture) send(path string, e encoding, p url.Values) (int, string) {
	f.t.Helper()
	q, ct, body := encode(e, p)
	method := http.MethodPost
	if e == encGET {
		method = http.MethodGet
	}
	return f.raw(method, path, q, ct, body)
}

// raw sends one request as given.
func (f *fixture) raw(method, path, query, contentType string, body []byte) (int, string) {
	f.t.Helper()
	code, text, err := f.try(method, path, query, contentType, body)
	if err != nil {
		f.t.Fatal(err)
	}
	return code, text
}

// try is raw that returns its error (for use off the test goroutine).
func (f *fixture) try(method, path, query, contentType string, body []byte) (int, string, error) {
	u := f.url + path
	if query != "" {
		u += "?" + query
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return 0, "", err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := f.http.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// inbound is an inbound-message callback as Vonage's SMS API sends it
// (numbers without '+').
func inbound(id, from, text string) url.Values {
	typ := "text"
	for _, r := range text {
		if r > 0x7f {
			typ = "unicode"
		}
	}
	kw := ""
	if fs := strings.Fields(text); len(fs) > 0 {
		kw = strings.ToUpper(fs[0])
	}
	return url.Values{
		"msisdn": {strings.TrimPrefix(from, "+")}, "to": {strings.TrimPrefix(inboxNumber, "+")},
		"messageId": {id}, "text": {text}, "type": {typ}, "keyword": {kw},
		"api-key": {"abcd1234"}, "message-timestamp": {vonageTime},
	}
}

// part is one part of a concatenated inbound message.
func part(id, from, ref string, n, total int, text string) url.Values {
	p := inbound(id, from, text)
	p.Set("concat", "true")
	p.Set("concat-ref", ref)
	p.Set("concat-part", fmt.Sprint(n))
	p.Set("concat-total", fmt.Sprint(total))
	return p
}

// receipt is a delivery-receipt callback for part id.
func receipt(id, to, status, errCode, clientRef string) url.Values {
	p := url.Values{
		"messageId": {id}, "msisdn": {strings.TrimPrefix(to, "+")}, "to": {strings.TrimPrefix(inboxNumber, "+")},
		"status": {status}, "err-code": {errCode}, "price": {"0.03330000"}, "scts": {"2611240915"},
		"network-code": {"310260"}, "api-key": {"abcd1234"}, "message-timestamp": {vonageTime},
	}
	if clientRef != "" {
		p.Set("client-ref", clientRef)
	}
	return p
}

// phoneSeq hands out sender numbers no other test uses.
var phoneSeq atomic.Int64

func newPhone() string { return fmt.Sprintf("+1555020%04d", phoneSeq.Add(1)) }

// idSeq hands out provider message ids no other test uses.
var idSeq atomic.Int64

func newID(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e6, idSeq.Add(1))
}

// counts is a snapshot of the rows a callback may write.
type counts struct {
	Messages, Unrouted, Parts, Events, Outbox, Recipients, Consent, Delivered int
	// Pending are receipts kept for parts no recorded send owns yet.
	Pending int
}

func (f *fixture) counts() counts {
	f.t.Helper()
	var c counts
	err := f.store.DB().NewRaw(`SELECT
		(SELECT count(*) FROM messages) AS messages,
		(SELECT count(*) FROM unrouted_messages) AS unrouted,
		(SELECT count(*) FROM inbound_parts) AS parts,
		(SELECT count(*) FROM conversation_events) AS events,
		(SELECT count(*) FROM outbox) AS outbox,
		(SELECT count(*) FROM recipients) AS recipients,
		(SELECT count(*) FROM recipient_consent_events) AS consent,
		(SELECT count(*) FROM message_parts WHERE status <> 'sent' AND message_id IS NOT NULL) AS delivered,
		(SELECT count(*) FROM message_parts WHERE message_id IS NULL) AS pending`).Scan(context.Background(), &c)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// intQuery runs a query returning one integer.
func (f *fixture) intQuery(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.store.DB().NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// inboundBody returns the body of the inbound message stored under
// provider id, and whether there is exactly one.
func (f *fixture) inboundBody(id string) (string, int) {
	f.t.Helper()
	var bodies []string
	if err := f.store.DB().NewRaw(`SELECT body FROM messages WHERE provider = 'vonage' AND provider_message_id = ?
		AND direction = 'inbound'`, id).Scan(context.Background(), &bodies); err != nil {
		f.t.Fatal(err)
	}
	if len(bodies) == 0 {
		return "", 0
	}
	return bodies[0], len(bodies)
}

// scope is the demo admin's.
func (f *fixture) scope() models.Scope {
	return models.Scope{OrgID: f.demo.Org.ID, UserID: f.demo.Admin.ID, Role: models.RoleAdmin}
}

// sentMessage starts a conversation with to, claims the queued SMS and
// records it sent with the given provider part ids; it returns the
// message id.
func (f *fixture) sentMessage(to string, partIDs ...string) int64 {
	f.t.Helper()
	ctx := context.Background()
	ch, err := f.store.StartConversation(ctx, f.scope(), models.StartInput{InboxID: f.demo.Inbox.ID, To: to,
		Body: "Your appointment is confirmed for Tuesday."})
	if err != nil {
		f.t.Fatal(err)
	}
	var id int64
	for _, ev := range ch.Events {
		if ev.Kind == models.EvMessage && ev.MessageID != nil {
			id = *ev.MessageID
		}
	}
	if id == 0 {
		f.t.Fatalf("StartConversation made no message event: %+v", ch.Events)
	}
	if _, _, err := f.store.ClaimSMS(ctx, id); err != nil {
		f.t.Fatal(err)
	}
	if len(partIDs) > 0 {
		if _, err := f.store.RecordSent(ctx, id, "vonage", partIDs); err != nil {
			f.t.Fatal(err)
		}
	}
	return id
}

// messageStatus is a message's status.
func (f *fixture) messageStatus(id int64) string {
	f.t.Helper()
	var s string
	if err := f.store.DB().NewRaw("SELECT status FROM messages WHERE id = ?", id).Scan(context.Background(), &s); err != nil {
		f.t.Fatal(err)
	}
	return s
}

// deadStore is a Store whose PostgreSQL does not answer.
func deadStore(t *testing.T) *models.Store {
	t.Helper()
	cfg, err := pgx.ParseConfig("postgres://postgres@127.0.0.1:1/parley?sslmode=disable&connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	dead := bun.NewDB(sql.OpenDB(stdlib.GetConnector(*cfg)), pgdialect.New())
	t.Cleanup(func() { dead.Close() })
	return models.NewStore(dead)
}
