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

// Fanning a broadcast out: the broadcast:fanout task calls FanoutBroadcast,
// which starts a due broadcast (resolving its audience into
// broadcast_recipients and checking the credits for all of it) and then
// messages its due rows, fanoutBatch at a time, each batch in one
// transaction: the rows' messages, their conversations, events, pending
// charges and send tasks, and the rows marked queued commit together, so
// a worker killed mid-fan-out leaves each row either messaged once or
// still pending for the retried task.

// fanoutBatch is how many rows one transaction messages.
const fanoutBatch = 500

// FanoutReport is what one FanoutBroadcast call did.
type FanoutReport struct {
	OrgID    int64
	Status   string // the broadcast's status afterwards
	Messaged int    // rows messaged
	Skipped  int    // rows skipped (opted out, no address), when it started or since
	Held     int    // rows still pending, not yet due (quiet hours)
	// NextDue is when the earliest held row comes due (zero if none).
	NextDue time.Time
	// Batches is how many batches committed (each worth a progress frame).
	Batches int
}

// FanoutBroadcast starts broadcast id if it is due and messages every row
// due now. It is idempotent and safe to run concurrently: rows are taken
// with SKIP LOCKED and each is messaged in the transaction that marks it.
// progress, if not nil, is called with the organization after each
// committed batch.
func (s *Store) FanoutBroadcast(ctx context.Context, id int64, progress func(orgID int64)) (FanoutReport, error) {
	rep, err := s.startBroadcast(ctx, id)
	if err != nil || rep.Status != BroadcastSending {
		return rep, err
	}
	if progress != nil {
		progress(rep.OrgID)
	}
	for {
		n, skipped, status, err := s.fanoutOnce(ctx, id)
		if err != nil {
			return rep, fmt.Errorf("store: fan out broadcast %d: %w", id, err)
		}
		rep.Status = status
		if n+skipped == 0 {
			break
		}
		rep.Messaged += n
		rep.Skipped += skipped
		rep.Batches++
		if progress != nil {
			progress(rep.OrgID)
		}
	}
	if rep.Status != BroadcastSending {
		return rep, nil
	}
	if err := s.finishIfDone(ctx, id, &rep); err != nil {
		return rep, err
	}
	if rep.Status != BroadcastSending && progress != nil {
		progress(rep.OrgID)
	}
	return rep, nil
}

// startBroadcast moves a due scheduled broadcast to sending: it writes its
// rows (the audience as it is now, times the channels, with who is
// skipped and when each SMS row is due under quiet hours) and checks the
// location's credits for the whole of it; a shortfall fails the
// broadcast before anything goes out.
func (s *Store) startBroadcast(ctx context.Context, id int64) (FanoutReport, error) {
	var rep FanoutReport
	err := s.inTx(ctx, func(tx bun.Tx) error {
		b := new(Broadcast)
		if err := tx.NewSelect().Model(b).Where("b.id = ?", id).For("UPDATE").Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				rep.Status = ""
				return nil
			}
			return fmt.Errorf("lock broadcast: %w", err)
		}
		rep.OrgID, rep.Status = b.OrgID, b.Status
		if b.Status != BroadcastScheduled || b.SendAt.After(time.Now()) {
			return nil
		}
		loc := new(Location)
		if err := tx.NewSelect().Model(loc).Where("id = ?", b.LocationID).Scan(ctx); err != nil {
			return fmt.Errorf("broadcast location: %w", err)
		}
		fail := func(reason string) error {
			rep.Status = BroadcastFailed
			_, err := tx.NewUpdate().Model(b).Set("status = ?, status_reason = ?, finished_at = now(), updated_at = now()",
				BroadcastFailed, reason).WherePK().Exec(ctx)
			return err
		}
		if !loc.ChatEnabled() {
			return fail(ReasonPlanInactive)
		}
		members, err := audienceMembers(ctx, tx, b.OrgID, b.Audience)
		if err != nil {
			return err
		}
		card, err := loadRateCard(ctx, tx, b.OrgID)
		if err != nil {
			return err
		}
		plan := &broadcastPlan{in: BroadcastInput{Channels: b.Channels, Body: b.Body}, location: loc, inbox: &Inbox{ID: b.InboxID}}
		e := estimate(plan, card, members)
		avail, err := locationAvailable(ctx, tx, loc.ID)
		if err != nil {
			return err
		}
		if e.Credits > avail {
			return fail(fmt.Sprintf("Insufficient credits: the broadcast needs %d, the balance is %d (%d short)", e.Credits, avail, e.Credits-avail))
		}
		if rep.Skipped, err = insertBroadcastRows(ctx, tx, b, loc, members, time.Now()); err != nil {
			return err
		}
		rep.Status = BroadcastSending
		_, err = tx.NewUpdate().Model(b).Set("status = ?, started_at = now(), updated_at = now()", BroadcastSending).WherePK().Exec(ctx)
		return err
	})
	if err != nil {
		return rep, fmt.Errorf("store: start broadcast %d: %w", id, err)
	}
	return rep, nil
}

