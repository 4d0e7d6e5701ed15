package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// matrixEmail is what the email view's rows act on: an email, with a kept
// file, in inbox A's conversation with one sender and in inbox B's.
type matrixEmail struct {
	msgA, msgB, attA, attB int64
}

// seedEmailView gives inbox B an address and stores one mail to each
// inbox, as the SMTP listener would.
func (w *matrixWorld) seedEmailView(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	addrB := "matrix-b-" + runID + "@inbound.parley.test"
	w.exec(t, "UPDATE inboxes SET email_address = ? WHERE id = ?", addrB, w.inboxB)
	receive := func(to string) (msg, att int64) {
		n := itoa(phoneSeq.Add(1))
		in := models.InboundEmail{To: to, From: "matrix-sender-" + n + "-" + runID + "@example.test", Subject: "Matrix mail",
			HeaderID: "matrix-" + n + "-" + runID + "@example.test", Text: "matrix mail", FullText: "matrix mail",
			Raw: []byte("Subject: Matrix mail\r\n\r\nmatrix mail"), ReceivedAt: time.Now(),
			Attachments: []models.AttachmentIn{{Filename: "matrix.txt", ContentType: "text/plain", Size: 6, Data: []byte("matrix")}}}
		r, err := w.f.Store.ReceiveEmail(ctx, in)
		if err != nil || r.Change == nil {
			t.Fatalf("matrix mail to %s: %+v %v", to, r, err)
		}
		for _, ev := range r.Change.Events {
			if m := ev.Message; m != nil && len(m.Attachments) == 1 {
				return m.ID, m.Attachments[0].ID
			}
		}
		t.Fatalf("matrix mail to %s: no message with its file", to)
		return 0, 0
	}
	w.email.msgA, w.email.attA = receive(*w.f.Demo.Inbox.EmailAddress)
	w.email.msgB, w.email.attB = receive(addrB)
}

// placeholders are the email view's placeholders for matrixWorld.replacer.
func (e matrixEmail) placeholders() []string {
	return []string{"{emailA}", itoa(e.msgA), "{emailB}", itoa(e.msgB), "{attA}", itoa(e.attA), "{attB}", itoa(e.attB)}
}
