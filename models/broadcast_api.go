package models

import (
	"context"
	"errors"
)

// The broadcast store methods pages and the API call. (Being written: the
// bodies land in broadcast_*.go; the signatures are settled.)

var errBroadcastTODO = errors.New("broadcasts: not implemented yet")

// EstimateBroadcast says what in would do if it went out now: whom it
// reaches, whom it skips and why, segments and credits against the
// location's available balance. It checks in as CreateBroadcast does
// (FieldErrors), except that an empty body or name is allowed.
func (s *Store) EstimateBroadcast(ctx context.Context, sc Scope, in BroadcastInput) (*BroadcastEstimate, error) {
	return nil, errBroadcastTODO
}

// CreateBroadcast checks and stores a broadcast (PermBroadcast). One due
// now starts at once (its fan-out task is written in the same
// transaction); a later one waits for its time. A broadcast due now whose
// credits the location cannot cover is refused with
// *InsufficientCreditsError (nothing stored).
func (s *Store) CreateBroadcast(ctx context.Context, sc Scope, in BroadcastInput) (*BroadcastView, error) {
	return nil, errBroadcastTODO
}

// Broadcasts lists the organization's broadcasts, newest first, with their
// counts; keyset pagination by id (pass the previous page's NextAfter).
func (s *Store) Broadcasts(ctx context.Context, sc Scope, after int64, limit int) (*BroadcastPage, error) {
	return nil, errBroadcastTODO
}

// BroadcastByID loads one broadcast with its counts, else ErrNotFound.
func (s *Store) BroadcastByID(ctx context.Context, sc Scope, id int64) (*BroadcastView, error) {
	return nil, errBroadcastTODO
}

// BroadcastProgress is a broadcast's counts, read for a live progress
// frame (no scope: the caller already knows the organization).
func (s *Store) BroadcastProgress(ctx context.Context, orgID, id int64) (*BroadcastView, error) {
	return nil, errBroadcastTODO
}

// CancelBroadcast stops what has not gone out (PermBroadcast): rows not yet
// messaged are cancelled and messages still queued fail with "Broadcast
// cancelled" (their charges refunded). What was sent stays sent. A
// broadcast already finished is ErrConflict.
func (s *Store) CancelBroadcast(ctx context.Context, sc Scope, id int64) (*BroadcastView, []*Change, error) {
	return nil, nil, errBroadcastTODO
}

// BroadcastReplies is the reply dashboard: every recipient row with its
// state (replied, opted out, failed, silent, pending, skipped), the chat
// a reply is in, ordered by recipient.
func (s *Store) BroadcastReplies(ctx context.Context, sc Scope, id int64, f BroadcastReplyFilter) (*BroadcastReplyPage, error) {
	return nil, errBroadcastTODO
}
