package smtpd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureMail reads testdata/replies/name with its placeholders filled in
// and CRLF line ends, as a client puts it on the wire.
func fixtureMail(t *testing.T, name, from, to, ref string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "replies", name))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("{{FROM}}", from, "{{TO}}", to, "{{REF}}", ref, "{{UNIQ}}", uniq("u")).Replace(string(b))
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
	return []byte(s)
}

// TestClientReplies: replies as Gmail, Outlook and Apple Mail shape them,
// sent to a conversation's reply address, land in that conversation with
// only the new text; the whole text is kept beside it.
func TestClientReplies(t *testing.T) {
	f := newFixture(t, options{})
	for _, tc := range []struct{ file, want string }{
		{"gmail.eml", "Friday at 3pm works for me, thanks!\n\nPat"},
		{"outlook.eml", "Could we make it 4pm instead? I finish work at half past three.\n\nKind regards,\nPat"},
		{"outlook_header_block.eml", "Thanks – see you on Friday."},
		{"apple.eml", "Perfect, I’ll be there at 3."},
		{"apple_html_only.eml", "Can I bring my son along too?"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			sender := newSender()
			first := f.start(sender)
			ourID := f.sent(first.ConversationID)
			reply := f.replyAddr(first.ConversationID)
			f.mustSend(sender, []string{reply}, fixtureMail(t, tc.file, sender, reply, ourID))
			got := f.byFrom(sender)
			if len(got) != 2 {
				t.Fatalf("%d messages from the sender, want 2", len(got))
			}
			m := got[1]
			if m.ConversationID != first.ConversationID {
				t.Errorf("reply went to conversation %d, want %d", m.ConversationID, first.ConversationID)
			}
			if m.Body != tc.want {
				t.Errorf("stored text %q, want %q", m.Body, tc.want)
			}
			if !strings.Contains(m.FullText, "Would 3pm suit you?") {
				t.Errorf("the whole text lost the quote: %q", m.FullText)
			}
			if m.Automated {
				t.Errorf("a person's reply marked automated: %q", m.Reason)
			}
		})
	}
}

// TestThreadingOrder: the reply token beats In-Reply-To, which beats the
// address the mail was sent to.
func TestThreadingOrder(t *testing.T) {
	f := newFixture(t, options{})
	sender := newSender()
	// Conversation A in the demo inbox, B in another inbox, same person.
	a := f.start(sender)
	inbox2, addr2 := f.newInbox()
	f.mustSend(sender, []string{addr2}, plain(sender, addr2, "Other question", newMsgID(), "Another thing"))
	b := f.byFrom(sender)[1]
	if b.InboxID != inbox2 || b.ConversationID == a.ConversationID {
		t.Fatalf("second inbox's mail: %+v", b)
	}
	ourB := f.sent(b.ConversationID)
	replyA := f.replyAddr(a.ConversationID)

	for _, tc := range []struct {
		name, to, inReplyTo string
		want                int64
	}{
		{"token beats In-Reply-To", replyA, ourB, a.ConversationID},
		{"In-Reply-To beats the inbox address", inboxAddr, ourB, b.ConversationID},
		{"the inbox address alone", inboxAddr, "", a.ConversationID},
		{"the token alone", replyA, "", a.ConversationID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var extra []string
			if tc.inReplyTo != "" {
				extra = []string{"In-Reply-To: <" + tc.inReplyTo + ">", "References: <" + tc.inReplyTo + ">"}
			}
			text := "About " + tc.name
			f.mustSend(sender, []string{tc.to}, plain(sender, tc.to, "Re: Hello", newMsgID(), text, extra...))
			got := f.byFrom(sender)
			m := got[len(got)-1]
			if m.Body != text || m.ConversationID != tc.want {
				t.Errorf("went to conversation %d (%q), want %d", m.ConversationID, m.Body, tc.want)
			}
		})
	}
}

