package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/channels/email/receive"
)

// EmailReceiver stores one delivered email (*receive.Receiver).
type EmailReceiver interface {
	Receive(ctx context.Context, env receive.Envelope, raw []byte) (*receive.Result, error)
	// MaxBytes is the largest raw message accepted.
	MaxBytes() int
}

// EmailKnown tells which addresses mail is accepted for (*models.Store),
// as the SMTP listener asks at RCPT TO.
type EmailKnown = receive.AddressStore

// EmailConfig holds the inbound email webhook's settings.
type EmailConfig struct {
	// Secret authenticates the webhook (PARLEY_EMAIL_WEBHOOK_SECRET):
	// the HTTP Basic password, or an `Authorization: Bearer` token.
	// Empty: the webhook is off and answers 404.
	Secret string
	// Domain is the domain of reply and return-path addresses.
	Domain string
}

// emailInbound is the webhook's state once WithEmail configured it.
type emailInbound struct {
	secret [sha256.Size]byte
	domain string
	recv   EmailReceiver
	known  EmailKnown
}

// emailTimeout bounds a delivery's database work (a message with large
// attachments takes longer than an SMS); past it the answer is 503 and
// the provider retries.
const emailTimeout = 20 * time.Second

// maxEmailRcpts bounds the recipients of one posted email, as the SMTP
// listener bounds RCPT TO (each is looked up).
const maxEmailRcpts = 50

// emailBodySlack is what a provider's form adds around the raw message
// (envelope, parsed headers, spam report).
const emailBodySlack = 1 << 20

// WithEmail turns on the inbound email webhook (EmailInbound) and returns
// h. With an empty secret it stays off.
func (h *Handler) WithEmail(cfg EmailConfig, recv EmailReceiver, known EmailKnown) *Handler {
	if cfg.Secret == "" {
		h.email = nil
		return h
	}
	h.email = &emailInbound{secret: sha256.Sum256([]byte(cfg.Secret)), domain: cfg.Domain, recv: recv, known: known}
	return h
}

// EmailBodyLimit is the largest request body the inbound email webhook
// takes (0 when it is off): the web server admits bodies this large on
// that route only.
func (h *Handler) EmailBodyLimit() int {
	if h.email == nil {
		return 0
	}
	return h.email.recv.MaxBytes() + emailBodySlack
}

