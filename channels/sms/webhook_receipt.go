package sms

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Receipt statuses, as Vonage's delivery-receipt webhook sends them.
const (
	ReceiptDelivered = "delivered"
	ReceiptExpired   = "expired"
	ReceiptFailed    = "failed"
	ReceiptRejected  = "rejected"
	ReceiptAccepted  = "accepted"
	ReceiptBuffered  = "buffered"
	ReceiptUnknown   = "unknown"
)

// Receipt is one delivery receipt for one part of an outbound SMS.
type Receipt struct {
	// MessageID is Vonage's id of the part (messageId or message-id).
	MessageID string
	// ClientRef is our message id as sent in client-ref; empty if none.
	ClientRef string
	// To is the recipient (the receipt's msisdn), E.164 with '+'; empty
	// if the receipt had none.
	To string
	// Status is one of the Receipt* constants. A status Vonage adds later
	// reads as ReceiptUnknown.
	Status string
	// ErrCode is the carrier's err-code (0 when delivered or absent).
	ErrCode int
	// Price is what Vonage charged for the part, as sent ("0.03330000").
	Price string
	// Timestamp is message-timestamp (when Vonage received the receipt,
	// UTC), else the carrier's scts; zero when neither is present.
	Timestamp time.Time
}

// ParseReceipt reads a delivery-receipt webhook. The error wraps
// ErrMalformed.
func ParseReceipt(r Request) (Receipt, error) {
	p, err := r.Params()
	if err != nil {
		return Receipt{}, err
	}
	return ParseReceiptParams(p)
}

// ParseReceiptParams reads a delivery receipt from parameters already
// merged by Request.Params. It requires messageId (or message-id) and
// status; the other fields are optional but must be well formed.
func ParseReceiptParams(p url.Values) (Receipt, error) {
	var rc Receipt
	var err error
	if rc.MessageID, err = messageID(p); err != nil {
		return Receipt{}, err
	}
	status, err := tokenField(p, "status", true)
	if err != nil {
		return Receipt{}, err
	}
	rc.Status = receiptStatus(status)
	if rc.ClientRef, err = textField(p, "client-ref"); err != nil {
		return Receipt{}, err
	}
	if rc.To, err = phoneField(p, "msisdn", false); err != nil {
		return Receipt{}, err
	}
	if p.Get("err-code") != "" {
		if rc.ErrCode, err = intField(p, "err-code", 0, 9999); err != nil {
			return Receipt{}, err
		}
	}
	if rc.Price, err = priceField(p, "price"); err != nil {
		return Receipt{}, err
	}
	if rc.Timestamp, err = timeField(p, "message-timestamp"); err != nil {
		return Receipt{}, err
	}
	if rc.Timestamp.IsZero() {
		rc.Timestamp = sctsTime(p.Get("scts"))
	}
	return rc, nil
}

// receiptStatus maps Vonage's status to a Receipt* constant.
func receiptStatus(s string) string {
	switch s = strings.ToLower(s); s {
	case ReceiptDelivered, ReceiptExpired, ReceiptFailed, ReceiptRejected,
		ReceiptAccepted, ReceiptBuffered:
		return s
	}
	return ReceiptUnknown
}

// priceField reads an optional decimal amount, kept as text.
func priceField(p url.Values, name string) (string, error) {
	v := p.Get(name)
	if v == "" {
		return "", nil
	}
	digits, dots := 0, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		case c == '-' && i == 0:
		default:
			digits = -len(v)
		}
	}
	if digits <= 0 || dots > 1 || len(v) > 32 {
		return "", fmt.Errorf("%w: %s %.32q is not a decimal amount", ErrMalformed, name, v)
	}
	return v, nil
}

// sctsTime reads the carrier's service-centre timestamp (YYMMDDHHMM, or
// YYMMDDHHMMSS), UTC; zero if absent or unreadable. It is informational,
// so a carrier's odd format does not cost the receipt.
func sctsTime(v string) time.Time {
	for _, layout := range []string{"0601021504", "060102150405"} {
		if len(v) == len(layout) {
			if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
				return t
			}
		}
	}
	return time.Time{}
}

// intField reads a required decimal integer in [lo, hi].
func intField(p url.Values, name string, lo, hi int) (int, error) {
	v := p.Get(name)
	if v == "" {
		return 0, fmt.Errorf("%w: missing %s", ErrMalformed, name)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi || !allDigits(v) {
		return 0, fmt.Errorf("%w: %s %.20q is not a number from %d to %d", ErrMalformed, name, v, lo, hi)
	}
	return n, nil
}