// insertBroadcastRows writes one row per member and channel: skipped
// (opted out, no address: it returns how many) or pending, an SMS row due when the member's
// quiet hours end if the broadcast keeps them.
func insertBroadcastRows(ctx context.Context, tx bun.Tx, b *Broadcast, loc *Location, members []audienceMember, now time.Time) (skipped int, err error) {
	quiet := newQuietHours(loc, b.RespectQuietHours && !b.Emergency)
	var rids []int64
	var chans, statuses, reasons, zones []string
	var dues []time.Time
	for i := range members {
		m := &members[i]
		for _, ch := range b.Channels {
			fate := rowFate(m, ch)
			status, due, zone := BRPending, now, ""
			if fate != "" {
				status = BRSkipped
				skipped++
			} else if ch == ChannelSMS {
				due, zone = quiet.due(now, m.Timezone, m.Phone)
			}
			rids, chans, statuses, reasons, zones, dues = append(rids, m.ID), append(chans, ch), append(statuses, status),
				append(reasons, fate), append(zones, zone), append(dues, due)
		}
	}
	for lo := 0; lo < len(rids); lo += 5000 {
		hi := min(lo+5000, len(rids))
		if _, err := tx.NewRaw(`INSERT INTO broadcast_recipients (org_id, broadcast_id, recipient_id, channel, status, skip_reason, timezone, due_at)
			SELECT ?, ?, r, c, s, k, z, d FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[]) AS x(r, c, s, k, z, d)
			ON CONFLICT DO NOTHING`, b.OrgID, b.ID, pgdialect.Array(rids[lo:hi]), pgdialect.Array(chans[lo:hi]),
			pgdialect.Array(statuses[lo:hi]), pgdialect.Array(reasons[lo:hi]), pgdialect.Array(zones[lo:hi]),
			pgdialect.Array(dues[lo:hi])).Exec(ctx); err != nil {
			return 0, fmt.Errorf("broadcast rows: %w", err)
		}
	}
	return skipped, nil
}

// dueRow is one row a batch messages, with its recipient as it is now.
type dueRow struct {
	RecipientID int64   `bun:"recipient_id"`
	Channel     string  `bun:"channel"`
	Name        string  `bun:"name"`
	Phone       *string `bun:"phone"`
	Email       *string `bun:"email"`
	SMSOptedOut bool    `bun:"sms_opted_out"`
	EmailOut    bool    `bun:"email_opted_out"`
}

