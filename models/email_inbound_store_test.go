package models_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/jobs/task"
	"github.com/parley-chat/parley/models"
)

// count runs a count(*) query.
func (f *mailFixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.st.DB().NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// TestReceiveEmailDuplicate: the same Message-ID delivered to the same
// address again (a retry, or SMTP then the webhook) is stored once.
func TestReceiveEmailDuplicate(t *testing.T) {
	f := newMailFixture(t)
	_, addr := f.inbox()
	in := mail(uniq("pat")+"@example.com", addr, "Hello", "once")
	if r := f.receive(in); r.Change == nil {
		t.Fatalf("first delivery: %+v", r)
	}
	again := in
	again.To = "  " + addr // however the edge spelled it
	if r := f.receive(again); !r.Duplicate || r.Change != nil {
		t.Fatalf("second delivery: %+v", r)
	}
	if n := f.count("SELECT count(*) FROM email_messages WHERE header_id = ?", in.HeaderID); n != 1 {
		t.Errorf("%d email rows, want 1", n)
	}
}

// TestReceiveEmailDuplicateConcurrent: deliveries of one mail racing each
// other store it once; the others are duplicates, not errors.
func TestReceiveEmailDuplicateConcurrent(t *testing.T) {
	f := newMailFixture(t)
	_, addr := f.inbox()
	in := mail(uniq("pat")+"@example.com", addr, "Hello", "racing")
	in.Attachments = []models.AttachmentIn{{Filename: "a.txt", ContentType: "text/plain", Size: 1, Data: []byte("a")}}
	const n = 2
	results := make([]*models.InboundResult, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = f.st.ReceiveEmail(context.Background(), in)
		}()
	}
	close(start)
	wg.Wait()
	stored, dups := 0, 0
	for i := range results {
		switch {
		case errs[i] != nil:
			t.Errorf("delivery %d: %v", i, errs[i])
		case results[i].Change != nil:
			stored++
		case results[i].Duplicate:
			dups++
		}
	}
	if stored != 1 || dups != n-1 {
		t.Errorf("stored %d, duplicates %d", stored, dups)
	}
	if c := f.count("SELECT count(*) FROM messages WHERE provider = ? AND provider_message_id = ?", models.ProviderEmail, in.HeaderID+" "+addr); c != 1 {
		t.Errorf("%d messages", c)
	}
	if c := f.count("SELECT count(*) FROM attachments AS a JOIN email_messages AS e ON e.message_id = a.message_id WHERE e.header_id = ?", in.HeaderID); c != 1 {
		t.Errorf("%d attachments", c)
	}
}

// TestReceiveEmailSameIDTwoInboxes: one mail sent to two of our addresses
// is stored once for each.
func TestReceiveEmailSameIDTwoInboxes(t *testing.T) {
	f := newMailFixture(t)
	inboxA, addrA := f.inbox()
	inboxB, addrB := f.inbox()
	in := mail(uniq("pat")+"@example.com", addrA, "Hello both", "to two")
	a := f.conv(f.receive(in))
	in.To = addrB
	b := f.conv(f.receive(in))
	if a.InboxID != inboxA || b.InboxID != inboxB || a.ID == b.ID {
		t.Errorf("conversations %+v and %+v", a, b)
	}
	if n := f.count("SELECT count(*) FROM email_messages WHERE header_id = ?", in.HeaderID); n != 2 {
		t.Errorf("%d email rows, want 2", n)
	}
}

// TestReceiveEmailReplyAllOnce: a reply sent both to the conversation's
// reply address and to its inbox's address (reply-all) reaches the same
// thread twice and is stored once; the second delivery is a duplicate.
func TestReceiveEmailReplyAllOnce(t *testing.T) {
	f := newMailFixture(t)
	_, addr := f.inbox()
	from := uniq("pat") + "@example.com"
	conv := f.conv(f.receive(mail(from, addr, "Question", "first")))
	reply := replyTo(mail(from, "", "Re: Question", "reply to all"), addr, f.token(conv.ID))
	reply.InReplyTo = f.sent(conv.ID)
	if got := f.conv(f.receive(reply)); got.ID != conv.ID {
		t.Fatalf("the reply went to conversation %d, want %d", got.ID, conv.ID)
	}
	reply.To, reply.Token = addr, ""
	if r := f.receive(reply); !r.Duplicate || r.Change != nil {
		t.Fatalf("the same reply to the inbox's address: %+v, want a duplicate", r)
	}
	if n := f.count("SELECT count(*) FROM email_messages WHERE header_id = ?", reply.HeaderID); n != 1 {
		t.Errorf("%d email rows for the reply, want 1", n)
	}
}

