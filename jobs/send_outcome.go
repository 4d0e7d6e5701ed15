package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/jobs/task"
	"github.com/parley-chat/parley/models"
)

// outcomeStore is what every channel's send handler records an ending with.
type outcomeStore interface {
	RecordSendFailed(ctx context.Context, msgID int64, reason string) (*models.Change, error)
	MarkOutboxDone(ctx context.Context, id int64, lastErr string) error
}

// sendOutcome records how a send task ended, the same way for sms:send
// and email:send: the message's failure shown live, the outbox entry
// closed.
type sendOutcome struct {
	store  outcomeStore
	notify Notifier
	log    *slog.Logger
}

// fail marks message msgID failed with reason, shows it, closes its
// outbox entry and returns ret (the task's own error).
func (o sendOutcome) fail(ctx context.Context, msgID, outboxID int64, reason string, ret error) error {
	ch, err := o.store.RecordSendFailed(ctx, msgID, reason)
	if err != nil {
		return err
	}
	if ch != nil {
		o.notify.Notify(ch)
	}
	o.done(ctx, outboxID, reason)
	return ret
}

// done closes an outbox entry, with the last error when it failed.
func (o sendOutcome) done(ctx context.Context, outboxID int64, lastErr string) {
	if err := o.store.MarkOutboxDone(ctx, outboxID, lastErr); err != nil {
		o.log.Warn("mark outbox done", "outbox_id", outboxID, "err", err)
	}
}

// decodeSend reads a send task's payload, a *P, through the catalogue. A
// payload the relay would not build (it decodes every row through the
// catalogue first) closes the entry it names, if any, for good, and fails
// the task without a retry.
func decodeSend[P any](ctx context.Context, o sendOutcome, t *asynq.Task) (*P, error) {
	v, err := task.Decode(t.Type(), t.Payload())
	var p *P
	if err == nil {
		var ok bool
		if p, ok = any(v).(*P); !ok {
			err = fmt.Errorf("task %q: %w: not a %T payload", t.Type(), task.ErrMalformed, p)
		}
	}
	if err != nil {
		var ref struct {
			OutboxID int64 `json:"outbox_id"`
		}
		if json.Unmarshal(t.Payload(), &ref) == nil && ref.OutboxID != 0 {
			o.done(ctx, ref.OutboxID, err.Error())
		}
		return nil, fmt.Errorf("jobs: %w: %w", err, asynq.SkipRetry)
	}
	return p, nil
}
