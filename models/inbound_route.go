package models

import (
	"context"
	"fmt"
)

// The inbound core's first steps: route each message to its inbox, keep
// the unrouted, drop provider retries.

// route finds each message's inbox, by the one its channel chose
// (InboxID) or else by the address it was sent to, keeps the others as
// unrouted, and marks repeats within the batch duplicates.
func (b *inboundBatch) route(ctx context.Context) error {
	var numbers, emails []string
	var ids []int64
	for _, in := range b.ins {
		switch {
		case in.InboxID != 0:
			ids = append(ids, in.InboxID)
		case in.Channel == ChannelSMS:
			numbers = append(numbers, in.To)
		default:
			emails = append(emails, in.To)
		}
	}
	// Texts alone (the usual batch) take the plain index scan on sms_number.
	q, args := routeQuery, []any{numbers, emails, ids}
	if len(emails) == 0 && len(ids) == 0 {
		q, args = routeSMSQuery, []any{numbers}
	}
	rows, err := b.query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("route: %w", err)
	}
	byAddr := map[string]*Inbox{}
	b.inboxByID = make(map[int64]*Inbox, len(b.ins))
	err = scanAll(rows, func() error {
		in := new(Inbox)
		if err := rows.Scan(&in.ID, &in.OrgID, &in.LocationID, &in.Name, &in.SMSNumber, &in.EmailAddress); err != nil {
			return err
		}
		b.inboxByID[in.ID] = in
		if in.SMSNumber != nil {
			byAddr[ChannelSMS+":"+*in.SMSNumber] = in
		}
		if in.EmailAddress != nil {
			byAddr[ChannelEmail+":"+*in.EmailAddress] = in
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("route: %w", err)
	}
	b.inbox = make(map[int]*Inbox, len(b.ins))
	seenID := make(map[string]bool, len(b.ins))
	var unrouted []int
	for i, in := range b.ins {
		id := in.Provider + "\x00" + in.ProviderMessageID
		if seenID[id] {
			b.res[i].Duplicate = true
			continue
		}
		seenID[id] = true
		inbox := byAddr[in.Channel+":"+in.To]
		if in.InboxID != 0 {
			inbox = b.inboxByID[in.InboxID]
		}
		if inbox != nil {
			b.inbox[i] = inbox
			b.live = append(b.live, i)
			continue
		}
		b.res[i].Unrouted = true
		unrouted = append(unrouted, i)
	}
	return b.keepUnrouted(ctx, unrouted)
}

// keepUnrouted stores messages to addresses no inbox owns, once each.
func (b *inboundBatch) keepUnrouted(ctx context.Context, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	var provider, id, from, to, body []string
	for _, i := range idx {
		in := b.ins[i]
		provider, id, from, to, body = append(provider, in.Provider), append(id, in.ProviderMessageID),
			append(from, in.From), append(to, in.To), append(body, in.Body)
	}
	if _, err := execCached(ctx, b.tx.Tx, `INSERT INTO unrouted_messages (provider, provider_message_id, msisdn, to_number, body)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
		ON CONFLICT (provider, provider_message_id) DO NOTHING`,
		provider, id, from, to, body); err != nil {
		return fmt.Errorf("keep unrouted: %w", err)
	}
	return nil
}

// dropDuplicates takes out messages already stored: provider retries.
func (b *inboundBatch) dropDuplicates(ctx context.Context) error {
	if len(b.live) == 0 {
		return nil
	}
	providers := make([]string, len(b.live))
	ids := make([]string, len(b.live))
	for n, i := range b.live {
		providers[n], ids[n] = b.ins[i].Provider, b.ins[i].ProviderMessageID
	}
	rows, err := b.query(ctx, `SELECT m.provider, m.provider_message_id FROM messages AS m
		JOIN unnest($1::text[], $2::text[]) AS k (provider, id) ON m.provider = k.provider AND m.provider_message_id = k.id`,
		providers, ids)
	if err != nil {
		return fmt.Errorf("check duplicates: %w", err)
	}
	dup := map[string]bool{}
	err = scanAll(rows, func() error {
		var p, id string
		if err := rows.Scan(&p, &id); err != nil {
			return err
		}
		dup[p+"\x00"+id] = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("check duplicates: %w", err)
	}
	if len(dup) == 0 {
		return nil
	}
	live := b.live[:0]
	for _, i := range b.live {
		if dup[b.ins[i].Provider+"\x00"+b.ins[i].ProviderMessageID] {
			b.res[i].Duplicate = true
			continue
		}
		live = append(live, i)
	}
	b.live = live
	return nil
}

// routeQuery finds inboxes by SMS number ($1), email address ($2) or id
// ($3); routeSMSQuery by SMS number alone.
const (
	routeQuery = `SELECT id, org_id, location_id, name, sms_number, email_address FROM inboxes
		WHERE sms_number = ANY($1::text[]) OR email_address = ANY($2::text[]) OR id = ANY($3::bigint[])`
	routeSMSQuery = `SELECT id, org_id, location_id, name, sms_number, email_address FROM inboxes WHERE sms_number = ANY($1::text[])`
)
