package mailbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// ErrNoListener: Parley has no SMTP listener to deliver to.
var ErrNoListener = errors.New("the SMTP listener of Parley is off (PARLEY_SMTP_LISTEN_ADDR is empty)")

// deliverTimeout bounds one delivery to Parley, connection to last reply.
const deliverTimeout = 30 * time.Second

// deliver sends raw over SMTP to Parley's listener with the given
// envelope. The error says what went wrong in words a person can act on.
func (m *Mailbox) deliver(ctx context.Context, mailFrom string, rcpts []string, raw []byte) error {
	addr := m.cfg.Parley()
	if addr == "" {
		return ErrNoListener
	}
	ctx, cancel := context.WithTimeout(ctx, deliverTimeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot reach the SMTP listener of Parley at %s: %w", addr, err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	c := smtp.NewClient(conn)
	defer c.Close()
	c.CommandTimeout, c.SubmissionTimeout = deliverTimeout, deliverTimeout
	if err := c.Hello(m.cfg.Hostname); err != nil {
		return refused(addr, err)
	}
	if err := c.SendMail(mailFrom, rcpts, bytes.NewReader(raw)); err != nil {
		return refused(addr, err)
	}
	_ = c.Quit()
	return nil
}

// refused words an SMTP failure: the server's reply when it gave one.
func refused(addr string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		code := fmt.Sprintf("%d", se.Code)
		if e := se.EnhancedCode; e != smtp.NoEnhancedCode && e != smtp.EnhancedCodeNotSet {
			code += fmt.Sprintf(" %d.%d.%d", e[0], e[1], e[2])
		}
		return fmt.Errorf("the SMTP listener of Parley refused the mail: %s %s: %w", code, strings.TrimSpace(se.Message), err)
	}
	return fmt.Errorf("delivery to the SMTP listener of Parley at %s failed: %w", addr, err)
}
