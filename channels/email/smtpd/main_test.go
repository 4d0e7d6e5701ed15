package smtpd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/channels/email/receive"
	"github.com/parley-chat/parley/channels/email/smtpd"
	"github.com/parley-chat/parley/internal/testenv"
	"github.com/parley-chat/parley/models"
)

var env testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, "smtpd", &env)) }

const (
	domain    = "parley.test"
	inboxAddr = "frontdesk@parley.test" // the demo inbox's address
)

// The store and the demo are shared by the package's tests: each uses
// senders and Message-IDs of its own.
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
			SMSNumber: "+15550100100", EmailAddress: inboxAddr,
		})
		shared.store, shared.demo, shared.err = st, demo, err
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.store, shared.demo
}

// recorder is a Notifier keeping every change it is handed.
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

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.changes)
}

// fixture is a listener on a loopback port storing into the shared
// database.
type fixture struct {
	t     testing.TB
	srv   *smtpd.Server
	store *models.Store
	demo  *models.DemoResult
	rec   *recorder
}

// options adjust a fixture's listener and receiver.
type options struct {
	cfg       smtpd.Config
	recvStore receive.Store // the receiver's store (default: the live one)
	// parseBounce stands in for email.ParseBounce (nil: the real one).
	parseBounce func([]byte) (*email.Bounce, error)
}

func newFixture(t testing.TB, o options) *fixture {
	t.Helper()
	st, demo := sharedStore(t)
	f := &fixture{t: t, store: st, demo: demo, rec: &recorder{}}
	var rs receive.Store = st
	if o.recvStore != nil {
		rs = o.recvStore
	}
	recv := receive.New(receive.Config{Domain: domain, Limits: email.Limits{MaxBytes: o.cfg.MaxBytes},
		ParseBounce: o.parseBounce, Logger: testLogger()}, rs, f.rec)
	cfg := o.cfg
	cfg.Addr, cfg.Domain, cfg.Logger = "127.0.0.1:0", domain, testLogger()
	srv, err := smtpd.New(cfg, st, recv)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return f
}

