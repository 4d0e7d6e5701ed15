package models_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/models"
)

// The package's tests share one database: every email test uses
// addresses and Message-IDs of its own.
var mailSeq atomic.Int64

// uniq is a fresh word for addresses and ids.
func uniq(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), mailSeq.Add(1))
}

// mailFixture is the demo organization with its inbox and helpers to
// make more inboxes and the mail we sent.
type mailFixture struct {
	t     *testing.T
	st    *models.Store
	demo  *models.DemoResult
	admin models.Scope
}

func newMailFixture(t *testing.T) *mailFixture {
	st, demo, admin, _ := chatFixture(t)
	return &mailFixture{t: t, st: st, demo: demo, admin: admin}
}

// inbox adds an inbox with an email address to the demo organization and
// returns its id and address.
func (f *mailFixture) inbox() (int64, string) {
	f.t.Helper()
	addr := uniq("inbox") + "@inbound.parley.test"
	var id int64
	if err := f.st.DB().NewRaw(`INSERT INTO inboxes (org_id, location_id, name, email_address) VALUES (?, ?, ?, ?) RETURNING id`,
		f.demo.Org.ID, f.demo.Location.ID, "Inbox "+addr, addr).Scan(context.Background(), &id); err != nil {
		f.t.Fatal(err)
	}
	return id, addr
}

// mail is a person's email from sender to addr.
func mail(from, to, subject, text string) models.InboundEmail {
	return models.InboundEmail{From: from, FromName: "", To: to, Subject: subject, HeaderID: uniq("m") + "@mail.example.com",
		Text: text, FullText: text, Raw: []byte("Subject: " + subject + "\r\n\r\n" + text), ReceivedAt: time.Now()}
}

// receive stores in and fails the test on an error.
func (f *mailFixture) receive(in models.InboundEmail) *models.InboundResult {
	f.t.Helper()
	r, err := f.st.ReceiveEmail(context.Background(), in)
	if err != nil {
		f.t.Fatalf("receive %s: %v", in.HeaderID, err)
	}
	return r
}

// conv is the conversation a stored mail went to.
func (f *mailFixture) conv(r *models.InboundResult) models.ConversationRow {
	f.t.Helper()
	if r.Change == nil {
		f.t.Fatalf("not stored: %+v", r)
	}
	return r.Change.Conversation
}

// sent records a mail we sent in conversation convID (as the outbound
// worker does: a message and its email_messages row) and returns its
// Message-ID.
func (f *mailFixture) sent(convID int64) string {
	f.t.Helper()
	ctx := context.Background()
	id := uniq("out") + "@parley.test"
	var msgID int64
	if err := f.st.DB().NewRaw(`INSERT INTO messages (org_id, conversation_id, direction, channel, body, author_type, status)
		VALUES (?, ?, 'outbound', 'email', 'Our answer', 'user', 'sent') RETURNING id`, f.demo.Org.ID, convID).Scan(ctx, &msgID); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.st.DB().NewRaw(`INSERT INTO email_messages (message_id, org_id, header_id, subject) VALUES (?, ?, ?, 'Re: Hello')`,
		msgID, f.demo.Org.ID, id).Exec(ctx); err != nil {
		f.t.Fatal(err)
	}
	return id
}

