package models_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parley-chat/parley/models"
	"github.com/uptrace/bun"
)

// viewMail is a person's mail with a kept and an omitted attachment.
func viewMail(from, to string) models.InboundEmail {
	in := mail(from, to, "Re: Broken window", "Can you fix it?")
	in.FullText = "Can you fix it?\n\n> On Monday you wrote:\n> hello"
	in.Raw = []byte("Subject: Re: Broken window\r\nContent-Type: text/html\r\n\r\n<b>Can you fix it?</b>")
	in.Attachments = []models.AttachmentIn{
		{Filename: "window.jpg", ContentType: "image/jpeg", Size: 4, Data: []byte{1, 2, 3, 4}},
		{Filename: "video.mov", ContentType: "video/quicktime", Size: 90 << 20, Omitted: true},
	}
	return in
}

// emailMessage is the one email message among evs.
func emailMessage(t *testing.T, evs []models.Event) *models.Message {
	t.Helper()
	var m *models.Message
	for _, ev := range evs {
		if ev.Message != nil && ev.Message.Channel == models.ChannelEmail {
			m = ev.Message
		}
	}
	if m == nil {
		t.Fatalf("no email message among %d events", len(evs))
	}
	return m
}

// checkExtras: the message carries its headers and attachments, without
// the raw bytes and the files' contents.
func checkExtras(t *testing.T, where string, m *models.Message, in models.InboundEmail) {
	t.Helper()
	if m.Email == nil {
		t.Fatalf("%s: message %d has no email extras", where, m.ID)
	}
	e := m.Email
	if e.HeaderID != in.HeaderID || e.Subject != in.Subject || e.FromAddr != in.From || e.ToAddr != in.To {
		t.Errorf("%s: email %+v", where, e)
	}
	if e.Raw != nil {
		t.Errorf("%s: the page's copy carries the raw message (%d bytes)", where, len(e.Raw))
	}
	if len(m.Attachments) != 2 {
		t.Fatalf("%s: %d attachments, want 2", where, len(m.Attachments))
	}
	a, b := m.Attachments[0], m.Attachments[1]
	if a.Filename != "window.jpg" || a.ContentType != "image/jpeg" || a.Size != 4 || a.Omitted || a.ID == 0 {
		t.Errorf("%s: first attachment %+v", where, a)
	}
	if b.Filename != "video.mov" || !b.Omitted || b.Size != 90<<20 {
		t.Errorf("%s: second attachment %+v", where, b)
	}
	if a.Data != nil || b.Data != nil {
		t.Errorf("%s: attachments carry their contents", where)
	}
}