// testLogger discards logs unless PARLEY_TEST_LOG=1.
func testLogger() *slog.Logger {
	if os.Getenv("PARLEY_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// send delivers raw over SMTP with go-smtp's client.
func (f *fixture) send(from string, to []string, raw []byte) error {
	f.t.Helper()
	return sendMail(f.srv.Addr(), from, to, raw)
}

// sendMail delivers raw to the listener at addr in one session, as a
// relay would: plain SMTP on loopback (go-smtp's SendMail insists on
// STARTTLS).
func sendMail(addr, from string, to []string, raw []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SendMail(from, to, bytes.NewReader(raw)); err != nil {
		return err
	}
	return c.Quit()
}

// mustSend is send that fails the test on an error.
func (f *fixture) mustSend(from string, to []string, raw []byte) {
	f.t.Helper()
	if err := f.send(from, to, raw); err != nil {
		f.t.Fatalf("send: %v", err)
	}
}

// code is the SMTP reply code of err (0 when it is not a server reply).
func code(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

var seq atomic.Int64

// uniq is a fresh word for addresses and ids.
func uniq(prefix string) string {
	return fmt.Sprintf("%s%d%d", prefix, time.Now().UnixNano()%1e9, seq.Add(1))
}

// newSender is a person's address no other test uses.
func newSender() string { return uniq("person") + "@example.com" }

// newMsgID is a fresh bare Message-ID.
func newMsgID() string { return uniq("m") + "@mail.example.com" }

// plain is a simple text/plain message.
func plain(from, to, subject, msgID, text string, extra ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Pat Person <%s>\r\nTo: %s\r\nSubject: %s\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n", from, to, subject)
	if msgID != "" {
		fmt.Fprintf(&b, "Message-ID: <%s>\r\n", msgID)
	}
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(strings.ReplaceAll(text, "\n", "\r\n") + "\r\n")
	return []byte(b.String())
}

// stored is an inbound email message as the database holds it.
type stored struct {
	ID             int64  `bun:"id"`
	ConversationID int64  `bun:"conversation_id"`
	InboxID        int64  `bun:"inbox_id"`
	Body           string `bun:"body"`
	Automated      bool   `bun:"automated"`
	Reason         string `bun:"reason"`
	FullText       string `bun:"full_text"`
	From           string `bun:"from_addr"`
	To             string `bun:"to_addr"`
	RawLen         int    `bun:"raw_len"`
}

// byFrom lists the inbound email messages from sender, oldest first.
func (f *fixture) byFrom(sender string) []stored {
	f.t.Helper()
	var out []stored
	err := f.store.DB().NewRaw(`SELECT m.id, m.conversation_id, c.inbox_id, m.body, m.automated, em.automated AS reason,
			em.full_text, em.from_addr, em.to_addr, coalesce(length(em.raw), 0) AS raw_len
		FROM email_messages AS em JOIN messages AS m ON m.id = em.message_id
		JOIN conversations AS c ON c.id = m.conversation_id
		WHERE em.from_addr = ? AND m.direction = 'inbound' ORDER BY m.id`, strings.ToLower(sender)).Scan(context.Background(), &out)
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// one is the single message from sender.
func (f *fixture) one(sender string) stored {
	f.t.Helper()
	got := f.byFrom(sender)
	if len(got) != 1 {
		f.t.Fatalf("%d messages from %s, want 1: %+v", len(got), sender, got)
	}
	return got[0]
}

// messageCount counts all messages (for "nothing stored").
func (f *fixture) messageCount() int {
	f.t.Helper()
	var n int
	if err := f.store.DB().NewRaw(`SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM unrouted_messages)`).
		Scan(context.Background(), &n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// token is a conversation's reply token.
func (f *fixture) token(convID int64) string {
	f.t.Helper()
	var tok string
	if err := f.store.DB().NewRaw("SELECT token FROM email_threads WHERE conversation_id = ?", convID).
		Scan(context.Background(), &tok); err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// replyAddr is the reply address of a conversation of the demo inbox.
func (f *fixture) replyAddr(convID int64) string {
	return email.ReplyAddress("frontdesk", f.token(convID), domain)
}

// sent records a mail we sent in conversation convID (as the outbound
// worker does) and returns its Message-ID.
func (f *fixture) sent(convID int64) string {
	f.t.Helper()
	ctx := context.Background()
	id := uniq("out") + "@parley.test"
	var msgID int64
	if err := f.store.DB().NewRaw(`INSERT INTO messages (org_id, conversation_id, direction, channel, body, author_type, status)
		VALUES (?, ?, 'outbound', 'email', 'Our answer', 'user', 'sent') RETURNING id`, f.demo.Org.ID, convID).Scan(ctx, &msgID); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.store.DB().NewRaw(`INSERT INTO email_messages (message_id, org_id, header_id, subject) VALUES (?, ?, ?, 'Re: Hello')`,
		msgID, f.demo.Org.ID, id).Exec(ctx); err != nil {
		f.t.Fatal(err)
	}
	return id
}

// newInbox adds an inbox with an email address to the demo organization.
func (f *fixture) newInbox() (int64, string) {
	f.t.Helper()
	addr := uniq("inbox") + "@" + domain
	var id int64
	if err := f.store.DB().NewRaw(`INSERT INTO inboxes (org_id, location_id, name, email_address) VALUES (?, ?, ?, ?) RETURNING id`,
		f.demo.Org.ID, f.demo.Location.ID, "Inbox "+addr, addr).Scan(context.Background(), &id); err != nil {
		f.t.Fatal(err)
	}
	return id, addr
}

// start has sender write to the demo inbox and returns the stored message.
func (f *fixture) start(sender string) stored {
	f.t.Helper()
	f.mustSend(sender, []string{inboxAddr}, plain(sender, inboxAddr, "Booking question", newMsgID(),
		"Hello, can I move my booking to Friday?"))
	got := f.byFrom(sender)
	if len(got) == 0 {
		f.t.Fatalf("nothing stored from %s", sender)
	}
	return got[len(got)-1]
}
