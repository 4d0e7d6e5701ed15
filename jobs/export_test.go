package jobs

import (
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/models"
)

// MuxOf exposes the worker's handlers (newMux), so tests can run a task
// through the real handler without a server.
func MuxOf(d Deps, log *slog.Logger) (*asynq.ServeMux, error) { return newMux(d, log) }

// NewCreditsAlertHandler is credits:alert's handler, for tests that run
// one task by hand.
func NewCreditsAlertHandler(st *models.Store, sender EmailSender, cfg EmailConfig, n Notifier) asynq.Handler {
	log := slog.New(slog.DiscardHandler)
	return &creditsAlert{out: sendOutcome{st, n, log}, st: st, sender: sender, cfg: cfg, notify: n, log: log}
}