// EmailInbound stores an email a provider's inbound parse posts: the raw
// message as `message/rfc822` (envelope recipients in the query's `to` /
// `recipient`, else read from its headers), or as `multipart/form-data`
// with the raw message in `email` (SendGrid's "raw" mode) or `body-mime`
// (Mailgun) and the envelope in `envelope` (SendGrid's JSON), `recipient`
// (Mailgun) or `to`. It answers 200 only after the commit; 401 without
// the secret, 400 for a malformed request or message (nothing stored),
// 413 when too large, 422 when no recipient is ours, 503 when the
// database fails (retry). http/web's route table mounts it at
// /webhooks/email/inbound.
func (h *Handler) EmailInbound(c *fiber.Ctx) error {
	e := h.email
	if e == nil {
		return fiber.ErrNotFound
	}
	if !e.authorized(c) {
		c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="parley email webhook"`)
		return fiber.NewError(fiber.StatusUnauthorized, "missing or wrong webhook secret")
	}
	if len(c.Body()) > e.recv.MaxBytes()+emailBodySlack {
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, "email too large")
	}
	raw, env, err := emailRequest(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), emailTimeout)
	defer cancel()
	if env.Rcpts, err = e.ours(ctx, env.Rcpts); err != nil {
		h.log.Error("inbound email recipients not checked; provider will retry", "err", err)
		return fiber.NewError(fiber.StatusServiceUnavailable, "not stored, retry later")
	}
	if len(env.Rcpts) == 0 {
		return fiber.NewError(fiber.StatusUnprocessableEntity, "no recipient is an address of ours")
	}
	res, err := e.recv.Receive(ctx, env, raw)
	switch {
	case errors.Is(err, email.ErrTooLarge):
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, "email too large")
	case errors.Is(err, receive.ErrRefused):
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	case err != nil:
		h.log.Error("inbound email not stored; provider will retry", "err", err)
		return fiber.NewError(fiber.StatusServiceUnavailable, "not stored, retry later")
	}
	return c.Status(fiber.StatusOK).JSON(fiber.Map{"stored": res.Stored, "duplicates": res.Duplicates,
		"dropped": res.Dropped, "bounces": res.Bounces})
}

// authorized checks the secret, as the Basic password or a Bearer token,
// in constant time.
func (e *emailInbound) authorized(c *fiber.Ctx) bool {
	auth := strings.TrimSpace(c.Get(fiber.HeaderAuthorization))
	scheme, cred, _ := strings.Cut(auth, " ")
	cred = strings.TrimSpace(cred)
	var got string
	switch strings.ToLower(scheme) {
	case "bearer":
		got = cred
	case "basic":
		b, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return false
		}
		_, pw, ok := strings.Cut(string(b), ":")
		if !ok {
			return false
		}
		got = pw
	default:
		return false
	}
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], e.secret[:]) == 1
}

// ours keeps the recipients mail is accepted for, as RCPT TO would.
func (e *emailInbound) ours(ctx context.Context, rcpts []string) ([]string, error) {
	var out []string
	for _, r := range rcpts {
		ok, err := receive.Accepted(ctx, e.known, r, e.domain)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// emailRequest reads the raw message and its envelope from either shape.
func emailRequest(c *fiber.Ctx) ([]byte, receive.Envelope, error) {
	env := receive.Envelope{MailFromUnknown: true}
	ct, params, err := mime.ParseMediaType(string(c.Request().Header.ContentType()))
	if err != nil {
		return nil, env, fiber.NewError(fiber.StatusBadRequest, "a Content-Type of message/rfc822 or multipart/form-data is required")
	}
	var raw []byte
	switch ct {
	case "message/rfc822":
		raw = append([]byte(nil), c.Body()...)
		q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
		if err != nil {
			return nil, env, fiber.NewError(fiber.StatusBadRequest, "malformed query string")
		}
		env.Rcpts = addressList(append(q["to"], q["recipient"]...))
		if from, ok := firstOf(q, "from", "sender"); ok {
			env.MailFrom, env.MailFromUnknown = from, false
		}
	case "multipart/form-data":
		form, err := multipart.NewReader(bytes.NewReader(c.Body()), params["boundary"]).ReadForm(int64(len(c.Body())) + 1)
		if params["boundary"] == "" || err != nil {
			return nil, env, fiber.NewError(fiber.StatusBadRequest, "malformed multipart form")
		}
		defer form.RemoveAll()
		if raw, err = formRaw(form); err != nil {
			return nil, env, err
		}
		if env, err = formEnvelope(form.Value); err != nil {
			return nil, env, err
		}
	default:
		return nil, env, fiber.NewError(fiber.StatusUnsupportedMediaType, "a Content-Type of message/rfc822 or multipart/form-data is required")
	}
	if len(raw) == 0 {
		return nil, env, fiber.NewError(fiber.StatusBadRequest, "no message in the request")
	}
	if len(env.Rcpts) == 0 {
		env.Rcpts = headerRecipients(raw)
	}
	if len(env.Rcpts) == 0 {
		return nil, env, fiber.NewError(fiber.StatusBadRequest, "no recipient: give the envelope's (to, recipient or envelope)")
	}
	if len(env.Rcpts) > maxEmailRcpts {
		return nil, env, fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("more than %d recipients", maxEmailRcpts))
	}
	return raw, env, nil
}

// formRaw is the raw message of a form: the `email` (SendGrid) or
// `body-mime` (Mailgun) field, as a value or an uploaded file.
func formRaw(form *multipart.Form) ([]byte, error) {
	for _, name := range []string{"email", "body-mime"} {
		if v := form.Value[name]; len(v) > 0 && v[0] != "" {
			return []byte(v[0]), nil
		}
		if fs := form.File[name]; len(fs) > 0 {
			f, err := fs[0].Open()
			if err != nil {
				return nil, fiber.NewError(fiber.StatusBadRequest, "unreadable "+name+" field")
			}
			defer f.Close()
			b, err := io.ReadAll(f)
			if err != nil {
				return nil, fiber.NewError(fiber.StatusBadRequest, "unreadable "+name+" field")
			}
			return b, nil
		}
	}
	return nil, fiber.NewError(fiber.StatusBadRequest, "no raw message: post it in an `email` (SendGrid raw) or `body-mime` (Mailgun) field")
}

// formEnvelope reads the envelope of a form: SendGrid's JSON `envelope`,
// else Mailgun's `recipient` and `sender`, else `to` and `from`.
func formEnvelope(v url.Values) (receive.Envelope, error) {
	env := receive.Envelope{MailFromUnknown: true}
	if s := strings.TrimSpace(first(v, "envelope")); s != "" {
		var j struct {
			To   json.RawMessage `json:"to"`
			From *string         `json:"from"`
		}
		if err := json.Unmarshal([]byte(s), &j); err != nil {
			return env, fiber.NewError(fiber.StatusBadRequest, "malformed envelope JSON")
		}
		var to []string
		if err := json.Unmarshal(j.To, &to); err != nil {
			var one string
			if err := json.Unmarshal(j.To, &one); err != nil {
				return env, fiber.NewError(fiber.StatusBadRequest, `envelope "to" is not a list of addresses`)
			}
			to = []string{one}
		}
		env.Rcpts = addressList(to)
		if j.From != nil {
			env.MailFrom, env.MailFromUnknown = strings.Trim(strings.TrimSpace(*j.From), "<>"), false
		}
		return env, nil
	}
	if r := v["recipient"]; len(r) > 0 {
		env.Rcpts = addressList(r)
	} else {
		env.Rcpts = addressList(v["to"])
	}
	if from, ok := firstOf(v, "sender", "from"); ok {
		env.MailFrom, env.MailFromUnknown = from, false
	}
	return env, nil
}

// addressList reads comma-separated address lists ("a@b, Name <c@d>"),
// keeping the bare addresses.
func addressList(vals []string) []string {
	var out []string
	for _, v := range vals {
		if list, err := mail.ParseAddressList(v); err == nil {
			for _, a := range list {
				out = append(out, a.Address)
			}
			continue
		}
		for _, f := range strings.Split(v, ",") {
			if f = strings.Trim(strings.TrimSpace(f), "<>"); strings.Contains(f, "@") {
				out = append(out, f)
			}
		}
	}
	return out
}

// headerRecipients is the recipients a message's headers name, when the
// request gave no envelope: Delivered-To, else To and Cc.
func headerRecipients(raw []byte) []string {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil
	}
	if d := m.Header["Delivered-To"]; len(d) > 0 {
		return addressList(d)
	}
	return addressList(append(m.Header["To"], m.Header["Cc"]...))
}

func first(v url.Values, k string) string {
	if s := v[k]; len(s) > 0 {
		return s[0]
	}
	return ""
}

// firstOf is the first of keys present in v, trimmed of angle brackets.
func firstOf(v url.Values, keys ...string) (string, bool) {
	for _, k := range keys {
		if s, ok := v[k]; ok && len(s) > 0 {
			return strings.Trim(strings.TrimSpace(s[0]), "<>"), true
		}
	}
	return "", false
}
