package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/internal/smtpsink"
	"github.com/parley-chat/parley/jobs"
	"github.com/parley-chat/parley/models"
)

// testEmailCfg is the worker's email configuration in tests.
var testEmailCfg = jobs.EmailConfig{Domain: "parley.test", BaseURL: "https://parley.example/"}

// demoInboxAddr is the demo inbox's email address (see newHarness).
const demoInboxAddr = "demo@inbound.parley.test"

// emailSink is the harness's SMTP server. It refuses gone@… for good
// (550), and busyN@… with a 451 the first N times it is asked.
func emailSink(t *testing.T) *smtpsink.Sink {
	var mu sync.Mutex
	asked := map[string]int{}
	return smtpsink.Start(t, smtpsink.Options{TLS: true, Refuse: func(rcpt string) *smtp.SMTPError {
		local, _, _ := strings.Cut(rcpt, "@")
		switch {
		case strings.HasPrefix(local, "gone"):
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
		case strings.HasPrefix(local, "busy"):
			var n int
			fmt.Sscanf(strings.TrimPrefix(local, "busy"), "%d", &n)
			mu.Lock()
			defer mu.Unlock()
			if asked[rcpt]++; asked[rcpt] <= n {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
			}
		}
		return nil
	}})
}

// relay is the production relay pointed at the harness's sink.
func (h *harness) relay() *email.Relay {
	h.t.Helper()
	r, err := email.NewRelay("smtp://"+h.mail.Addr, email.RelayOptions{TLSConfig: h.mail.ClientTLS, Timeout: 5 * time.Second})
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// noEmail is an email sender for workers that send no email.
type noEmail struct{}

func (noEmail) Send(context.Context, email.Envelope, []byte) error {
	return errors.New("no email expected")
}

// inboundMail stores an email from addr to the demo inbox and returns its
// conversation and Message-ID.
func (h *harness) inboundMail(addr, subject string) (int64, string) {
	h.t.Helper()
	id := fmt.Sprintf("in-%d@mail.example", phoneSeq.Add(1))
	r, err := h.store.ReceiveEmail(h.ctx, models.InboundEmail{To: demoInboxAddr, From: addr, FromName: "Pat Doe",
		Subject: subject, HeaderID: id, Text: "When do you open?", FullText: "When do you open?",
		Raw: []byte("Subject: " + subject + "\r\n\r\nWhen do you open?"), ReceivedAt: time.Now()})
	if err != nil || r.Change == nil {
		h.t.Fatalf("receive: %+v %v", r, err)
	}
	return r.Change.Conversation.ID, id
}

// newMailbox is an address no other test of the run uses.
func newMailbox(prefix string) string {
	return fmt.Sprintf("%s-%d@mail.example", prefix, phoneSeq.Add(1))
}

// A reply on an email conversation goes out once through the real relay
// (STARTTLS) with the thread's headers, the bounce address as return
// path and the unsubscribe link; the message, its email row, its outbox
// entry and the agents' screens show it sent; a bounce to its return
// path then fails it.
func TestEmailSendEndToEnd(t *testing.T) {
	h := newHarness(t, vonageOK)
	pat := newMailbox("pat")
	convID, inID := h.inboundMail(pat, "Opening hours")
	msgID := h.reply(convID, "We open at nine.")

	relay, _ := h.startRelay()
	relay.Kick()
	h.startWorker(2, jobs.SMSConfig{})
	if !h.mail.Wait(15 * time.Second) {
		t.Fatal("no email reached the sink")
	}
	row := h.waitDone(msgID, 15*time.Second)
	if row.LastError != "" {
		t.Errorf("outbox last_error %q", row.LastError)
	}
	msgs := h.mail.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d emails", len(msgs))
	}
	got := msgs[0]
	token, ok := email.ParseBounceAddress(got.From, "parley.test")
	if !ok || !got.TLS || len(got.To) != 1 || got.To[0] != pat {
		t.Fatalf("envelope %+v", got)
	}
	in, err := email.Parse(got.Data, email.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var thread, unsub string
	if err := h.store.DB().NewRaw("SELECT token FROM email_threads WHERE conversation_id = ?", convID).Scan(h.ctx, &thread); err != nil {
		t.Fatal(err)
	}
	if err := h.store.DB().NewRaw("SELECT unsubscribe_token FROM recipients WHERE email = ?", pat).Scan(h.ctx, &unsub); err != nil {
		t.Fatal(err)
	}
	if in.From.Email != demoInboxAddr || in.Subject != "Re: Opening hours" || in.InReplyTo != inID ||
		len(in.References) != 1 || in.References[0] != inID || in.Text != "We open at nine." {
		t.Errorf("parsed %+v", in)
	}
	if rt := in.Header.Get("Reply-To"); !strings.Contains(rt, "demo+"+thread+"@parley.test") {
		t.Errorf("Reply-To %q, thread %s", rt, thread)
	}
	if lu := in.Header.Get("List-Unsubscribe"); lu != "<https://parley.example/unsubscribe/"+unsub+">" ||
		in.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe %q", lu)
	}
	if in.Header.Get("Auto-Submitted") != "" {
		t.Errorf("an agent's reply is marked Auto-Submitted")
	}
	m := h.message(msgID)
	if m.Status != models.MsgSent || m.Provider != models.ProviderEmail || m.SentAt == nil {
		t.Errorf("message %s provider %q", m.Status, m.Provider)
	}
	var stored struct {
		HeaderID    string `bun:"header_id"`
		BounceToken string `bun:"bounce_token"`
		Raw         []byte `bun:"raw"`
	}
	if err := h.store.DB().NewRaw("SELECT header_id, bounce_token, raw FROM email_messages WHERE message_id = ?", msgID).Scan(h.ctx, &stored); err != nil {
		t.Fatal(err)
	}
	if stored.HeaderID != in.MessageID || stored.BounceToken != token || !strings.Contains(string(got.Data), strings.TrimSpace(string(stored.Raw[len(stored.Raw)-40:]))) {
		t.Errorf("email row %s %s, sent %s %s", stored.HeaderID, stored.BounceToken, in.MessageID, token)
	}
	if evs := h.notes.statusEvents(msgID); len(evs) != 1 || evs[0].Detail["status"] != models.MsgSent {
		t.Errorf("notified %+v", evs)
	}

	ch, err := h.store.RecordBounce(h.ctx, token, "550 5.1.1 mailbox gone")
	if err != nil || ch == nil {
		t.Fatalf("bounce: %+v %v", ch, err)
	}
	if m := h.message(msgID); m.Status != models.MsgFailed || !strings.Contains(m.StatusReason, "mailbox gone") {
		t.Errorf("after the bounce: %s %q", m.Status, m.StatusReason)
	}
}

