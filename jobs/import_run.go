package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/jobs/task"
	"github.com/parley-chat/parley/models"
)

// ImportStore is what running a CSV import needs from the database.
type ImportStore interface {
	RunImport(ctx context.Context, id int64, progress func(*models.Import)) error
	FailImport(ctx context.Context, id int64, reason string) (*models.Import, error)
	MarkOutboxDone(ctx context.Context, id int64, lastErr string) error
}

// importRun runs import:run: the store stages the file's rows in batches
// and applies them in one transaction (models/import_run.go), so a retry
// after a crash starts over or finds the import done, and never applies
// it twice. After the last attempt the import is marked failed.
type importRun struct {
	out sendOutcome
	st  ImportStore
	log *slog.Logger
}

func (h *importRun) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := decodeSend[task.ImportRun](ctx, h.out, t)
	if err != nil {
		return err
	}
	if err := h.st.RunImport(ctx, p.ImportID, nil); err != nil {
		retried, _ := asynq.GetRetryCount(ctx)
		most, _ := asynq.GetMaxRetry(ctx)
		if retried < most || ctx.Err() != nil {
			return fmt.Errorf("jobs: import %d: %w", p.ImportID, err)
		}
		h.log.Error("import failed", "import_id", p.ImportID, "err", err)
		if _, ferr := h.st.FailImport(context.WithoutCancel(ctx), p.ImportID, "The import could not be completed; nothing was imported. Try again."); ferr != nil {
			return fmt.Errorf("jobs: import %d: %w (and marking it failed: %w)", p.ImportID, err, ferr)
		}
		h.out.done(ctx, p.Outbox(), err.Error())
		return nil
	}
	h.out.done(ctx, p.Outbox(), "")
	return nil
}
