package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// ReasonBroadcastCancelled is recorded on a broadcast's messages that a
// cancel stopped before they went out.
const ReasonBroadcastCancelled = "Broadcast cancelled"

// CancelBroadcast stops what has not gone out (PermBroadcast): rows not yet
// messaged are cancelled and messages still queued fail with "Broadcast
// cancelled" (their charges dropped or refunded). What was sent stays
// sent; a message a worker is sending right now goes out. A broadcast
// with nothing left to stop is ErrConflict. The broadcast's messages live
// in conversations of their own, which no screen follows live, so the
// returned changes are empty today; the signature keeps room for them.
func (s *Store) CancelBroadcast(ctx context.Context, sc Scope, id int64) (*BroadcastView, []*Change, error) {
	if err := require(sc, PermBroadcast); err != nil {
		return nil, nil, err
	}
	err := s.inTx(ctx, func(tx bun.Tx) error {
		b := new(Broadcast)
		if err := tx.NewSelect().Model(b).Where("b.org_id = ? AND b.id = ?", sc.OrgID, id).For("UPDATE").Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return fmt.Errorf("lock broadcast: %w", err)
		}
		if b.Status == BroadcastCancelled || b.Status == BroadcastFailed {
			return fmt.Errorf("broadcast is %s: %w", b.Status, ErrConflict)
		}
		res, err := tx.NewRaw(`UPDATE broadcast_recipients SET status = ? WHERE broadcast_id = ? AND status = ?`,
			BRCancelled, b.ID, BRPending).Exec(ctx)
		if err != nil {
			return fmt.Errorf("cancel rows: %w", err)
		}
		rows, _ := res.RowsAffected()
		var msgs []struct {
			ID             int64 `bun:"id"`
			ConversationID int64 `bun:"conversation_id"`
		}
		if err := tx.NewRaw(`UPDATE messages AS m SET status = ?, status_reason = ?
			FROM broadcast_recipients AS br
			WHERE br.broadcast_id = ? AND m.id = br.message_id AND m.status = ?
			RETURNING m.id, m.conversation_id`, MsgFailed, ReasonBroadcastCancelled, b.ID, MsgQueued).Scan(ctx, &msgs); err != nil {
			return fmt.Errorf("cancel queued messages: %w", err)
		}
		if b.Status == BroadcastSent && rows == 0 && len(msgs) == 0 {
			return fmt.Errorf("everything has gone out: %w", ErrConflict)
		}
		ids, convs := make([]int64, len(msgs)), make([]int64, len(msgs))
		for i, m := range msgs {
			ids[i], convs[i] = m.ID, m.ConversationID
		}
		if err := dropOrRefund(ctx, tx, ids); err != nil {
			return err
		}
		if len(ids) > 0 {
			if _, err := tx.NewRaw(`INSERT INTO conversation_events (org_id, inbox_id, conversation_id, kind, message_id, actor_user_id, detail)
				SELECT ?, ?, cv, ?, m, ?, ?::jsonb FROM unnest(?::bigint[], ?::bigint[]) AS x(cv, m)`,
				b.OrgID, b.InboxID, EvMessageStatus, sc.UserID, `{"status": "failed"}`,
				pgdialect.Array(convs), pgdialect.Array(ids)).Exec(ctx); err != nil {
				return fmt.Errorf("cancel events: %w", err)
			}
		}
		if _, err := tx.NewUpdate().Model(b).Set("status = ?, finished_at = coalesce(finished_at, now()), updated_at = now()",
			BroadcastCancelled).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("cancel broadcast: %w", err)
		}
		type stopped struct {
			Status   string `json:"status"`
			Rows     int64  `json:"rows_cancelled"`
			Messages int    `json:"messages_cancelled"`
		}
		return audit(ctx, tx, sc, AuditChange{Action: "broadcast.cancel", TargetType: "broadcast", TargetID: b.ID,
			TargetName: b.Name, Before: stopped{Status: b.Status}, After: stopped{BroadcastCancelled, rows, len(msgs)}})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: cancel broadcast: %w", err)
	}
	v, err := s.BroadcastByID(ctx, sc, id)
	return v, nil, err
}
