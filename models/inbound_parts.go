package models

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// collectParts stores one part of a concatenated message; once every part
// is in, it returns the whole text. Parts of one message are serialized by
// an advisory lock so the last two arriving together cannot both miss.
func collectParts(ctx context.Context, tx bun.Tx, in InboundSMS) (string, bool, error) {
	if in.Part < 1 || in.Part > in.Total {
		return "", false, fmt.Errorf("part %d of %d: %w", in.Part, in.Total, ErrConflict)
	}
	key := in.Provider + "|" + in.From + "|" + in.To + "|" + in.ConcatRef
	if _, err := tx.NewRaw("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", key).Exec(ctx); err != nil {
		return "", false, fmt.Errorf("lock parts: %w", err)
	}
	r, err := tx.NewRaw(`INSERT INTO inbound_parts (provider, provider_message_id, msisdn, to_number, concat_ref, part, total, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (provider, provider_message_id) DO NOTHING`,
		in.Provider, in.ProviderMessageID, in.From, in.To, in.ConcatRef, in.Part, in.Total, in.Body).Exec(ctx)
	if err != nil {
		return "", false, fmt.Errorf("store part: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return "", false, errDuplicate // a retried part
	}
	var parts []struct {
		Part int    `bun:"part"`
		Body string `bun:"body"`
	}
	if err := tx.NewRaw(`SELECT DISTINCT ON (part) part, body FROM inbound_parts
		WHERE provider = ? AND msisdn = ? AND to_number = ? AND concat_ref = ? AND consumed_at IS NULL
		ORDER BY part, id`, in.Provider, in.From, in.To, in.ConcatRef).Scan(ctx, &parts); err != nil {
		return "", false, fmt.Errorf("load parts: %w", err)
	}
	if len(parts) < in.Total {
		return "", false, nil
	}
	var b strings.Builder
	for _, p := range parts[:in.Total] {
		b.WriteString(p.Body)
	}
	// The parts are consumed: mark them, so a retry of any part finds its
	// own id and is a no-op, and a new message reusing the ref starts afresh.
	if _, err := tx.NewRaw(`UPDATE inbound_parts SET consumed_at = now() WHERE provider = ? AND msisdn = ? AND to_number = ? AND concat_ref = ? AND consumed_at IS NULL`,
		in.Provider, in.From, in.To, in.ConcatRef).Exec(ctx); err != nil {
		return "", false, fmt.Errorf("consume parts: %w", err)
	}
	return b.String(), true, nil
}
