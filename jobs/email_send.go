package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/jobs/task"
	"github.com/parley-chat/parley/models"
)

// EmailSender hands a built message to a mail server (the relay, or the
// mailbox simulator). A *email.RejectedError is permanent; any other
// error is retried with backoff. *email.Relay implements it.
type EmailSender interface {
	Send(ctx context.Context, env email.Envelope, raw []byte) error
}

// EmailStore is what sending email needs from the database.
type EmailStore interface {
	ClaimEmail(ctx context.Context, msgID int64) (*models.OutboundEmail, *models.Change, error)
	PrepareEmail(ctx context.Context, msgID int64, sent models.SentEmail) (models.SentEmail, error)
	RecordEmailSent(ctx context.Context, msgID int64, sent models.SentEmail) (*models.Change, error)
	RecordSendFailed(ctx context.Context, msgID int64, reason string) (*models.Change, error)
	MarkOutboxDone(ctx context.Context, id int64, lastErr string) error
	ReleaseEmailClaim(ctx context.Context, msgID int64) error
}

// EmailConfig configures sending email.
type EmailConfig struct {
	// Domain makes our message ids, reply addresses and return paths
	// (PARLEY_EMAIL_DOMAIN).
	Domain string
	// BaseURL is Parley's public URL; the unsubscribe link is under it.
	BaseURL string
	// DKIM, when set, signs every message.
	DKIM *email.DKIM
}

type emailSend struct {
	cfg         EmailConfig
	store       EmailStore
	sender      EmailSender
	sendOutcome // notify, log, fail, done
}

// ProcessTask sends one queued email: claim it (the gate again), build
// it with the thread's headers, sign it, hand it to the relay, record it.
// A relay's 5xx fails the message with the server's words; anything else
// is retried, and fails the message only on the last attempt.
func (h *emailSend) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := decodeSend[task.EmailSend](ctx, h.sendOutcome, t)
	if err != nil {
		return err
	}
	out, failed, err := h.store.ClaimEmail(ctx, p.MessageID)
	if failed != nil {
		h.notify.Notify(failed)
	}
	if errors.Is(err, models.ErrNotSendable) || errors.Is(err, models.ErrNotFound) {
		h.done(ctx, p.Outbox(), err.Error())
		return nil // nothing to retry: the reason is on the message
	}
	if errors.Is(err, models.ErrClaimed) {
		return fmt.Errorf("jobs: email %d: %w", p.MessageID, err)
	}
	if err != nil {
		return err
	}
	sent, raw, err := h.build(out)
	if err != nil {
		// Nothing a retry would change (an address Build refuses).
		return h.fail(ctx, p.MessageID, p.Outbox(), "Could not build the email: "+err.Error(), fmt.Errorf("jobs: email %d: %w: %w", p.MessageID, err, asynq.SkipRetry))
	}
	// Stored before it is sent: its return path must be known when a
	// bounce comes back, and a retry sends what the first attempt built.
	sent.Raw = raw
	if sent, err = h.store.PrepareEmail(ctx, p.MessageID, sent); err != nil {
		h.release(ctx, p.MessageID)
		return err
	}
	env := email.Envelope{From: email.BounceAddress(sent.BounceToken, h.cfg.Domain), To: []string{out.To}}
	err = h.sender.Send(ctx, env, sent.Raw)
	var rejected *email.RejectedError
	if errors.As(err, &rejected) {
		return h.fail(ctx, p.MessageID, p.Outbox(), rejected.Reason(), fmt.Errorf("jobs: email %d: %v: %w", p.MessageID, err, asynq.SkipRetry))
	}
	if err != nil {
		if retried, ok := asynq.GetRetryCount(ctx); ok {
			if max, _ := asynq.GetMaxRetry(ctx); retried >= max {
				return h.fail(ctx, p.MessageID, p.Outbox(), "Could not reach the mail server: "+err.Error(), err)
			}
		}
		h.release(ctx, p.MessageID)
		return fmt.Errorf("jobs: email %d: %w", p.MessageID, err)
	}
	ch, err := h.store.RecordEmailSent(ctx, p.MessageID, sent)
	if err != nil {
		h.release(ctx, p.MessageID)
		return err // retried: the released claim lets a 'sending' message through again
	}
	if ch != nil {
		h.notify.Notify(ch)
	}
	h.done(ctx, p.Outbox(), "")
	return nil
}

// build renders a claimed email: a fresh Message-ID and return-path
// token, Reply-To the conversation's address, the thread's headers, the
// unsubscribe link, and the DKIM signature when configured.
func (h *emailSend) build(out *models.OutboundEmail) (models.SentEmail, []byte, error) {
	sent := models.SentEmail{HeaderID: email.NewMessageID(h.cfg.Domain), BounceToken: email.NewToken(),
		InReplyTo: out.InReplyTo, From: out.From, To: out.To}
	if out.InReplyTo != "" {
		sent.References = append(append([]string{}, out.References...), out.InReplyTo)
	}
	sent.Subject = out.Subject
	if out.InReplyTo != "" {
		sent.Subject = email.ReplySubject(out.Subject)
	}
	local, _, _ := strings.Cut(out.From, "@")
	raw, err := email.Build(email.Outbound{
		From:            email.Address{Name: out.FromName, Email: out.From},
		To:              []email.Address{{Name: out.ToName, Email: out.To}},
		ReplyTo:         email.ReplyAddress(local, out.ThreadToken, h.cfg.Domain),
		Subject:         out.Subject,
		Text:            out.Body,
		MessageID:       sent.HeaderID,
		InReplyTo:       out.InReplyTo,
		References:      out.References,
		Date:            time.Now(),
		Automated:       out.Automated,
		ListUnsubscribe: strings.TrimRight(h.cfg.BaseURL, "/") + "/unsubscribe/" + out.UnsubscribeToken,
	})
	if err != nil {
		return sent, nil, err
	}
	if h.cfg.DKIM != nil {
		if raw, err = h.cfg.DKIM.Sign(raw); err != nil {
			return sent, nil, err
		}
	}
	sent.Raw = raw
	return sent, raw, nil
}

// release gives up the claim so this task's retry may send at once.
func (h *emailSend) release(ctx context.Context, msgID int64) {
	if err := h.store.ReleaseEmailClaim(ctx, msgID); err != nil {
		h.log.Warn("release email claim", "message_id", msgID, "err", err)
	}
}
