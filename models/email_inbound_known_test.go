package models_test

import (
	"context"
	"strings"
	"testing"

	"github.com/parley-chat/parley/channels/email"
)

// TestEmailAddressKnown: an inbox's address (however spelt), a reply
// token of a thread and the bounce token of a mail we sent are accepted;
// anyone else is not.
func TestEmailAddressKnown(t *testing.T) {
	f := newMailFixture(t)
	ctx := context.Background()
	_, addr := f.inbox()
	conv := f.conv(f.receive(mail(uniq("pat")+"@example.com", addr, "Hi", "hello")))
	tok := f.token(conv.ID)
	sent := f.sent(conv.ID)
	bounce := email.NewToken()
	if _, err := f.st.DB().NewRaw("UPDATE email_messages SET bounce_token = ? WHERE header_id = ?", bounce, sent).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	local, domain, _ := strings.Cut(addr, "@")
	for _, c := range []struct {
		name              string
		addr, reply, back string
		want              bool
	}{
		{"inbox", addr, "", "", true},
		{"inbox, upper-case", " " + strings.ToUpper(addr), "", "", true},
		{"reply token", email.ReplyAddress(local, tok, domain), tok, "", true},
		{"reply token, upper-case", strings.ToUpper(email.ReplyAddress(local, tok, domain)), strings.ToUpper(tok), "", true},
		{"bounce token", email.BounceAddress(bounce, domain), "", bounce, true},
		{"stranger", "someone@" + domain, "", "", false},
		{"unknown reply token", email.ReplyAddress(local, email.NewToken(), domain), email.NewToken(), "", false},
		{"unknown bounce token", email.BounceAddress(email.NewToken(), domain), "", email.NewToken(), false},
		{"bounce token as a reply token", email.ReplyAddress(local, bounce, domain), bounce, "", false},
		{"empty", "", "", "", false},
	} {
		got, err := f.st.EmailAddressKnown(ctx, c.addr, c.reply, c.back)
		if err != nil || got != c.want {
			t.Errorf("%s: known = %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}