// TestTwoPeopleReplyToOneMail: two people answering the same mail (one of
// them copied) each get their own conversation in the inbox, even through
// the same reply address.
func TestTwoPeopleReplyToOneMail(t *testing.T) {
	f := newFixture(t, options{})
	p1, p2 := newSender(), newSender()
	first := f.start(p1)
	ours := f.sent(first.ConversationID)
	reply := f.replyAddr(first.ConversationID)
	for _, p := range []string{p1, p2} {
		f.mustSend(p, []string{reply}, plain(p, reply, "Re: Booking question", newMsgID(), "Reply from "+p,
			"Cc: "+p1+", "+p2, "In-Reply-To: <"+ours+">"))
	}
	m1, m2 := f.byFrom(p1)[1], f.one(p2)
	if m1.ConversationID != first.ConversationID {
		t.Errorf("the first person's reply went to %d, want %d", m1.ConversationID, first.ConversationID)
	}
	if m2.ConversationID == first.ConversationID {
		t.Error("the second person's reply joined the first person's conversation")
	}
	if m2.InboxID != f.demo.Inbox.ID || m2.Body != "Reply from "+p2 {
		t.Errorf("second person's reply: %+v", m2)
	}
}

// TestDuplicateStoredOnce: the same message delivered twice (a client
// retrying after a lost 250) is stored once and answered 250 both times.
func TestDuplicateStoredOnce(t *testing.T) {
	f := newFixture(t, options{})
	sender := newSender()
	raw := plain(sender, inboxAddr, "Hi", newMsgID(), "Only once please")
	f.mustSend(sender, []string{inboxAddr}, raw)
	f.mustSend(sender, []string{inboxAddr}, raw)
	f.one(sender)
	if f.rec.count() != 1 {
		t.Errorf("%d notifications, want 1", f.rec.count())
	}
	// Without a Message-ID, the same bytes are still recognised.
	sender2 := newSender()
	noID := plain(sender2, inboxAddr, "Hi", "", "No id on this one")
	f.mustSend(sender2, []string{inboxAddr}, noID)
	f.mustSend(sender2, []string{inboxAddr}, noID)
	f.one(sender2)
}

// TestAutomatedMarked: RFC 3834 auto-replies, mail with a null return
// path and mailer-daemon mail are stored but marked automated.
func TestAutomatedMarked(t *testing.T) {
	f := newFixture(t, options{})
	for _, tc := range []struct {
		name, mailFrom, reason string
		header                 []string
	}{
		{"Auto-Submitted", "person", "Auto-Submitted: auto-replied", []string{"Auto-Submitted: auto-replied"}},
		{"null return path", "", "null return path (MAIL FROM:<>)", nil},
		{"Precedence bulk", "person", "Precedence: bulk", []string{"Precedence: bulk"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sender := newSender()
			mailFrom := sender
			if tc.mailFrom == "" {
				mailFrom = ""
			}
			f.mustSend(mailFrom, []string{inboxAddr}, plain(sender, inboxAddr, "Out of office", newMsgID(),
				"I am away until Monday.", tc.header...))
			m := f.one(sender)
			if !m.Automated || m.Reason != tc.reason {
				t.Errorf("automated %v %q, want true %q", m.Automated, m.Reason, tc.reason)
			}
		})
	}
}

// TestOwnAddressDropped: mail from one of our own inbox addresses (a loop)
// is acknowledged and dropped.
func TestOwnAddressDropped(t *testing.T) {
	f := newFixture(t, options{})
	before := f.messageCount()
	f.mustSend(inboxAddr, []string{inboxAddr}, plain(inboxAddr, inboxAddr, "Loop", newMsgID(), "Round and round"))
	if n := f.messageCount(); n != before {
		t.Errorf("%d messages stored from our own address", n-before)
	}
	if f.rec.count() != 0 {
		t.Errorf("%d notifications for a dropped mail", f.rec.count())
	}
}
