package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/jobs/task"
	"github.com/parley-chat/parley/models"
)

// CreditsStore is what charging and plan renewal need from the database.
type CreditsStore interface {
	ChargeLocation(ctx context.Context, locationID int64) (models.ChargeReport, error)
	RenewPlans(ctx context.Context, now time.Time) (int, error)
	MarkOutboxDone(ctx context.Context, id int64, lastErr string) error
}

// creditsCharge runs credits:charge: it settles every pending charge of
// the task's location (ChargeLocation is idempotent, so a retried or
// duplicated task charges nothing twice) and closes the outbox entry only
// after they are committed. An error retries the task; the entry, still
// open, is swept back if the task itself is lost.
type creditsCharge struct {
	out sendOutcome
	st  CreditsStore
	log *slog.Logger
}

func (h *creditsCharge) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := decodeSend[task.CreditsCharge](ctx, h.out, t)
	if err != nil {
		return err
	}
	r, err := h.st.ChargeLocation(ctx, p.LocationID)
	if err != nil {
		return fmt.Errorf("jobs: charge location %d: %w", p.LocationID, err)
	}
	if len(r.Alerts) > 0 {
		h.log.Info("credit usage alert", "location_id", p.LocationID, "levels", r.Alerts, "balance", r.Balance)
	}
	h.out.done(ctx, p.Outbox(), "")
	return nil
}

// creditsRenewHandler runs credits:renew: it grants the plan periods that
// have started. Every node schedules it; a period is granted once however
// many run (RenewPlans).
func creditsRenewHandler(st CreditsStore, log *slog.Logger) asynq.HandlerFunc {
	return func(ctx context.Context, _ *asynq.Task) error {
		n, err := st.RenewPlans(ctx, time.Now())
		if err != nil {
			return fmt.Errorf("jobs: renew plans: %w", err)
		}
		if n > 0 {
			log.Info("plan periods renewed", "locations", n)
		}
		return nil
	}
}