// TestReceiveEmailExtras: the thread takes the subject without "Re:", the
// email's headers, full text and raw bytes are stored, its attachments
// (kept and omitted) too, and the live change carries them without the
// raw bytes and the files' contents.
func TestReceiveEmailExtras(t *testing.T) {
	f := newMailFixture(t)
	_, addr := f.inbox()
	in := mail(uniq("pat")+"@example.com", addr, "Re: RE: Opening hours", "When?")
	in.FullText = "When?\n\n> old text"
	in.InReplyTo, in.References = "a@x.example", []string{"b@x.example", "a@x.example"}
	in.Attachments = []models.AttachmentIn{
		{Filename: "photo.jpg", ContentType: "image/jpeg", Size: 3, Data: []byte{1, 2, 3}},
		{Filename: "huge.pdf", ContentType: "application/pdf", Size: 50 << 20, Omitted: true},
		{Filename: "empty.txt", ContentType: "text/plain", Size: 0, Data: []byte{}},
	}
	r := f.receive(in)
	conv := f.conv(r)
	m := r.Change.Events[len(r.Change.Events)-1].Message
	if m == nil || m.Body != "When?" || m.Email == nil {
		t.Fatalf("message %+v", m)
	}
	e := m.Email
	if e.MessageID != m.ID || e.HeaderID != in.HeaderID || e.InReplyTo != "a@x.example" || len(e.References) != 2 ||
		e.Subject != in.Subject || e.FromAddr != in.From || e.ToAddr != addr || e.FullText != in.FullText || e.Raw != nil || e.CreatedAt.IsZero() {
		t.Errorf("email extras in the change: %+v", e)
	}
	if len(m.Attachments) != 3 {
		t.Fatalf("attachments in the change: %+v", m.Attachments)
	}
	for i, a := range m.Attachments {
		if a.ID == 0 || a.MessageID != m.ID || a.Data != nil || a.Filename != in.Attachments[i].Filename ||
			a.Size != in.Attachments[i].Size || a.Omitted != in.Attachments[i].Omitted {
			t.Errorf("attachment %d in the change: %+v", i, a)
		}
	}
	if m.Attachments[0].ID >= m.Attachments[1].ID {
		t.Errorf("attachments out of order: %+v", m.Attachments)
	}
	ctx := context.Background()
	var stored []models.Attachment
	if err := f.st.DB().NewSelect().Model(&stored).Where("message_id = ?", m.ID).Order("id").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 3 || !bytes.Equal(stored[0].Data, []byte{1, 2, 3}) || stored[1].Data != nil || !stored[1].Omitted ||
		stored[2].Data == nil || stored[2].Omitted {
		t.Errorf("stored attachments %+v", stored)
	}
	var row models.EmailMessage
	if err := f.st.DB().NewRaw("SELECT * FROM email_messages WHERE message_id = ?", m.ID).Scan(ctx, &row); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(row.Raw, in.Raw) || row.FullText != in.FullText || row.Automated != "" || row.BounceToken != nil {
		t.Errorf("stored email row %+v", row)
	}
	var subject string
	if err := f.st.DB().NewRaw("SELECT subject FROM email_threads WHERE conversation_id = ?", conv.ID).Scan(ctx, &subject); err != nil {
		t.Fatal(err)
	}
	if subject != "Opening hours" {
		t.Errorf("thread subject %q", subject)
	}
}

// TestReceiveEmailAutomated: a machine-written mail is stored, marked
// automated in messages and email_messages, and the follow-up hook sees
// the mark (so auto-responses and forwarding can skip it).
func TestReceiveEmailAutomated(t *testing.T) {
	f := newMailFixture(t)
	_, addr := f.inbox()
	seen := map[string]bool{}
	var mu sync.Mutex
	f.st.SetFollowUp(func(m *models.Message, _ *models.ConversationRow, _ string) []task.Spec {
		mu.Lock()
		defer mu.Unlock()
		seen[m.Body] = m.Automated
		return nil
	})
	t.Cleanup(func() { f.st.SetFollowUp(nil) })
	auto := mail(uniq("robot")+"@example.com", addr, "Out of office", "I am away")
	auto.Automated = "Auto-Submitted: auto-replied"
	r := f.receive(auto)
	m := r.Change.Events[len(r.Change.Events)-1].Message
	if !m.Automated || m.Email.Automated != auto.Automated {
		t.Errorf("automated message in the change: %+v %+v", m, m.Email)
	}
	person := f.receive(mail(uniq("pat")+"@example.com", addr, "Hi", "a person"))
	if person.Change.Events[len(person.Change.Events)-1].Message.Automated {
		t.Error("a person's mail marked automated")
	}
	if a, ok := seen["I am away"]; !ok || !a {
		t.Errorf("follow-up hook saw the automated mail as %v (called: %v)", a, ok)
	}
	if a, ok := seen["a person"]; !ok || a {
		t.Errorf("follow-up hook saw the person's mail as %v (called: %v)", a, ok)
	}
	if n := f.count("SELECT count(*) FROM messages AS m JOIN email_messages AS e ON e.message_id = m.id WHERE e.header_id = ? AND m.automated AND e.automated = ?",
		auto.HeaderID, auto.Automated); n != 1 {
		t.Errorf("stored automated rows %d", n)
	}
}

