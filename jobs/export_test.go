package jobs

import (
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/models"
)

// NewCreditsAlertHandler is credits:alert's handler, for tests that run
// one task by hand.
func NewCreditsAlertHandler(st *models.Store, sender EmailSender, cfg EmailConfig, n Notifier) asynq.Handler {
	log := slog.New(slog.DiscardHandler)
	return &creditsAlert{out: sendOutcome{st, n, log}, st: st, sender: sender, cfg: cfg, notify: n, log: log}
}
