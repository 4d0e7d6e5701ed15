package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/models"
)

// queuedEmails counts the email:send outbox rows for a message.
func (f *mailFixture) queuedEmails(msgID int64) int {
	return f.count("SELECT count(*) FROM outbox WHERE task_type = 'email:send' AND (payload->>'message_id')::bigint = ?", msgID)
}

// lastMessageID is the id of the newest message event of a change.
func lastMessageID(t *testing.T, ch *models.Change) int64 {
	t.Helper()
	for i := len(ch.Events) - 1; i >= 0; i-- {
		if ch.Events[i].MessageID != nil {
			return *ch.Events[i].MessageID
		}
	}
	t.Fatalf("no message in %+v", ch)
	return 0
}

// sentEmail is what the worker records for a claimed email.
func sentEmail(out *models.OutboundEmail) models.SentEmail {
	return models.SentEmail{HeaderID: uniq("sent") + "@parley.test", InReplyTo: out.InReplyTo,
		References: append(append([]string{}, out.References...), out.InReplyTo), Subject: email.ReplySubject(out.Subject),
		From: out.From, To: out.To, BounceToken: email.NewToken(), Raw: []byte("raw bytes")}
}

// TestStartEmailChat: an email address starts an email chat, which needs a
// subject (refused next to the field, nothing stored, without one or with
// one too long); the new conversation gets its thread and its first
// message is queued as email:send.
func TestStartEmailChat(t *testing.T) {
	f := newMailFixture(t)
	ctx := context.Background()
	inboxID, _ := f.inbox()
	to := uniq("New.Person") + "@Example.org"
	rows := func() int {
		return f.count(`SELECT (SELECT count(*) FROM recipients) + (SELECT count(*) FROM conversations)
			+ (SELECT count(*) FROM messages) + (SELECT count(*) FROM outbox) + (SELECT count(*) FROM email_threads)`)
	}
	before := rows()
	for name, subject := range map[string]string{"none": "  ", "too long": strings.Repeat("x", models.MaxSubjectLength+1), "two lines": "a\nb", "nul": "a\x00"} {
		_, err := f.st.StartConversation(ctx, f.admin, models.StartInput{InboxID: inboxID, To: to, Body: "hello", Subject: subject})
		var fe *models.FieldError
		if !errors.As(err, &fe) || fe.Field != "subject" {
			t.Errorf("%s: got %v, want a field error on subject", name, err)
		}
	}
	if after := rows(); after != before {
		t.Fatalf("refused starts stored %d rows", after-before)
	}
	ch, err := f.st.StartConversation(ctx, f.admin, models.StartInput{InboxID: inboxID, To: to, Body: "Your order is ready", Subject: " Order 12 "})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Conversation.Channel != models.ChannelEmail {
		t.Fatalf("conversation %+v", ch.Conversation)
	}
	var subject string
	if err := f.st.DB().NewRaw("SELECT subject FROM email_threads WHERE conversation_id = ?", ch.Conversation.ID).Scan(ctx, &subject); err != nil || subject != "Order 12" {
		t.Fatalf("thread subject %q (%v)", subject, err)
	}
	if n := f.queuedEmails(lastMessageID(t, ch)); n != 1 {
		t.Fatalf("%d email:send rows", n)
	}
	// An SMS start ignores the subject and still queues sms:send.
	if _, err := f.st.StartConversation(ctx, f.admin, models.StartInput{InboxID: f.demo.Inbox.ID, To: "+15550107777", Body: "hi", Subject: ""}); err != nil {
		t.Fatalf("sms start: %v", err)
	}
}

