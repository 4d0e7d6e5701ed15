package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Consent provenance. Every opt-out records who holds it in the channel's
// *_opt_out_source column; every opt-in clears it. The holder decides who
// may undo it:
//
//   - the recipient's own opt-outs (a STOP-family keyword, a carrier's
//     opt-out receipt, an email's unsubscribe link) are undone only by
//     the recipient: START for SMS. Staff trying get a FieldError saying
//     so. An opt-out whose source is unknown (made before sources were
//     kept, with no history) counts as the recipient's: the safe reading.
//   - staff's opt-outs (by hand, or by an import) are undone only by
//     staff. A START from the recipient then is kept in the consent
//     history (action opt_in_refused, source keyword) and answered with
//     startRefusedReply (carriers expect every keyword answered, and the
//     recipient learns why texts do not resume), but does not opt in.
//
// A recipient's own opt-out arriving while staff hold one takes it over
// (the recipient then holds it), so a later opt-in by staff cannot undo
// what the recipient asked for.

// More places a consent change comes from (recipient_consent_events.source).
const (
	ConsentByReceipt = "receipt" // a carrier's delivery receipt said the number opted out
	ConsentByImport  = "import"  // a CSV import marked the recipient opted out
)

// ConsentOptInRefused is the history's action for a START that did not
// lift an opt-out held by staff.
const ConsentOptInRefused = "opt_in_refused"

// startRefusedReply answers a START that staff's opt-out outranks.
const startRefusedReply = "%s has stopped texts to this number, so START cannot resume them. Please contact them to opt back in."

// RecipientHoldsOptOut reports whether an opt-out with this source was the
// recipient's own act (keyword, receipt, unsubscribe, or unknown), which
// only the recipient may undo.
func RecipientHoldsOptOut(source *string) bool {
	return source == nil || (*source != ConsentByAgent && *source != ConsentByImport)
}

// consentColumns names a channel's opt-out timestamp and source columns.
func consentColumns(channel string) (at, source string) {
	if channel == ChannelEmail {
		return "email_opted_out_at", "email_opt_out_source"
	}
	return "sms_opted_out_at", "sms_opt_out_source"
}

// optOutState is a recipient's opt-out on a channel: when (nil while
// opted in) and who holds it.
func optOutState(r *Recipient, channel string) (*time.Time, *string) {
	if channel == ChannelEmail {
		return r.EmailOptedOutAt, r.EmailOptOutSource
	}
	return r.SMSOptedOutAt, r.SMSOptOutSource
}

// setOptOut marks a locked recipient opted out of channel, held by source
// (a later opt-out by its own hand moves the hold; the time stays the
// first opt-out's).
func setOptOut(ctx context.Context, tx bun.Tx, rcptID int64, channel, source string) error {
	at, src := consentColumns(channel)
	if _, err := tx.NewRaw("UPDATE recipients SET ? = coalesce(?, now()), ? = ?, updated_at = now() WHERE id = ?",
		bun.Ident(at), bun.Ident(at), bun.Ident(src), source, rcptID).Exec(ctx); err != nil {
		return fmt.Errorf("opt out: %w", err)
	}
	return nil
}

// clearOptOut opts a locked recipient back in to channel.
func clearOptOut(ctx context.Context, tx bun.Tx, rcptID int64, channel string) error {
	at, src := consentColumns(channel)
	if _, err := tx.NewRaw("UPDATE recipients SET ? = NULL, ? = NULL, updated_at = now() WHERE id = ?",
		bun.Ident(at), bun.Ident(src), rcptID).Exec(ctx); err != nil {
		return fmt.Errorf("opt in: %w", err)
	}
	return nil
}