// fanoutOnce messages one batch of due rows. It returns how many it
// messaged and skipped, and the broadcast's status (a cancelled one
// messages nothing more).
func (s *Store) fanoutOnce(ctx context.Context, id int64) (n, skipped int, status string, err error) {
	err = s.inTx(ctx, func(tx bun.Tx) error {
		n, skipped = 0, 0
		// FOR SHARE: a cancel (FOR UPDATE) waits for this batch to commit,
		// then fails what the batch queued.
		b := new(Broadcast)
		if err := tx.NewSelect().Model(b).Where("b.id = ?", id).For("SHARE").Scan(ctx); err != nil {
			return fmt.Errorf("broadcast: %w", err)
		}
		status = b.Status
		if b.Status != BroadcastSending {
			return nil
		}
		var rows []dueRow
		if err := tx.NewRaw(`SELECT br.recipient_id, br.channel, r.name, r.phone, r.email,
				r.sms_opted_out_at IS NOT NULL AS sms_opted_out, r.email_opted_out_at IS NOT NULL AS email_opted_out
			FROM broadcast_recipients AS br JOIN recipients AS r ON r.id = br.recipient_id
			WHERE br.broadcast_id = ? AND br.status = ? AND br.due_at <= now()
			ORDER BY br.recipient_id, br.channel LIMIT ? FOR UPDATE OF br SKIP LOCKED`,
			id, BRPending, fanoutBatch).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("due rows: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		var send []dueRow
		var skipIDs []int64
		var skipChans, skipWhy []string
		for _, r := range rows {
			m := audienceMember{Phone: r.Phone, Email: r.Email, SMSOptedOut: r.SMSOptedOut, EmailOut: r.EmailOut}
			if fate := rowFate(&m, r.Channel); fate != "" {
				skipIDs, skipChans, skipWhy = append(skipIDs, r.RecipientID), append(skipChans, r.Channel), append(skipWhy, fate)
				continue
			}
			send = append(send, r)
		}
		if len(skipIDs) > 0 {
			if _, err := tx.NewRaw(`UPDATE broadcast_recipients AS br SET status = ?, skip_reason = x.k
				FROM unnest(?::bigint[], ?::text[], ?::text[]) AS x(r, c, k)
				WHERE br.broadcast_id = ? AND br.recipient_id = x.r AND br.channel = x.c`,
				BRSkipped, pgdialect.Array(skipIDs), pgdialect.Array(skipChans), pgdialect.Array(skipWhy), id).Exec(ctx); err != nil {
				return fmt.Errorf("skip rows: %w", err)
			}
		}
		skipped = len(skipIDs)
		if len(send) == 0 {
			return nil
		}
		if err := s.messageRows(ctx, tx, b, send); err != nil {
			return err
		}
		n = len(send)
		return nil
	})
	return n, skipped, status, err
}

// finishIfDone marks a sending broadcast sent once no row is pending, and
// reports the rows still held for quiet hours.
func (s *Store) finishIfDone(ctx context.Context, id int64, rep *FanoutReport) error {
	var held struct {
		N    int        `bun:"n"`
		Next *time.Time `bun:"next"`
	}
	if err := s.db.NewRaw(`SELECT count(*) AS n, min(due_at) AS next FROM broadcast_recipients
		WHERE broadcast_id = ? AND status = ?`, id, BRPending).Scan(ctx, &held); err != nil {
		return fmt.Errorf("store: broadcast %d pending rows: %w", id, err)
	}
	rep.Held = held.N
	if held.Next != nil {
		rep.NextDue = *held.Next
	}
	if held.N > 0 {
		return nil
	}
	res, err := s.db.NewRaw(`UPDATE broadcasts SET status = ?, finished_at = now(), updated_at = now()
		WHERE id = ? AND status = ? AND NOT EXISTS (SELECT 1 FROM broadcast_recipients WHERE broadcast_id = ? AND status = ?)`,
		BroadcastSent, id, BroadcastSending, id, BRPending).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: finish broadcast %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		rep.Status = BroadcastSent
	}
	return nil
}

// DueBroadcasts lists broadcasts with work to do now: scheduled ones whose
// time came, and sending ones with a pending row now due (held for quiet
// hours, or left by a fan-out that stopped).
func (s *Store) DueBroadcasts(ctx context.Context, limit int) ([]int64, error) {
	var ids []int64
	if err := s.db.NewRaw(`SELECT b.id FROM broadcasts AS b
		WHERE (b.status = ? AND b.send_at <= now())
		   OR (b.status = ? AND EXISTS (SELECT 1 FROM broadcast_recipients AS br
				WHERE br.broadcast_id = b.id AND br.status = ? AND br.due_at <= now()))
		ORDER BY b.send_at LIMIT ?`, BroadcastScheduled, BroadcastSending, BRPending, limit).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("store: due broadcasts: %w", err)
	}
	return ids, nil
}

// QueueDueBroadcasts writes a fan-out task for every due broadcast (the
// broadcast:tick task): the relay hands them to the queue, and entries
// for one broadcast coalesce. It returns how many it queued.
func (s *Store) QueueDueBroadcasts(ctx context.Context) (int, error) {
	ids, err := s.DueBroadcasts(ctx, 100)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	err = s.inTx(ctx, func(tx bun.Tx) error {
		var due []struct {
			ID    int64 `bun:"id"`
			OrgID int64 `bun:"org_id"`
		}
		if err := tx.NewRaw(`SELECT id, org_id FROM broadcasts WHERE id = ANY(?) ORDER BY id`, pgdialect.Array(ids)).Scan(ctx, &due); err != nil {
			return err
		}
		orgs, specs := make([]int64, len(due)), make([]task.Spec, len(due))
		for i, b := range due {
			orgs[i], specs[i] = b.OrgID, task.NewBroadcastFanout(b.ID)
		}
		return insertOutboxRows(ctx, tx.Tx, orgs, specs)
	})
	if err != nil {
		return 0, fmt.Errorf("store: queue due broadcasts: %w", err)
	}
	return len(ids), nil
}
