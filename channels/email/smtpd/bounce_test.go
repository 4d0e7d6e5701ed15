package smtpd_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/models"
)

// bounceSpy is the live store with RecordBounce (another part's work)
// recorded instead of applied.
type bounceSpy struct {
	*models.Store
	mu    sync.Mutex
	calls [][2]string // token, reason
}

func (s *bounceSpy) RecordBounce(_ context.Context, token, reason string) (*models.Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, [2]string{token, reason})
	return nil, nil
}

// sentWithBounce records a mail we sent with a return-path token and
// returns the token.
func (f *fixture) sentWithBounce(convID int64) string {
	f.t.Helper()
	ctx := context.Background()
	token := email.NewToken()
	var msgID int64
	if err := f.store.DB().NewRaw(`INSERT INTO messages (org_id, conversation_id, direction, channel, body, author_type, status)
		VALUES (?, ?, 'outbound', 'email', 'Our answer', 'user', 'sent') RETURNING id`, f.demo.Org.ID, convID).Scan(ctx, &msgID); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.store.DB().NewRaw(`INSERT INTO email_messages (message_id, org_id, header_id, bounce_token) VALUES (?, ?, ?, ?)`,
		msgID, f.demo.Org.ID, uniq("out")+"@parley.test", token).Exec(ctx); err != nil {
		f.t.Fatal(err)
	}
	return token
}

// TestBounceToReturnPath: a delivery report sent to a message's return
// path is accepted and handed to RecordBounce with that message's token
// and the report's status and reason; it is not stored as a conversation
// message. Mail there that is no report is accepted and ignored.
func TestBounceToReturnPath(t *testing.T) {
	st, _ := sharedStore(t)
	spy := &bounceSpy{Store: st}
	var parsed [][]byte
	f := newFixture(t, options{recvStore: spy, parseBounce: func(raw []byte) (*email.Bounce, error) {
		if !strings.Contains(string(raw), "report-type=delivery-status") {
			return nil, email.ErrNotBounce
		}
		parsed = append(parsed, raw)
		return &email.Bounce{Recipient: "gone@example.com", Status: "5.1.1", Reason: "smtp; 550 5.1.1 User unknown"}, nil
	}})
	conv := f.start(newSender()).ConversationID
	token := f.sentWithBounce(conv)
	returnPath := email.BounceAddress(token, domain)
	before := f.messageCount()

	dsn := "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\nTo: " + returnPath + "\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
		"Message-ID: <" + newMsgID() + ">\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"dsn\"\r\n\r\n" +
		"--dsn\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n" +
		"--dsn\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n" +
		"Final-Recipient: rfc822; gone@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\r\n" +
		"--dsn--\r\n"
	f.mustSend("", []string{returnPath}, []byte(dsn))
	if len(spy.calls) != 1 || spy.calls[0][0] != token || spy.calls[0][1] != "5.1.1 smtp; 550 5.1.1 User unknown" {
		t.Fatalf("RecordBounce calls %v, want one for %s", spy.calls, token)
	}
	if len(parsed) != 1 || !strings.Contains(string(parsed[0]), "Final-Recipient") {
		t.Errorf("ParseBounce got %d messages", len(parsed))
	}
	// An out-of-office sent to the return path: no report, ignored.
	f.mustSend("", []string{strings.ToUpper(returnPath)}, plain("away@example.com", returnPath, "Out of office", newMsgID(),
		"I am away.", "Auto-Submitted: auto-replied"))
	if len(spy.calls) != 1 {
		t.Errorf("RecordBounce called for a mail that is no report: %v", spy.calls)
	}
	if n := f.messageCount(); n != before {
		t.Errorf("%d conversation messages stored from mail to a return path", n-before)
	}
}