// TestEmailViewThread: a thread's timeline, the messages API's page and
// the conversation row show an email's extras and subject; SMS messages
// have none.
func TestEmailViewThread(t *testing.T) {
	f := newMailFixture(t)
	ctx := context.Background()
	_, addr := f.inbox()
	in := viewMail(uniq("pat")+"@example.com", addr)
	in.Automated = "Auto-Submitted: auto-replied"
	r := f.receive(in)
	conv := f.conv(r)
	if conv.Subject != "Broken window" {
		t.Errorf("the live change's row has subject %q", conv.Subject)
	}
	checkExtras(t, "live change", emailMessage(t, r.Change.Events), in)

	row, err := f.st.ConversationByID(ctx, f.admin, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if row.Subject != "Broken window" {
		t.Errorf("ConversationByID: subject %q", row.Subject)
	}
	evs, err := f.st.Timeline(ctx, f.admin, conv.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := emailMessage(t, evs)
	checkExtras(t, "timeline", m, in)
	if !m.Automated || m.Email.Automated != in.Automated {
		t.Errorf("timeline: automated %v %q", m.Automated, m.Email.Automated)
	}
	page, err := f.st.ConversationMessages(ctx, f.admin, conv.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Messages) != 1 {
		t.Fatalf("%d messages", len(page.Messages))
	}
	checkExtras(t, "messages page", &page.Messages[0], in)
	since, err := f.st.EventsSince(ctx, f.admin, r.Change.Events[0].ID-1, 100)
	if err != nil {
		t.Fatal(err)
	}
	checkExtras(t, "catch-up", emailMessage(t, since), in)

	// An SMS conversation: no subject, no extras.
	ch, err := f.st.StartConversation(ctx, f.admin, models.StartInput{InboxID: f.demo.Inbox.ID, To: "+15550133001", Body: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	sms, err := f.st.ConversationByID(ctx, f.admin, ch.Conversation.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sms.Subject != "" {
		t.Errorf("an SMS conversation has subject %q", sms.Subject)
	}
	smsPage, err := f.st.ConversationMessages(ctx, f.admin, sms.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range smsPage.Messages {
		if m.Email != nil || m.Attachments != nil {
			t.Errorf("SMS message %d has email extras", m.ID)
		}
	}
}

// TestEmailViewOneQuery: a thread of many email messages costs as many
// queries as one of a single email message (no query per message).
func TestEmailViewOneQuery(t *testing.T) {
	f := newMailFixture(t)
	ctx := context.Background()
	_, addr := f.inbox()
	from := uniq("pat") + "@example.com"
	one := f.conv(f.receive(viewMail(from, addr)))
	_, addr2 := f.inbox()
	from2 := uniq("pat") + "@example.com"
	many := f.conv(f.receive(viewMail(from2, addr2)))
	for range 4 {
		if c := f.conv(f.receive(viewMail(from2, addr2))); c.ID != many.ID {
			t.Fatalf("mail went to conversation %d, not %d", c.ID, many.ID)
		}
	}
	hook := &countHook{}
	counted := models.NewStore(f.st.DB().WithQueryHook(hook))
	count := func(convID int64) int64 {
		hook.n.Store(0)
		evs, err := counted.Timeline(ctx, f.admin, convID, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range evs {
			if ev.Message != nil && ev.Message.Email != nil {
				n++
			}
		}
		if n == 0 {
			t.Fatalf("conversation %d: no email message filled", convID)
		}
		return hook.n.Load()
	}
	if a, b := count(one.ID), count(many.ID); a != b || a == 0 {
		t.Errorf("a thread of 1 email took %d queries, of 5 took %d", a, b)
	}
}

// countHook counts the queries bun runs.
type countHook struct{ n atomic.Int64 }

func (h *countHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	h.n.Add(1)
	return ctx
}
func (h *countHook) AfterQuery(context.Context, *bun.QueryEvent) {}

// TestEmailViewOriginalAndAttachment: the original and a kept file are
// read in scope; an omitted file, another inbox's (for an agent limited
// to one), another organization's, and an SMS message are not found.
func TestEmailViewOriginalAndAttachment(t *testing.T) {
	f := newMailFixture(t)
	ctx := context.Background()
	inboxID, addr := f.inbox()
	in := viewMail(uniq("pat")+"@example.com", addr)
	r := f.receive(in)
	m := emailMessage(t, r.Change.Events)
	kept, omitted := m.Attachments[0].ID, m.Attachments[1].ID

	raw, full, err := f.st.MessageOriginal(ctx, f.admin, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, in.Raw) || full != in.FullText {
		t.Errorf("original: %q / %q", raw, full)
	}
	a, err := f.st.Attachment(ctx, f.admin, kept)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Data, []byte{1, 2, 3, 4}) || a.Filename != "window.jpg" || a.ContentType != "image/jpeg" {
		t.Errorf("attachment %+v", a)
	}
	if _, err := f.st.Attachment(ctx, f.admin, omitted); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("omitted attachment: %v, want ErrNotFound", err)
	}

	own := models.Scope{OrgID: f.demo.Org.ID, UserID: f.demo.Agent.ID, Role: models.RoleAgent, InboxIDs: []int64{inboxID}}
	if _, _, err := f.st.MessageOriginal(ctx, own, m.ID); err != nil {
		t.Errorf("an agent of the inbox: original: %v", err)
	}
	if _, err := f.st.Attachment(ctx, own, kept); err != nil {
		t.Errorf("an agent of the inbox: attachment: %v", err)
	}
	other := models.Scope{OrgID: f.demo.Org.ID, UserID: f.demo.Agent.ID, Role: models.RoleAgent, InboxIDs: []int64{f.demo.Inbox.ID}}
	rival := otherOrgScope(t, f.st, "emailview")
	for name, sc := range map[string]models.Scope{"an agent of another inbox": other, "another organization": rival} {
		if _, _, err := f.st.MessageOriginal(ctx, sc, m.ID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("%s: original: %v, want ErrNotFound", name, err)
		}
		if _, err := f.st.Attachment(ctx, sc, kept); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("%s: attachment: %v, want ErrNotFound", name, err)
		}
	}

	ch, err := f.st.StartConversation(ctx, f.admin, models.StartInput{InboxID: f.demo.Inbox.ID, To: "+15550133002", Body: "an SMS"})
	if err != nil {
		t.Fatal(err)
	}
	smsMsg := emailless(t, ch.Events)
	if _, _, err := f.st.MessageOriginal(ctx, f.admin, smsMsg); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("an SMS message's original: %v, want ErrNotFound", err)
	}
	if _, err := f.st.Attachment(ctx, f.admin, 1<<40); !errors.Is(err, models.ErrNotFound) || !strings.Contains(err.Error(), "attachment") {
		t.Errorf("no such attachment: %v", err)
	}
}

// emailless is the id of the message among evs.
func emailless(t *testing.T, evs []models.Event) int64 {
	t.Helper()
	for _, ev := range evs {
		if ev.Message != nil {
			return ev.Message.ID
		}
	}
	t.Fatal("no message")
	return 0
}
