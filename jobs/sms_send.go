package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/jobs/task"
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

// RefusedError is a permanent refusal with the reason agents are shown.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "refused by the SMS provider: " + e.Reason }

// Unwrap lets errors.Is(err, ErrRefused) match.
func (e *RefusedError) Unwrap() error { return ErrRefused }

// SMSSender sends through the provider (Vonage, or the simulator).
type SMSSender interface {
	// SendSMS returns the provider's ids of the parts it accepted; with a
	// *RefusedError, any parts accepted before the refusal.
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
	ReleaseSMSClaim(ctx context.Context, msgID int64) error
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
	cfg         SMSConfig
	store       SMSStore
	sender      SMSSender
	sendOutcome // notify, log, fail, done
}

// ProcessTask sends one queued SMS: wait for the rate limit, re-check the
// gate, send, record. Permanent refusals are recorded and not retried.
func (h *smsSend) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := decodeSend[task.SMSSend](ctx, h.sendOutcome, t)
	if err != nil {
		return err
	}
	// Wait first: the claim re-checks opt-out, and must come right before
	// the send, or a STOP committed during the wait would not stop it (R7).
	if err := h.wait(ctx); err != nil {
		return err
	}
	out, failed, err := h.store.ClaimSMS(ctx, p.MessageID)
	if failed != nil {
		h.notify.Notify(failed)
	}
	if errors.Is(err, models.ErrNotSendable) || errors.Is(err, models.ErrNotFound) {
		h.done(ctx, p.Outbox(), err.Error())
		return nil // nothing to retry: the reason is on the message
	}
	if errors.Is(err, models.ErrClaimed) {
		// Another worker may be sending it (this task is a copy the relay
		// enqueued again after Redis lost its data, or a killed worker's
		// claim has not yet run out): retried later, when the message is
		// sent (nothing to do) or the claim has run out.
		return fmt.Errorf("jobs: sms %d: %w", p.MessageID, err)
	}
	if err != nil {
		return err
	}
	ids, err := h.sender.SendSMS(ctx, SMS{From: out.From, To: out.To, Text: out.Body, ClientRef: strconv.FormatInt(out.MessageID, 10)})
	var refused *RefusedError
	if errors.As(err, &refused) {
		// Parts accepted before the refusal went out (and are charged):
		// record them so their receipts match, then fail the message.
		if len(ids) > 0 {
			if _, rerr := h.store.RecordSent(ctx, p.MessageID, h.cfg.Provider, ids); rerr != nil {
				return rerr
			}
		}
		return h.fail(ctx, p.MessageID, p.Outbox(), refused.Reason, fmt.Errorf("jobs: sms %d: %v: %w", p.MessageID, err, asynq.SkipRetry))
	}
	if err != nil {
		if retried, ok := asynq.GetRetryCount(ctx); ok {
			if max, _ := asynq.GetMaxRetry(ctx); retried >= max {
				return h.fail(ctx, p.MessageID, p.Outbox(), "Could not reach the SMS provider: "+err.Error(), err)
			}
		}
		h.release(ctx, p.MessageID)
		return fmt.Errorf("jobs: sms %d: %w", p.MessageID, err)
	}
	ch, err := h.store.RecordSent(ctx, p.MessageID, h.cfg.Provider, ids)
	if err != nil {
		h.release(ctx, p.MessageID)
		return err // retried: the released claim lets a 'sending' message through again (see ClaimSMS)
	}
	if ch != nil {
		h.notify.Notify(ch)
	}
	h.done(ctx, p.Outbox(), "")
	return nil
}

// release gives up the claim so this task's retry may send at once; if it
// fails, the retry waits for the claim to run out (models.SendClaimLease).
func (h *smsSend) release(ctx context.Context, msgID int64) {
	if err := h.store.ReleaseSMSClaim(ctx, msgID); err != nil {
		h.log.Warn("release sms claim", "message_id", msgID, "err", err)
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
