package models

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// The inbound core finds or creates each message's sender.

// senderOf is the sender of a live message.
func (b *inboundBatch) senderOf(i int) rcptKey {
	return rcptKey{b.inbox[i].OrgID, b.ins[i].Channel, b.ins[i].From}
}

// Recipients are found by phone for SMS and by email address for email:
// one statement per channel present, each inserting the new senders and
// reading the others. A new email sender is named after the display name
// of its mail ($3); a text has none, so the SMS statement takes no names.
var (
	findOrCreateRecipientsQuery = map[string]string{
		ChannelSMS: findOrCreateRecipientsSQL("phone", false), ChannelEmail: findOrCreateRecipientsSQL("email", true),
	}
	findRecipientsQuery = map[string]string{
		ChannelSMS: findRecipientsSQL("phone"), ChannelEmail: findRecipientsSQL("email"),
	}
)

func findOrCreateRecipientsSQL(col string, named bool) string {
	k, name, value := `unnest($1::bigint[], $2::text[]) AS k (org_id, addr)`, ``, ``
	if named {
		k, name, value = `unnest($1::bigint[], $2::text[], $3::text[]) AS k (org_id, addr, name)`, `, name`, `, k.name`
	}
	return `WITH k AS (SELECT * FROM ` + k + `),
		ins AS (INSERT INTO recipients (org_id, ` + col + name + `) SELECT k.org_id, k.addr` + value + ` FROM k
			ON CONFLICT (org_id, ` + col + `) WHERE ` + col + ` IS NOT NULL DO NOTHING
			RETURNING ` + senderColumns + `)
		SELECT * FROM ins
		UNION ALL
		SELECT ` + senderColumns + ` FROM recipients JOIN k ON recipients.org_id = k.org_id AND recipients.` + col + ` = k.addr`
}

func findRecipientsSQL(col string) string {
	return `SELECT ` + senderColumns + ` FROM recipients
		JOIN unnest($1::bigint[], $2::text[]) AS k (org_id, addr) ON recipients.org_id = k.org_id AND recipients.` + col + ` = k.addr`
}

// recipients finds or creates each sender.
func (b *inboundBatch) recipients(ctx context.Context) error {
	byChannel := map[string][]rcptKey{}
	seen := map[rcptKey]bool{}
	for _, i := range b.live {
		k := b.senderOf(i)
		if !seen[k] {
			seen[k] = true
			byChannel[k.channel] = append(byChannel[k.channel], k)
		}
	}
	b.rcpt = make(map[rcptKey]int64, len(seen))
	b.senders = make(map[int64]*sender, len(seen))
	for _, channel := range []string{ChannelSMS, ChannelEmail} {
		keys := byChannel[channel]
		if len(keys) == 0 {
			continue
		}
		// A fixed order, so two batches creating the same senders wait for
		// each other instead of deadlocking.
		sort.Slice(keys, func(x, y int) bool {
			if keys[x].org != keys[y].org {
				return keys[x].org < keys[y].org
			}
			return keys[x].addr < keys[y].addr
		})
		if err := b.readRecipients(ctx, findOrCreateRecipientsQuery[channel], channel, keys, b.senderNames(channel, keys)...); err != nil {
			return fmt.Errorf("find or create recipients: %w", err)
		}
		// A sender another transaction created after this statement began
		// (its insert waited for that one and did nothing) is visible to
		// the next statement.
		var missing []rcptKey
		for _, k := range keys {
			if _, ok := b.rcpt[k]; !ok {
				missing = append(missing, k)
			}
		}
		if len(missing) == 0 {
			continue
		}
		if err := b.readRecipients(ctx, findRecipientsQuery[channel], channel, missing); err != nil {
			return fmt.Errorf("find recipients: %w", err)
		}
		for _, k := range missing {
			if _, ok := b.rcpt[k]; !ok {
				return fmt.Errorf("recipient %s of organization %d not found after insert: %w", k.addr, k.org, ErrConflict)
			}
		}
	}
	return nil
}

// senderColumns are what the batch keeps of a sender: the columns a
// conversation row shows of its recipient.
const senderColumns = `recipients.id, recipients.org_id, recipients.name, recipients.phone, recipients.email,
	recipients.sms_opted_out_at IS NOT NULL, recipients.email_opted_out_at IS NOT NULL`

// sender is a recipient as the batch holds it.
type sender struct {
	id                         int64
	name                       string
	phone, email               *string
	smsOptedOut, emailOptedOut bool
}

// senderNames is the names argument of the email statement that creates
// senders: for each key, the display name on its first message that has
// one. None for SMS.
func (b *inboundBatch) senderNames(channel string, keys []rcptKey) []any {
	if channel != ChannelEmail {
		return nil
	}
	byKey := make(map[rcptKey]string, len(keys))
	for _, i := range b.live {
		if k := b.senderOf(i); k.channel == channel && byKey[k] == "" {
			byKey[k] = recipientName(b.ins[i].FromName)
		}
	}
	names := make([]string, len(keys))
	for n, k := range keys {
		names[n] = byKey[k]
	}
	return []any{names}
}

// recipientName is a sender's display name as a recipient's name can hold
// it: valid text, one line, at most maxRecipientName characters.
func recipientName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > maxRecipientName {
		s = strings.TrimSpace(string(r[:maxRecipientName]))
	}
	return s
}

// readRecipients runs one recipients statement over keys (with more
// arguments after the keys', if the statement takes them) and records the
// senders.
func (b *inboundBatch) readRecipients(ctx context.Context, q, channel string, keys []rcptKey, more ...any) error {
	orgs := make([]int64, len(keys))
	addrs := make([]string, len(keys))
	for n, k := range keys {
		orgs[n], addrs[n] = k.org, k.addr
	}
	rows, err := b.query(ctx, q, append([]any{orgs, addrs}, more...)...)
	if err != nil {
		return err
	}
	return scanAll(rows, func() error {
		r := new(sender)
		var org int64
		if err := rows.Scan(&r.id, &org, &r.name, &r.phone, &r.email, &r.smsOptedOut, &r.emailOptedOut); err != nil {
			return err
		}
		addr := r.phone
		if channel == ChannelEmail {
			addr = r.email
		}
		if addr != nil {
			b.rcpt[rcptKey{org, channel, *addr}] = r.id
			b.senders[r.id] = r
		}
		return nil
	})
}