// TestEmailReplyClaimRecord: a reply on an inbound email conversation is
// queued as email:send; its claim carries the thread (token, subject,
// In-Reply-To the recipient's mail), the names, and an unsubscribe token
// it made; a second claim is refused while the first is live; recording
// it sent stores the email row and moves it to sent once; the next reply
// threads onto our own last email.
func TestEmailReplyClaimRecord(t *testing.T) {
	f := newMailFixture(t)
	ctx := context.Background()
	_, addr := f.inbox()
	in := mail(uniq("pat")+"@example.com", addr, "Re: Opening hours", "When do you open?")
	in.FromName = "Pat Doe"
	in.References = []string{"older@example.com"}
	conv := f.conv(f.receive(in))

	ch, err := f.st.Reply(ctx, f.admin, conv.ID, "At nine.", false)
	if err != nil {
		t.Fatal(err)
	}
	msgID := lastMessageID(t, ch)
	if n := f.queuedEmails(msgID); n != 1 {
		t.Fatalf("%d email:send rows", n)
	}
	out, failed, err := f.st.ClaimEmail(ctx, msgID)
	if err != nil || failed != nil {
		t.Fatalf("claim: %v %+v", err, failed)
	}
	if out.MessageID != msgID || out.From != addr || out.FromName != "Inbox "+addr || out.To != in.From || out.ToName != "Pat Doe" ||
		out.ThreadToken != f.token(conv.ID) || out.Subject != "Opening hours" || out.InReplyTo != in.HeaderID ||
		len(out.References) != 1 || out.References[0] != "older@example.com" || out.Body != "At nine." || out.Automated != email.ByPerson {
		t.Errorf("claimed %+v", out)
	}
	var stored string
	if err := f.st.DB().NewRaw("SELECT unsubscribe_token FROM recipients WHERE email = ?", in.From).Scan(ctx, &stored); err != nil || stored == "" || stored != out.UnsubscribeToken {
		t.Errorf("unsubscribe token %q stored %q (%v)", out.UnsubscribeToken, stored, err)
	}
	if _, _, err := f.st.ClaimEmail(ctx, msgID); !errors.Is(err, models.ErrClaimed) {
		t.Errorf("second claim: %v, want ErrClaimed", err)
	}
	if _, _, err := f.st.ClaimSMS(ctx, msgID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("claimed as SMS: %v, want ErrNotFound", err)
	}

	sent := sentEmail(out)
	rec, err := f.st.RecordEmailSent(ctx, msgID, sent)
	if err != nil || rec == nil {
		t.Fatalf("record: %+v %v", rec, err)
	}
	m := rec.Events[0].Message
	if m == nil || m.Status != models.MsgSent || m.Email == nil || m.Email.HeaderID != sent.HeaderID || m.Email.Raw != nil {
		t.Errorf("recorded change message %+v", m)
	}
	if again, err := f.st.RecordEmailSent(ctx, msgID, sent); err != nil || again != nil {
		t.Errorf("recording again: %+v %v", again, err)
	}
	if n := f.count(`SELECT count(*) FROM email_messages WHERE message_id = ? AND header_id = ? AND in_reply_to = ? AND bounce_token = ?
		AND raw = 'raw bytes' AND to_addr = ? AND subject = 'Re: Opening hours'`, msgID, sent.HeaderID, in.HeaderID, sent.BounceToken, in.From); n != 1 {
		t.Errorf("%d matching email rows", n)
	}
	if n := f.count("SELECT count(*) FROM messages WHERE id = ? AND status = 'sent' AND provider = ? AND sent_at IS NOT NULL", msgID, models.ProviderEmail); n != 1 {
		t.Errorf("message not sent")
	}

	ch2, err := f.st.Reply(ctx, f.admin, conv.ID, "And close at five.", false)
	if err != nil {
		t.Fatal(err)
	}
	out2, _, err := f.st.ClaimEmail(ctx, lastMessageID(t, ch2))
	if err != nil {
		t.Fatal(err)
	}
	if out2.InReplyTo != sent.HeaderID || strings.Join(out2.References, " ") != "older@example.com "+in.HeaderID ||
		out2.UnsubscribeToken != out.UnsubscribeToken || out2.ThreadToken != out.ThreadToken {
		t.Errorf("second reply threads as %+v", out2)
	}
}

