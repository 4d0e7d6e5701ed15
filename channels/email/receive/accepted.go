package receive

import (
	"context"

	"github.com/parley-chat/parley/channels/email"
)

// AddressStore answers whether an address is ours (*models.Store).
type AddressStore interface {
	EmailAddressKnown(ctx context.Context, addr, replyToken, bounceToken string) (bool, error)
}

// Accepted reports whether mail to rcpt (lower-cased) is taken: an
// inbox's address, a conversation's reply address or a message's return
// path at domain. The SMTP listener asks it at RCPT TO, the webhook for
// each envelope recipient.
func Accepted(ctx context.Context, store AddressStore, rcpt, domain string) (bool, error) {
	_, reply, _ := email.ParseReplyAddress(rcpt, domain)
	bounce, _ := email.ParseBounceAddress(rcpt, domain)
	return store.EmailAddressKnown(ctx, rcpt, reply, bounce)
}
