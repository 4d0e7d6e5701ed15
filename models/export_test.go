package models

import "context"

// SetFollowUp lets tests give the inbound core a follow-up hook.
func (s *Store) SetFollowUp(f FollowUpFunc) { s.followUp = f }

// ComposeGate exposes the send gate as composing checks it.
func (s *Store) ComposeGate(ctx context.Context, convID int64, channel string, compliance bool) error {
	return composeGate(ctx, s.db, convID, channel, compliance)
}

// StatusSQL exposes the status lists the SQL statements use.
func StatusSQL() (pendingList, pastSent string) { return pendingStatusesSQL, pastSentStatusesSQL }