// TestEmailGate: composing refuses an opted-out recipient like SMS; an
// email queued before the opt-out fails at its claim with the reason.
func TestEmailGate(t *testing.T) {
	f := newMailFixture(t)
	ctx := context.Background()
	_, addr := f.inbox()
	in := mail(uniq("gate")+"@example.com", addr, "Hi", "hello")
	conv := f.conv(f.receive(in))
	ch, err := f.st.Reply(ctx, f.admin, conv.ID, "queued first", false)
	if err != nil {
		t.Fatal(err)
	}
	msgID := lastMessageID(t, ch)
	tok := f.unsubscribeToken(in.From)
	if _, err := f.st.UnsubscribeEmail(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Reply(ctx, f.admin, conv.ID, "after the opt-out", false); !errors.Is(err, models.ErrOptedOut) {
		t.Errorf("reply after opt-out: %v, want ErrOptedOut", err)
	}
	_, failed, err := f.st.ClaimEmail(ctx, msgID)
	if !errors.Is(err, models.ErrNotSendable) || failed == nil {
		t.Fatalf("claim after opt-out: %v %+v", err, failed)
	}
	if m := failed.Events[0].Message; m.Status != models.MsgFailed || m.StatusReason != models.ReasonOptedOut {
		t.Errorf("failed as %s %q", m.Status, m.StatusReason)
	}
	// Committed, not only reported.
	if n := f.count("SELECT count(*) FROM messages WHERE id = ? AND status = 'failed' AND status_reason = ?", msgID, models.ReasonOptedOut); n != 1 {
		t.Errorf("the failure was not stored")
	}
}

// unsubscribeToken gives a recipient an unsubscribe token (as a claim
// does) and returns it.
func (f *mailFixture) unsubscribeToken(addr string) string {
	f.t.Helper()
	tok := email.NewToken()
	if _, err := f.st.DB().NewRaw("UPDATE recipients SET unsubscribe_token = ? WHERE email = ? AND org_id = ?", tok, addr, f.demo.Org.ID).Exec(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// sendOne replies on a new inbound conversation, claims and records the
// reply, and returns its message id and bounce token.
func (f *mailFixture) sendOne() (int64, string) {
	f.t.Helper()
	ctx := context.Background()
	_, addr := f.inbox()
	conv := f.conv(f.receive(mail(uniq("b")+"@example.com", addr, "Hi", "hello")))
	ch, err := f.st.Reply(ctx, f.admin, conv.ID, "answer", false)
	if err != nil {
		f.t.Fatal(err)
	}
	msgID := lastMessageID(f.t, ch)
	out, _, err := f.st.ClaimEmail(ctx, msgID)
	if err != nil {
		f.t.Fatal(err)
	}
	sent := sentEmail(out)
	if _, err := f.st.RecordEmailSent(ctx, msgID, sent); err != nil {
		f.t.Fatal(err)
	}
	return msgID, sent.BounceToken
}

// TestRecordBounce: a bounce fails the message it names with the reason,
// live; a second bounce changes nothing; an unknown token is ErrNotFound.
func TestRecordBounce(t *testing.T) {
	f := newMailFixture(t)
	ctx := context.Background()
	msgID, tok := f.sendOne()
	if _, err := f.st.RecordBounce(ctx, email.NewToken(), "nope"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("unknown token: %v", err)
	}
	if _, err := f.st.RecordBounce(ctx, "not a token", "nope"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("malformed token: %v", err)
	}
	ch, err := f.st.RecordBounce(ctx, strings.ToUpper(tok), "550 5.1.1 user unknown")
	if err != nil || ch == nil {
		t.Fatalf("bounce: %+v %v", ch, err)
	}
	m := ch.Events[0].Message
	if m.ID != msgID || m.Status != models.MsgFailed || m.StatusReason != "Bounced: 550 5.1.1 user unknown" {
		t.Errorf("bounced message %+v", m)
	}
	if ch, err := f.st.RecordBounce(ctx, tok, "again"); err != nil || ch != nil {
		t.Errorf("second bounce: %+v %v", ch, err)
	}
	if n := f.count("SELECT count(*) FROM messages WHERE id = ? AND status_reason = 'Bounced: 550 5.1.1 user unknown'", msgID); n != 1 {
		t.Errorf("reason overwritten")
	}
}

// TestUnsubscribeEmail: the link's token opts the recipient out of email
// once, into the consent history and onto its open email conversation;
// an unknown token is ErrNotFound and changes nothing.
func TestUnsubscribeEmail(t *testing.T) {
	f := newMailFixture(t)
	ctx := context.Background()
	_, addr := f.inbox()
	in := mail(uniq("unsub")+"@example.com", addr, "Hi", "hello")
	conv := f.conv(f.receive(in))
	tok := f.unsubscribeToken(in.From)
	for _, bad := range []string{email.NewToken(), "", "x'; --"} {
		if _, err := f.st.UnsubscribeEmail(ctx, bad); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("token %q: %v, want ErrNotFound", bad, err)
		}
		if _, err := f.st.UnsubscribeInfo(ctx, bad); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("info %q: %v, want ErrNotFound", bad, err)
		}
	}
	info, err := f.st.UnsubscribeInfo(ctx, tok)
	if err != nil || info.Email != in.From || info.OptedOut || info.OrgName == "" {
		t.Fatalf("info %+v %v", info, err)
	}
	changes, err := f.st.UnsubscribeEmail(ctx, tok)
	if err != nil || len(changes) != 1 || changes[0].Conversation.ID != conv.ID || changes[0].Events[0].Kind != models.EvOptedOut {
		t.Fatalf("unsubscribe: %+v %v", changes, err)
	}
	if changes, err := f.st.UnsubscribeEmail(ctx, tok); err != nil || len(changes) != 0 {
		t.Errorf("again: %+v %v", changes, err)
	}
	if n := f.count(`SELECT count(*) FROM recipient_consent_events ce JOIN recipients r ON r.id = ce.recipient_id
		WHERE r.email = ? AND ce.channel = 'email' AND ce.action = 'opt_out' AND ce.source = 'unsubscribe'`, in.From); n != 1 {
		t.Errorf("%d consent events", n)
	}
	if info, err := f.st.UnsubscribeInfo(ctx, tok); err != nil || !info.OptedOut {
		t.Errorf("info after: %+v %v", info, err)
	}
}
