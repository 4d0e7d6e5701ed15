package models

import "context"

// SetFollowUp lets tests give the inbound core a follow-up hook.
func (s *Store) SetFollowUp(f FollowUpFunc) { s.followUp = f }

// ComposeGate exposes the send gate as composing checks it.
func (s *Store) ComposeGate(ctx context.Context, convID int64, channel string, compliance bool) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	_, err = composeGate(ctx, tx, convID, channel, compliance)
	return err
}

// StatusSQL exposes the status lists the SQL statements use.
func StatusSQL() (pendingList, pastSent string) { return pendingStatusesSQL, pastSentStatusesSQL }

// HelpReply exposes the HELP answer's builder.
func HelpReply(helpText string) string { return helpReply(helpText) }

// EnsureEmailThread exposes the email thread maker.
func (s *Store) EnsureEmailThread(ctx context.Context, orgID, convID int64, subject string) (*EmailThread, error) {
	return ensureEmailThread(ctx, s.db, orgID, convID, subject)
}

// SetTextWay makes every message search walk ("walk") or read the index
// ("index"), with no fallback; "" restores the choice by frequency.
func (s *Store) SetTextWay(way string) { s.textWay = way }
