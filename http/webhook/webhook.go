// Package webhook receives providers' callbacks: Vonage inbound SMS and
// delivery receipts (inbound email joins later). It verifies signatures,
// turns payloads into plain values at the edge (channels/sms), commits
// through the store, answers, then publishes. It never answers 2xx for
// anything not committed: a failure answers 5xx so the provider retries.
package webhook

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/channels/sms"
	"github.com/parley-chat/parley/models"
)

// Store is what the callbacks need from the database.
type Store interface {
	ReceiveSMS(ctx context.Context, in models.InboundSMS) (*models.InboundResult, error)
	ApplyReceipt(ctx context.Context, r models.SMSReceipt) (*models.Change, error)
}

// Notifier shows committed changes on agents' screens. Notify must not
// block: the provider's answer waits behind it.
type Notifier interface{ Notify(ch *models.Change) }

// Config holds the Vonage webhook settings.
type Config struct {
	// SignatureSecret, when set, makes a valid `sig` mandatory.
	SignatureSecret string
	SignatureMethod sms.SignatureMethod
}

// Handler serves the provider callbacks.
type Handler struct {
	cfg    Config
	store  Store
	notify Notifier
	kick   func() // wakes the outbox relay after work was queued
	log    *slog.Logger
	email  *emailInbound // the inbound email webhook (nil: off; email.go)
}

// New builds the callbacks' handler. kick may be nil.
func New(cfg Config, store Store, notify Notifier, kick func(), log *slog.Logger) *Handler {
	if kick == nil {
		kick = func() {}
	}
	return &Handler{cfg: cfg, store: store, notify: notify, kick: kick, log: log.With("component", "webhook")}
}

// dbTimeout bounds a callback's database work well under Vonage's own
// timeout, so a stuck database answers 5xx (and Vonage retries) in time.
const dbTimeout = 5 * time.Second

// request turns the Fiber request into the adapter's transport-neutral
// form, copying what it keeps (Fiber reuses its buffers). A query pair
// that does not decode is refused, not dropped: dropping it would let a
// signed request carry an extra, unsigned-looking parameter (R2).
func request(c *fiber.Ctx) (sms.Request, error) {
	if len(c.Body()) > sms.MaxWebhookBody {
		return sms.Request{}, fiber.NewError(fiber.StatusRequestEntityTooLarge, "callback body too large")
	}
	q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return sms.Request{}, fiber.NewError(fiber.StatusBadRequest, "malformed query string")
	}
	return sms.Request{Method: c.Method(), ContentType: string(c.Request().Header.ContentType()),
		Query: q, Body: append([]byte(nil), c.Body()...)}, nil
}

// params merges and, when a secret is configured, verifies the request.
func (h *Handler) params(c *fiber.Ctx) (sms.Request, error) {
	req, err := request(c)
	if err != nil {
		return req, err
	}
	if h.cfg.SignatureSecret == "" {
		return req, nil
	}
	p, err := req.Params()
	if err != nil {
		return req, fiber.NewError(fiber.StatusBadRequest, "malformed callback")
	}
	if err := sms.Verify(p, h.cfg.SignatureSecret, h.cfg.SignatureMethod); err != nil {
		return req, fiber.NewError(fiber.StatusUnauthorized, "bad or missing signature")
	}
	return req, nil
}

// VonageInbound stores an inbound SMS, then answers 200, then publishes.
// Vonage calls it with GET or POST; http/web's route table mounts it at
// /webhooks/vonage/inbound.
func (h *Handler) VonageInbound(c *fiber.Ctx) error {
	req, err := h.params(c)
	if err != nil {
		return err
	}
	in, err := sms.ParseInbound(req)
	if errors.Is(err, sms.ErrMalformed) {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	if err != nil {
		return err
	}
	m := models.InboundSMS{Provider: "vonage", ProviderMessageID: in.MessageID, From: in.From, To: in.To,
		Body: in.Text, ReceivedAt: in.Timestamp}
	if in.Concat != nil {
		m.ConcatRef, m.Part, m.Total = in.Concat.Ref, in.Concat.Part, in.Concat.Total
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), dbTimeout)
	defer cancel()
	res, err := h.store.ReceiveSMS(ctx, m)
	if err != nil {
		h.log.Error("inbound not stored; provider will retry", "message_id", in.MessageID, "err", err)
		return fiber.NewError(fiber.StatusServiceUnavailable, "not stored, retry later")
	}
	if res.Unrouted {
		h.log.Warn("inbound sms to a number no inbox owns; kept as unrouted", "to", in.To)
	}
	c.Status(fiber.StatusOK)
	if res.Change != nil {
		h.notify.Notify(res.Change)
		h.kick()
	}
	return nil
}

// VonageStatus applies a delivery receipt, then answers 200, then
// publishes. Vonage calls it with GET or POST; http/web's route table
// mounts it at /webhooks/vonage/status.
func (h *Handler) VonageStatus(c *fiber.Ctx) error {
	req, err := h.params(c)
	if err != nil {
		return err
	}
	r, err := sms.ParseReceipt(req)
	if errors.Is(err, sms.ErrMalformed) {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), dbTimeout)
	defer cancel()
	ch, err := h.store.ApplyReceipt(ctx, models.SMSReceipt{Provider: "vonage", ProviderMessageID: r.MessageID,
		ClientRef: r.ClientRef, Status: r.Status, ErrCode: r.ErrCode})
	if err != nil {
		h.log.Error("receipt not stored; provider will retry", "message_id", r.MessageID, "err", err)
		return fiber.NewError(fiber.StatusServiceUnavailable, "not stored, retry later")
	}
	c.Status(fiber.StatusOK)
	if ch != nil {
		h.notify.Notify(ch)
	}
	return nil
}