// TestReceiveEmailOwnAddressDropped: mail from one of our inbox addresses,
// in this organization or another, is a loop: dropped, nothing stored.
func TestReceiveEmailOwnAddressDropped(t *testing.T) {
	f := newMailFixture(t)
	_, addr := f.inbox()
	_, ours := f.inbox()
	other := otherOrgScope(t, f.st, "mail-loop")
	theirs := uniq("theirs") + "@inbound.parley.test"
	if _, err := f.st.DB().NewRaw(`WITH l AS (INSERT INTO locations (org_id, name) VALUES (?, ?) RETURNING org_id, id)
		INSERT INTO inboxes (org_id, location_id, name, email_address) SELECT org_id, id, 'Theirs', ? FROM l`,
		other.OrgID, uniq("loc"), theirs).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{ours, " " + theirs, *f.demo.Inbox.EmailAddress} {
		in := mail(from, addr, "Auto-reply", "loop")
		r := f.receive(in)
		if !r.Dropped || r.Change != nil {
			t.Errorf("from %s: %+v", from, r)
		}
		if n := f.count("SELECT count(*) FROM messages WHERE provider_message_id LIKE ?", in.HeaderID+"%"); n != 0 {
			t.Errorf("from %s: %d messages stored", from, n)
		}
	}
}

// TestReceiveEmailSenderName: a sender the mail creates is named after
// its display name; an existing recipient's name is kept.
func TestReceiveEmailSenderName(t *testing.T) {
	f := newMailFixture(t)
	_, addr := f.inbox()
	pat := uniq("pat") + "@example.com"
	in := mail(pat, addr, "Hi", "first")
	in.FromName = "  Pat Doe\r\n"
	if c := f.conv(f.receive(in)); c.RecipientName != "Pat Doe" {
		t.Errorf("new sender named %q", c.RecipientName)
	}
	in = mail(pat, addr, "Hi", "second")
	in.FromName = "Somebody Else"
	if c := f.conv(f.receive(in)); c.RecipientName != "Pat Doe" {
		t.Errorf("existing sender renamed to %q", c.RecipientName)
	}
	// A recipient the organization already had keeps its name.
	sam := uniq("sam") + "@example.com"
	if _, err := f.st.DB().NewRaw("INSERT INTO recipients (org_id, email, name) VALUES (?, ?, 'Samantha')", f.demo.Org.ID, sam).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	in = mail(sam, addr, "Hi", "from Sam")
	in.FromName = "Sam S."
	if c := f.conv(f.receive(in)); c.RecipientName != "Samantha" {
		t.Errorf("known recipient renamed to %q", c.RecipientName)
	}
	if n := f.count("SELECT count(*) FROM recipients WHERE org_id = ? AND name = 'Pat Doe' AND email = ?", f.demo.Org.ID, pat); n != 1 {
		t.Errorf("stored name: %d rows", n)
	}
}

// TestReceiveEmailRefusesUnstorable: mail without a sender or with no
// usable Message-ID is refused with a field error, and nothing is stored.
func TestReceiveEmailRefusesUnstorable(t *testing.T) {
	f := newMailFixture(t)
	_, addr := f.inbox()
	noFrom := mail("", addr, "Hi", "who?")
	noID := mail(uniq("pat")+"@example.com", addr, "Hi", "no id")
	noID.HeaderID = " "
	longID := mail(uniq("pat")+"@example.com", addr, "Hi", "long id")
	longID.HeaderID = strings.Repeat("x", 999) + "@example.com"
	for _, in := range []models.InboundEmail{noFrom, noID, longID} {
		_, err := f.st.ReceiveEmail(context.Background(), in)
		var fe *models.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%+v: error %v, want a field error", in, err)
		}
	}
	if n := f.count("SELECT count(*) FROM email_messages WHERE to_addr = ?", addr); n != 0 {
		t.Errorf("%d stored", n)
	}
}
