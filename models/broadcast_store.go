package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/jobs/task"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// The broadcast store methods pages and the API call.

// EstimateBroadcast says what in would do if it went out now: whom it
// reaches, whom it skips and why, segments and credits against the
// location's available balance. It checks in as CreateBroadcast does
// (FieldErrors), except that an empty name, body or subject is allowed.
func (s *Store) EstimateBroadcast(ctx context.Context, sc Scope, in BroadcastInput) (*BroadcastEstimate, error) {
	_, e, err := s.estimateBroadcast(ctx, s.db, sc, in, true)
	if err != nil {
		return nil, fmt.Errorf("store: estimate broadcast: %w", err)
	}
	return e, nil
}

// CreateBroadcast checks and stores a broadcast (PermBroadcast). One due
// now starts at once (its fan-out task is written in the same
// transaction); a later one waits for its time, and its credits are
// checked again then. A broadcast due now whose credits the location
// cannot cover is refused with *InsufficientCreditsError, one that would
// reach nobody with a FieldError; nothing is stored.
func (s *Store) CreateBroadcast(ctx context.Context, sc Scope, in BroadcastInput) (*BroadcastView, error) {
	var v *BroadcastView
	err := s.inTx(ctx, func(tx bun.Tx) error {
		p, e, err := s.estimateBroadcast(ctx, tx, sc, in, false)
		if err != nil {
			return err
		}
		if !p.location.ChatEnabled() {
			return ErrPlanInactive
		}
		if e.SMS+e.Email == 0 {
			return fieldErr("audience", "Nobody in this audience can be reached: %s opted out, %s without an address for the channel.",
				plural(e.SkippedOptedOut, "recipient"), plural(e.SkippedNoAddress, "recipient"))
		}
		now := p.in.SendAt == nil
		if now && e.Shortfall > 0 {
			return &InsufficientCreditsError{Needed: e.Credits, Available: e.Available}
		}
		b := &Broadcast{OrgID: sc.OrgID, LocationID: p.location.ID, InboxID: p.inbox.ID, CreatedBy: &sc.UserID,
			Name: p.in.Name, Channels: p.in.Channels, Audience: p.in.Audience, Body: p.in.Body, Subject: p.in.Subject,
			ChatEnabled: p.in.ChatEnabled, ReplyWindowHours: p.in.ReplyWindowHours,
			RespectQuietHours: p.in.RespectQuietHours, Emergency: p.in.Emergency, Status: BroadcastScheduled}
		if !now {
			b.SendAt = *p.in.SendAt
		}
		if _, err := tx.NewInsert().Model(b).Returning("*").Exec(ctx); err != nil {
			return fmt.Errorf("insert broadcast: %w", err)
		}
		if now {
			if err := insertOutbox(ctx, tx, sc.OrgID, task.NewBroadcastFanout(b.ID)); err != nil {
				return err
			}
		}
		type summary struct {
			Channels   []string  `json:"channels"`
			Audience   Audience  `json:"audience"`
			SendAt     time.Time `json:"send_at"`
			Recipients int       `json:"recipients"`
			Credits    int64     `json:"credits"`
			Emergency  bool      `json:"emergency,omitempty"`
		}
		if err := audit(ctx, tx, sc, AuditChange{Action: "broadcast.create", TargetType: "broadcast", TargetID: b.ID,
			TargetName: b.Name, After: summary{b.Channels, b.Audience, b.SendAt, e.Recipients, e.Credits, b.Emergency}}); err != nil {
			return err
		}
		// Read in this transaction: inside Store.Idempotent it commits
		// with the key, after this returns.
		v, err = broadcastView(ctx, tx, sc.OrgID, b.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: create broadcast: %w", err)
	}
	return v, nil
}

// plural is "1 recipient" or "n recipients".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// broadcastViewSQL selects broadcasts AS b with their names for the view.
const broadcastViewSQL = `SELECT b.*, i.name AS inbox_name, l.name AS location_name, coalesce(u.name, '') AS created_by_name
	FROM broadcasts AS b JOIN inboxes AS i ON i.id = b.inbox_id JOIN locations AS l ON l.id = b.location_id
	LEFT JOIN users AS u ON u.id = b.created_by`

// broadcastRow scans one broadcastViewSQL row.
type broadcastRow struct {
	Broadcast
	InboxName     string `bun:"inbox_name"`
	LocationName  string `bun:"location_name"`
	CreatedByName string `bun:"created_by_name"`
}

func (r *broadcastRow) view() BroadcastView {
	return BroadcastView{Broadcast: r.Broadcast, InboxName: r.InboxName, LocationName: r.LocationName, CreatedByName: r.CreatedByName}
}

// Broadcasts lists the organization's broadcasts, newest first, with their
// counts (without Replied and OptedOutAfter, which BroadcastByID
// reads); keyset pagination by id (pass the previous page's NextAfter).
func (s *Store) Broadcasts(ctx context.Context, sc Scope, after int64, limit int) (*BroadcastPage, error) {
	if err := require(sc, PermBroadcast); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 100 {
		limit = 25
	}
	q, args := broadcastViewSQL+` WHERE b.org_id = ?`, []any{sc.OrgID}
	if after > 0 {
		q, args = q+` AND b.id < ?`, append(args, after)
	}
	var rows []broadcastRow
	if err := s.db.NewRaw(q+` ORDER BY b.id DESC LIMIT ?`, append(args, limit+1)...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: broadcasts: %w", err)
	}
	page := &BroadcastPage{}
	if len(rows) > limit {
		rows = rows[:limit]
		page.NextAfter = rows[limit-1].ID
	}
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	counts, err := broadcastCounts(ctx, s.db, ids)
	if err != nil {
		return nil, fmt.Errorf("store: broadcasts: %w", err)
	}
	for i := range rows {
		v := rows[i].view()
		v.Counts = counts[v.ID]
		page.Broadcasts = append(page.Broadcasts, v)
	}
	return page, nil
}

// BroadcastByID loads one broadcast with its counts, else ErrNotFound.
func (s *Store) BroadcastByID(ctx context.Context, sc Scope, id int64) (*BroadcastView, error) {
	if err := require(sc, PermBroadcast); err != nil {
		return nil, err
	}
	v, err := broadcastView(ctx, s.db, sc.OrgID, id)
	if err != nil {
		return nil, fmt.Errorf("store: broadcast: %w", err)
	}
	var r struct {
		Replied  int `bun:"replied"`
		OptedOut int `bun:"opted_out"`
	}
	if err := s.db.NewRaw(`SELECT count(*) FILTER (WHERE d.state = ?3) AS replied,
			count(*) FILTER (WHERE d.opted_out_at IS NOT NULL) AS opted_out
		FROM (`+replyStatesSQL+`) AS d`, id, v.InboxID, v.ReplyWindowHours, ReplyStateReplied).Scan(ctx, &r); err != nil {
		return nil, fmt.Errorf("store: broadcast replies: %w", err)
	}
	v.Counts.Replied, v.Counts.OptedOutAfter = r.Replied, r.OptedOut
	return v, nil
}

// BroadcastProgress is a broadcast's counts (without Replied and
// OptedOutAfter), read for a live progress frame: no scope, the caller
// already knows the organization.
func (s *Store) BroadcastProgress(ctx context.Context, orgID, id int64) (*BroadcastView, error) {
	v, err := broadcastView(ctx, s.db, orgID, id)
	if err != nil {
		return nil, fmt.Errorf("store: broadcast progress: %w", err)
	}
	return v, nil
}

// broadcastView reads one broadcast of org with its delivery counts.
func broadcastView(ctx context.Context, db bun.IDB, orgID, id int64) (*BroadcastView, error) {
	var row broadcastRow
	if err := db.NewRaw(broadcastViewSQL+` WHERE b.org_id = ? AND b.id = ?`, orgID, id).Scan(ctx, &row); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	counts, err := broadcastCounts(ctx, db, []int64{id})
	if err != nil {
		return nil, err
	}
	v := row.view()
	v.Counts = counts[id]
	return &v, nil
}

// broadcastCounts reads the delivery counts of broadcasts ids.
func broadcastCounts(ctx context.Context, db bun.IDB, ids []int64) (map[int64]BroadcastCounts, error) {
	out := make(map[int64]BroadcastCounts, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		BroadcastID int64 `bun:"broadcast_id"`
		BroadcastCounts
	}
	if err := db.NewRaw(`SELECT br.broadcast_id, count(*) AS total,
			count(*) FILTER (WHERE br.status = 'pending') AS pending,
			count(*) FILTER (WHERE br.status = 'queued' AND m.status IN ('queued', 'sending')) AS queued,
			count(*) FILTER (WHERE m.status = 'sent') AS sent,
			count(*) FILTER (WHERE m.status = 'delivered') AS delivered,
			count(*) FILTER (WHERE m.status = 'failed' OR (br.status = 'queued' AND m.id IS NULL)) AS failed,
			count(*) FILTER (WHERE br.status = 'skipped' AND br.skip_reason = ?) AS skipped_opted_out,
			count(*) FILTER (WHERE br.status = 'skipped' AND br.skip_reason = ?) AS skipped_no_address,
			count(*) FILTER (WHERE br.status = 'cancelled') AS cancelled,
			coalesce(sum(m.credits_charged) FILTER (WHERE m.status <> 'failed' OR m.sent_at IS NOT NULL), 0) AS credits
		FROM broadcast_recipients AS br LEFT JOIN messages AS m ON m.id = br.message_id
		WHERE br.broadcast_id = ANY(?) GROUP BY br.broadcast_id`,
		SkipOptedOut, SkipNoAddress, pgdialect.Array(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("broadcast counts: %w", err)
	}
	for _, r := range rows {
		out[r.BroadcastID] = r.BroadcastCounts
	}
	return out, nil
}