// The relay's 550 fails the message with the server's words and ends the
// task: archived, never retried.
func TestEmailRejectionIsPermanent(t *testing.T) {
	h := newHarness(t, vonageOK)
	convID, _ := h.inboundMail(newMailbox("gone"), "Hello")
	msgID := h.reply(convID, "Hi there")
	relay, _ := h.startRelay()
	relay.Kick()
	h.startWorker(1, jobs.SMSConfig{})
	row := h.waitDone(msgID, 15*time.Second)
	m := h.message(msgID)
	if m.Status != models.MsgFailed || !strings.Contains(m.StatusReason, "550") || !strings.Contains(m.StatusReason, "No such user here") {
		t.Errorf("message %s %q", m.Status, m.StatusReason)
	}
	if row.LastError != m.StatusReason {
		t.Errorf("outbox last_error %q", row.LastError)
	}
	waitUntil(t, 10*time.Second, "the task to be archived", func() bool {
		info := h.taskInfo(row.ID)
		return info != nil && info.State == asynq.TaskStateArchived
	})
	if n := h.mail.Count(); n != 0 {
		t.Errorf("%d emails accepted", n)
	}
	if evs := h.notes.statusEvents(msgID); len(evs) != 1 || evs[0].Detail["status"] != models.MsgFailed {
		t.Errorf("notified %+v", evs)
	}
}

// A 451 is retried; the message stays sending meanwhile and goes out
// once the server takes it.
func TestEmailTemporaryErrorIsRetried(t *testing.T) {
	h := newHarness(t, vonageOK)
	convID, _ := h.inboundMail(newMailbox("busy2"), "Hello")
	msgID := h.reply(convID, "Hi there")
	var mu sync.Mutex
	var retries []string
	relay, _ := h.startRelay()
	relay.Kick()
	h.startWorker(1, jobs.SMSConfig{}, func(c *jobs.WorkerConfig) {
		c.RetryDelay = func(n int, err error, _ *asynq.Task) time.Duration {
			var status string
			_ = h.store.DB().NewRaw("SELECT status FROM messages WHERE id = ?", msgID).Scan(context.Background(), &status)
			mu.Lock()
			retries = append(retries, status+" "+err.Error())
			mu.Unlock()
			return 20 * time.Millisecond
		}
	})
	h.waitDone(msgID, 30*time.Second)
	mu.Lock()
	defer mu.Unlock()
	if len(retries) != 2 {
		t.Fatalf("retries %q, want 2", retries)
	}
	for _, r := range retries {
		if !strings.HasPrefix(r, models.MsgSending+" ") || !strings.Contains(r, "451") {
			t.Errorf("retry %q, want the message sending and the 451", r)
		}
	}
	if m := h.message(msgID); m.Status != models.MsgSent {
		t.Errorf("message %s %q", m.Status, m.StatusReason)
	}
	if n := h.mail.Count(); n != 1 {
		t.Errorf("%d emails accepted", n)
	}
}

// An email queued before the recipient unsubscribed is not sent: the
// claim fails it with the reason, live.
func TestEmailUnsubscribedBeforeSend(t *testing.T) {
	h := newHarness(t, vonageOK)
	addr := newMailbox("leaving")
	convID, _ := h.inboundMail(addr, "Hello")
	msgID := h.reply(convID, "Hi there")
	tok := email.NewToken()
	if _, err := h.store.DB().NewRaw("UPDATE recipients SET unsubscribe_token = ? WHERE email = ?", tok, addr).Exec(h.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.UnsubscribeEmail(h.ctx, tok); err != nil {
		t.Fatal(err)
	}
	relay, _ := h.startRelay()
	relay.Kick()
	h.startWorker(1, jobs.SMSConfig{})
	h.waitDone(msgID, 15*time.Second)
	if m := h.message(msgID); m.Status != models.MsgFailed || m.StatusReason != models.ReasonOptedOut {
		t.Errorf("message %s %q", m.Status, m.StatusReason)
	}
	if n := h.mail.Count(); n != 0 {
		t.Errorf("%d emails sent to an unsubscribed recipient", n)
	}
}
