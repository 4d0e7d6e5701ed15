package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/models"
)

// SMS is one message for the provider.
type SMS struct {
	From, To, Text string
	// ClientRef is our message id; the provider echoes it in receipts.
	ClientRef string
}

// ErrRefused marks a provider's permanent refusal; any other send error
// is retried with backoff.
var ErrRefused = errors.New("refused by the SMS provider")

// SMSSender sends through the provider (Vonage, or the simulator).
type SMSSender interface {
	SendSMS(ctx context.Context, m SMS) (providerIDs []string, err error)
}

// Notifier shows a committed change on agents' screens.
type Notifier interface {
	Notify(ch *models.Change)
}

// SMSStore is what sending needs from the database.
type SMSStore interface {
	ClaimSMS(ctx context.Context, msgID int64) (*models.OutboundSMS, *models.Change, error)
	RecordSent(ctx context.Context, msgID int64, provider string, ids []string) (*models.Change, error)
	RecordSendFailed(ctx context.Context, msgID int64, reason string) (*models.Change, error)
	MarkOutboxDone(ctx context.Context, id int64, lastErr string) error
}

// SMSConfig configures sending.
type SMSConfig struct {
	Provider string // recorded on messages, e.g. "vonage"
	Rate     int    // messages per second across every worker (the account's limit)
	Limiter  *redis_rate.Limiter
}

// DefaultSMSRate is Vonage's default account throughput (30 messages/s).
const DefaultSMSRate = 30

type smsSend struct {
	cfg    SMSConfig
	store  SMSStore
	sender SMSSender
	notify Notifier
	log    *slog.Logger
}

// ProcessTask sends one queued SMS: re-check the gate, wait for the rate
// limit, send, record. Permanent refusals are recorded and not retried.
func (h *smsSend) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p TaskPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.MessageID == 0 {
		return fmt.Errorf("jobs: sms:send payload %q: %w", t.Payload(), asynq.SkipRetry)
	}
	out, failed, err := h.store.ClaimSMS(ctx, p.MessageID)
	if failed != nil {
		h.notify.Notify(failed)
	}
	if errors.Is(err, models.ErrNotSendable) || errors.Is(err, models.ErrNotFound) {
		h.done(ctx, p, err.Error())
		return nil // nothing to retry: the reason is on the message
	}
	if err != nil {
		return err
	}
	if err := h.wait(ctx); err != nil {
		return err
	}
	ids, err := h.sender.SendSMS(ctx, SMS{From: out.From, To: out.To, Text: out.Body, ClientRef: strconv.FormatInt(out.MessageID, 10)})
	if errors.Is(err, ErrRefused) {
		return h.fail(ctx, p, err.Error(), fmt.Errorf("jobs: sms %d: %v: %w", p.MessageID, err, asynq.SkipRetry))
	}
	if err != nil {
		if retried, ok := asynq.GetRetryCount(ctx); ok {
			if max, _ := asynq.GetMaxRetry(ctx); retried >= max {
				return h.fail(ctx, p, "Could not reach the SMS provider: "+err.Error(), err)
			}
		}
		return fmt.Errorf("jobs: sms %d: %w", p.MessageID, err)
	}
	ch, err := h.store.RecordSent(ctx, p.MessageID, h.cfg.Provider, ids)
	if err != nil {
		return err // retried: the claim lets a 'sending' message through again (see ClaimSMS)
	}
	if ch != nil {
		h.notify.Notify(ch)
	}
	h.done(ctx, p, "")
	return nil
}

func (h *smsSend) fail(ctx context.Context, p TaskPayload, reason string, ret error) error {
	ch, err := h.store.RecordSendFailed(ctx, p.MessageID, reason)
	if err != nil {
		return err
	}
	if ch != nil {
		h.notify.Notify(ch)
	}
	h.done(ctx, p, reason)
	return ret
}

func (h *smsSend) done(ctx context.Context, p TaskPayload, lastErr string) {
	if err := h.store.MarkOutboxDone(ctx, p.OutboxID, lastErr); err != nil {
		h.log.Warn("mark outbox done", "outbox_id", p.OutboxID, "err", err)
	}
}

// wait blocks until the shared rate limit lets one more message out:
// bursts queue here, they do not fail.
func (h *smsSend) wait(ctx context.Context) error {
	if h.cfg.Limiter == nil {
		return nil
	}
	for {
		res, err := h.cfg.Limiter.Allow(ctx, "parley:rate:sms:"+h.cfg.Provider, redis_rate.PerSecond(h.cfg.Rate))
		if err != nil {
			return fmt.Errorf("jobs: rate limit: %w", err)
		}
		if res.Allowed > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(res.RetryAfter):
		}
	}
}