// staffOptInRefusal is the FieldError a staff opt-in of an opt-out the
// recipient holds gets: who opted out, how, when, and the way back.
func staffOptInRefusal(ctx context.Context, tx bun.Tx, r *Recipient, channel string) error {
	at, src := optOutState(r, channel)
	var last ConsentEvent
	err := tx.NewSelect().Model(&last).Where("recipient_id = ? AND channel = ? AND action = ?", r.ID, channel, ConsentOptOut).
		OrderExpr("id DESC").Limit(1).Scan(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("last opt-out: %w", err)
	}
	who, when := recipientLabel(r), ""
	if who == "" {
		who = "The recipient"
	}
	if at != nil {
		when = " on " + at.UTC().Format("2 Jan 2006")
	}
	source := ""
	if src != nil {
		source = *src
	}
	switch {
	case source == ConsentByKeyword:
		kw := "STOP"
		if last.Source == ConsentByKeyword && last.Detail != "" {
			kw = last.Detail
		}
		return fieldErr("opted_out", "%s opted out by texting %s%s; only they can opt back in, by texting START.", who, kw, when)
	case source == ConsentByReceipt:
		return fieldErr("opted_out", "%s's carrier reported%s that they opted out of texts; only they can opt back in, by texting START.", who, when)
	case source == ConsentByUnsubscribe:
		return fieldErr("opted_out", "%s unsubscribed with the link in an email%s; only they can opt back in.", who, when)
	case channel == ChannelSMS:
		return fieldErr("opted_out", "%s opted out of texts%s; only they can opt back in, by texting START.", who, when)
	}
	return fieldErr("opted_out", "%s opted out of email%s; only they can opt back in.", who, when)
}

// optOutByImport opts the organization's recipients rcptIDs out of channel
// because an import says so (source "import", detail e.g. the file's
// name), in the caller's transaction. It never opts anyone in: a
// recipient already opted out keeps their opt-out and its source (so
// re-importing someone who texted STOP changes nothing). Rows are locked
// in id order, the order every consent change takes, so it cannot
// deadlock with a STOP or a merge. Queued texts to them are not failed
// here: the send gate refuses them when they are claimed. It returns how
// many recipients it opted out.
func optOutByImport(ctx context.Context, tx bun.Tx, orgID int64, rcptIDs []int64, channel, detail string) (int, error) {
	if channel != ChannelSMS && channel != ChannelEmail {
		return 0, fmt.Errorf("opt out by import: channel %q", channel)
	}
	if len(rcptIDs) == 0 {
		return 0, nil
	}
	at, src := consentColumns(channel)
	var n int
	err := tx.NewRaw(`WITH locked AS (
			SELECT id FROM recipients WHERE org_id = ?0 AND id = ANY(?1) ORDER BY id FOR NO KEY UPDATE),
		upd AS (
			UPDATE recipients AS r SET ?2 = now(), ?3 = ?4, updated_at = now()
			FROM locked WHERE r.id = locked.id AND r.?2 IS NULL RETURNING r.id),
		ins AS (
			INSERT INTO recipient_consent_events (org_id, recipient_id, channel, action, source, detail)
			SELECT ?0, id, ?5, ?6, ?4, ?7 FROM upd RETURNING 1)
		SELECT count(*) FROM ins`,
		orgID, pgdialect.Array(rcptIDs), bun.Ident(at), bun.Ident(src), ConsentByImport, channel, ConsentOptOut, detail).
		Scan(ctx, &n)
	if err != nil {
		return 0, fmt.Errorf("opt out by import: %w", err)
	}
	return n, nil
}

// stricterOptOut is the opt-out of two on one channel that is harder to
// undo: any over none, the recipient's own over staff's, else the first.
func stricterOptOut(atA *time.Time, srcA *string, atB *time.Time, srcB *string) (*time.Time, *string) {
	switch {
	case atA == nil:
		return atB, srcB
	case atB == nil:
		return atA, srcA
	case !RecipientHoldsOptOut(srcA) && RecipientHoldsOptOut(srcB):
		return atB, srcB
	}
	return atA, srcA
}
