package smtpd_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// run runs a sending program with a deadline and returns its output; the
// test fails if it exits non-zero.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// need fails the test when a program the interop tests send with is
// missing (scripts/deps.sh test installs it).
func need(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed (scripts/deps.sh test installs it): %v", name, err)
	}
}

// TestPythonSMTPLib: a multipart message with an attachment sent by
// Python's smtplib is stored with its text and attachment, and a reply
// sent by it with a quote lands in the same conversation, stripped.
func TestPythonSMTPLib(t *testing.T) {
	need(t, "python3")
	f := newFixture(t, options{})
	sender := newSender()
	body := filepath.Join(t.TempDir(), "body.txt")
	write(t, body, "Hello from Python, is the clinic open on Saturday?\n")
	run(t, "python3", "testdata/send_smtplib.py", f.srv.Addr(), sender, inboxAddr, "Opening hours", body)
	first := f.one(sender)
	if first.Body != "Hello from Python, is the clinic open on Saturday?" || first.InboxID != f.demo.Inbox.ID {
		t.Fatalf("stored %+v", first)
	}
	var att struct {
		Filename string `bun:"filename"`
		Data     string `bun:"data"`
	}
	if err := f.store.DB().NewRaw("SELECT filename, convert_from(data, 'UTF8') AS data FROM attachments WHERE message_id = ?",
		first.ID).Scan(context.Background(), &att); err != nil {
		t.Fatalf("attachment: %v", err)
	}
	// The attachment's bytes as sent: Python writes text parts with CRLF.
	if att.Filename != "notes.txt" || strings.ReplaceAll(att.Data, "\r\n", "\n") != "line one\nline two\n" {
		t.Errorf("attachment %+v", att)
	}

	ours := f.sent(first.ConversationID)
	reply := f.replyAddr(first.ConversationID)
	write(t, body, "Great, see you Saturday.\n\nOn Mon, 7 Dec 2026 at 09:00, Front Desk <"+inboxAddr+"> wrote:\n> Yes, from 9 to 12.\n")
	run(t, "python3", "testdata/send_smtplib.py", f.srv.Addr(), sender, reply, "Re: Opening hours", body, ours)
	got := f.byFrom(sender)
	if len(got) != 2 || got[1].ConversationID != first.ConversationID || got[1].Body != "Great, see you Saturday." {
		t.Errorf("reply: %+v", got)
	}
}

// TestSwaks: swaks, the SMTP test tool, delivers a first mail and a
// quoted reply to the reply address; both are stored, threaded and
// stripped. A recipient the listener does not know is refused.
func TestSwaks(t *testing.T) {
	need(t, "swaks")
	f := newFixture(t, options{})
	host, port, _ := strings.Cut(f.srv.Addr(), ":")
	sender := newSender()
	swaks := func(to, subject, body string, extra ...string) (string, error) {
		args := append([]string{"--server", host, "--port", port, "--from", sender, "--to", to,
			"--header", "Subject: " + subject, "--header", "From: Sam Swaks <" + sender + ">",
			"--body", body, "--suppress-data", "--timeout", "30"}, extra...)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "swaks", args...).CombinedOutput()
		return string(out), err
	}
	if out, err := swaks(inboxAddr, "Parking", "Is there parking near you?"); err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	first := f.one(sender)
	if first.Body != "Is there parking near you?" {
		t.Fatalf("stored %+v", first)
	}
	ours := f.sent(first.ConversationID)
	reply := f.replyAddr(first.ConversationID)
	out, err := swaks(reply, "Re: Parking", "Thanks, I will use the car park.\n\n-- \nSam\n\nOn Mon, Front Desk wrote:\n> There is a car park behind us.",
		"--header", "In-Reply-To: <"+ours+">")
	if err != nil {
		t.Fatalf("swaks reply: %v\n%s", err, out)
	}
	got := f.byFrom(sender)
	if len(got) != 2 || got[1].ConversationID != first.ConversationID || got[1].Body != "Thanks, I will use the car park." {
		t.Errorf("reply: %+v", got)
	}
	out, err = swaks("nobody@"+domain, "Hello?", "Anyone there?")
	if err == nil || !strings.Contains(out, "550 5.1.1") {
		t.Errorf("unknown recipient: err %v, output:\n%s", err, out)
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