// token is the reply token of a conversation's thread.
func (f *mailFixture) token(convID int64) string {
	f.t.Helper()
	var tok string
	if err := f.st.DB().NewRaw("SELECT token FROM email_threads WHERE conversation_id = ?", convID).Scan(context.Background(), &tok); err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// replyTo is the reply address of a conversation, as the edge reads it.
func replyTo(in models.InboundEmail, inboxAddr, token string) models.InboundEmail {
	local, domain, _ := strings.Cut(inboxAddr, "@")
	in.To, in.Token = email.ReplyAddress(local, token, domain), token
	return in
}

// TestReceiveEmailThreadingOrder: the reply token beats References, which
// beat the address the mail was sent to; each rule alone routes too.
func TestReceiveEmailThreadingOrder(t *testing.T) {
	f := newMailFixture(t)
	pat := uniq("pat") + "@example.com"
	inboxA, addrA := f.inbox()
	inboxB, addrB := f.inbox()
	inboxC, addrC := f.inbox()

	// Pat has a conversation in each of A and B; we wrote to Pat from B.
	convA := f.conv(f.receive(mail(pat, addrA, "In A", "hello A")))
	convB := f.conv(f.receive(mail(pat, addrB, "In B", "hello B")))
	if convA.InboxID != inboxA || convB.InboxID != inboxB || convA.ID == convB.ID {
		t.Fatalf("by address: %+v %+v", convA, convB)
	}
	sentB := f.sent(convB.ID)
	tokA := f.token(convA.ID)

	// Token (A) + References (B) + To (C): the token wins.
	in := replyTo(mail(pat, addrC, "Re: In A", "token wins"), addrA, tokA)
	in.InReplyTo, in.References = sentB, []string{sentB}
	if c := f.conv(f.receive(in)); c.ID != convA.ID || c.InboxID != inboxA {
		t.Errorf("token + references: went to conversation %d in inbox %d, want %d in %d", c.ID, c.InboxID, convA.ID, inboxA)
	}
	// References (B) + To (C): the references win.
	in = mail(pat, addrC, "Re: In B", "references win")
	in.References = []string{"unknown@elsewhere.example", sentB}
	if c := f.conv(f.receive(in)); c.ID != convB.ID || c.InboxID != inboxB {
		t.Errorf("references + to: went to conversation %d in inbox %d, want %d in %d", c.ID, c.InboxID, convB.ID, inboxB)
	}
	// In-Reply-To alone, to the same address (C): the references again.
	in = mail(pat, addrC, "Re: In B", "in-reply-to")
	in.InReplyTo = sentB
	if c := f.conv(f.receive(in)); c.ID != convB.ID {
		t.Errorf("in-reply-to: went to conversation %d, want %d", c.ID, convB.ID)
	}
	// Nothing known: the address (C), a new conversation there.
	in = mail(pat, addrC, "New", "to C")
	in.InReplyTo = "never-sent@parley.test"
	c := f.conv(f.receive(in))
	if c.InboxID != inboxC || c.ID == convA.ID || c.ID == convB.ID {
		t.Errorf("by address: %+v", c)
	}
	// Mixed-case addresses are the same addresses.
	in = mail(strings.ToUpper(pat), " "+strings.ToUpper(addrC)+" ", "Again", "shouting")
	if again := f.conv(f.receive(in)); again.ID != c.ID {
		t.Errorf("upper-case addresses went to conversation %d, want %d", again.ID, c.ID)
	}
}

// TestReceiveEmailReferencesScopedToSender: References name a mail we
// sent only for its own recipient. A stranger quoting our Message-ID gets
// a conversation of their own (in the inbox they wrote to), and two people
// answering one mail never merge.
func TestReceiveEmailReferencesScopedToSender(t *testing.T) {
	f := newMailFixture(t)
	pat, sam := uniq("pat")+"@example.com", uniq("sam")+"@example.com"
	inboxA, addrA := f.inbox()
	inboxB, addrB := f.inbox()
	convPat := f.conv(f.receive(mail(pat, addrA, "Hello", "hi")))
	sent := f.sent(convPat.ID)

	// Sam, forwarded our mail, answers it to inbox B: Sam's own
	// conversation in B, not Pat's in A.
	in := mail(sam, addrB, "Re: Hello", "I am Sam")
	in.InReplyTo, in.References = sent, []string{sent}
	samConv := f.conv(f.receive(in))
	if samConv.ID == convPat.ID || samConv.InboxID != inboxB || samConv.RecipientEmail == nil || *samConv.RecipientEmail != sam {
		t.Errorf("stranger quoting our Message-ID: %+v", samConv)
	}
	// Both answer the same mail through the inbox's address.
	for _, who := range []string{pat, sam} {
		in := mail(who, addrA, "Re: Hello", "answer from "+who)
		in.InReplyTo = sent
		c := f.conv(f.receive(in))
		if c.InboxID != inboxA || c.RecipientEmail == nil || *c.RecipientEmail != who {
			t.Errorf("%s's answer: %+v", who, c)
		}
		if who == pat && c.ID != convPat.ID {
			t.Errorf("Pat's answer went to conversation %d, want %d", c.ID, convPat.ID)
		}
		if who == sam && (c.ID == convPat.ID || c.ID == samConv.ID) {
			t.Errorf("Sam's answer in inbox A merged into conversation %d", c.ID)
		}
	}
	// Sam writes to Pat's reply address (the token): the token's inbox, but
	// Sam's conversation there, never Pat's.
	in = replyTo(mail(sam, "", "Re: Hello", "with Pat's token"), addrA, f.token(convPat.ID))
	c := f.conv(f.receive(in))
	if c.InboxID != inboxA || c.ID == convPat.ID || c.RecipientEmail == nil || *c.RecipientEmail != sam {
		t.Errorf("another sender's token: %+v", c)
	}
	var n int
	if err := f.st.DB().NewRaw("SELECT count(*) FROM messages WHERE conversation_id = ?", convPat.ID).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	if n != 3 { // Pat's first mail, our answer, Pat's reply
		t.Errorf("Pat's conversation holds %d messages, want 3", n)
	}
}

// TestReceiveEmailUnknownToken: a reply address whose token names no
// thread, like an address no inbox owns, is kept as unrouted, once.
func TestReceiveEmailUnknownToken(t *testing.T) {
	f := newMailFixture(t)
	_, addr := f.inbox()
	in := replyTo(mail(uniq("pat")+"@example.com", "", "Re: old", "anyone?"), addr, email.NewToken())
	for i := 0; i < 2; i++ {
		r := f.receive(in)
		if !r.Unrouted || r.Change != nil {
			t.Fatalf("unknown token, try %d: %+v", i, r)
		}
	}
	stray := mail(uniq("pat")+"@example.com", uniq("nobody")+"@inbound.parley.test", "Hi", "to nobody")
	if r := f.receive(stray); !r.Unrouted || r.Change != nil {
		t.Fatalf("unknown address: %+v", r)
	}
	var n int
	if err := f.st.DB().NewRaw("SELECT count(*) FROM unrouted_messages WHERE provider = ? AND provider_message_id IN (?, ?)",
		models.ProviderEmail, in.HeaderID+" "+in.To, stray.HeaderID+" "+stray.To).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("unrouted rows %d, want 2", n)
	}
}

// TestReceiveEmailReplyToClosed: a reply through a closed conversation's
// token opens a new conversation in its inbox, linked to the closed one,
// with a thread (and token) of its own.
func TestReceiveEmailReplyToClosed(t *testing.T) {
	f := newMailFixture(t)
	pat := uniq("pat") + "@example.com"
	inboxID, addr := f.inbox()
	first := f.conv(f.receive(mail(pat, addr, "Opening hours", "when are you open?")))
	tok := f.token(first.ID)
	if _, err := f.st.Close(context.Background(), f.admin, first.ID); err != nil {
		t.Fatal(err)
	}
	_, other := f.inbox() // addressed elsewhere: the token still decides
	next := f.conv(f.receive(replyTo(mail(pat, other, "Re: Opening hours", "and on Sunday?"), addr, tok)))
	if next.ID == first.ID || next.InboxID != inboxID || next.PreviousID == nil || *next.PreviousID != first.ID || next.Status != models.StatusNew {
		t.Fatalf("reply to a closed conversation: %+v", next)
	}
	if nt := f.token(next.ID); nt == tok || len(nt) != 32 {
		t.Errorf("new conversation's token %q (closed one's %q)", nt, tok)
	}
}
