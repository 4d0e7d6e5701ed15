package smtpd_test

import (
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/channels/email/receive"
	"github.com/parley-chat/parley/channels/email/smtpd"
	"github.com/parley-chat/parley/models"
)

func errorsAs(err error, target any) bool { return err != nil && errors.As(err, target) }

func itoa(i int) string { return strconv.Itoa(i) }

func validUTF8(s string) bool { return utf8.ValidString(s) }

// smtpdConfig is a listener config with maxBytes (0: default).
func smtpdConfig(maxBytes int) smtpd.Config { return smtpd.Config{MaxBytes: maxBytes} }

// newServer binds a listener on a free loopback port over st.
func newServer(st *models.Store) (*smtpd.Server, error) {
	recv := receive.New(receive.Config{Domain: domain, Limits: email.Limits{}, Logger: testLogger()}, st, &recorder{})
	return smtpd.New(smtpd.Config{Addr: "127.0.0.1:0", Domain: domain, Logger: testLogger()}, st, recv)
}
