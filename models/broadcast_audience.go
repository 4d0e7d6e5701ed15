package models

import (
	"context"
	"fmt"

	"github.com/parley-chat/parley/channels/sms"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// A broadcast's audience as recipients, and what sending to them costs.

// audienceQuery selects the ids of the organization's recipients in a
// (as "id"), with its parameters, for use as a subquery.
func audienceQuery(orgID int64, a Audience) (string, []any) {
	switch {
	case len(a.GroupIDs) > 0:
		return groupMembersSQL, []any{orgID, pgdialect.Array(a.GroupIDs)}
	case a.LocationID != 0:
		return `SELECT r.id FROM recipients AS r WHERE r.org_id = ? AND (r.location_id = ? OR EXISTS (
				SELECT 1 FROM conversations AS c JOIN inboxes AS i ON i.id = c.inbox_id
				WHERE c.recipient_id = r.id AND i.location_id = ?))`,
			[]any{orgID, a.LocationID, a.LocationID}
	}
	return `SELECT r.id FROM recipients AS r WHERE r.org_id = ? AND ` + recipientSearchOn("r") + ` LIKE lower(?)`,
		[]any{orgID, parseSearch(a.Query).likePattern()}
}

// audienceMember is what pricing and fan-out need of one recipient.
type audienceMember struct {
	ID          int64   `bun:"id"`
	Name        string  `bun:"name"`
	Phone       *string `bun:"phone"`
	Email       *string `bun:"email"`
	SMSOptedOut bool    `bun:"sms_opted_out"`
	EmailOut    bool    `bun:"email_opted_out"`
	Timezone    string  `bun:"timezone"`
}

// audienceMembers reads the recipients of an audience.
func audienceMembers(ctx context.Context, db bun.IDB, orgID int64, a Audience) ([]audienceMember, error) {
	sub, args := audienceQuery(orgID, a)
	var ms []audienceMember
	if err := db.NewRaw(`SELECT r.id, r.name, r.phone, r.email, r.sms_opted_out_at IS NOT NULL AS sms_opted_out,
			r.email_opted_out_at IS NOT NULL AS email_opted_out, r.timezone
		FROM recipients AS r WHERE r.id IN (`+sub+`) ORDER BY r.id`, args...).Scan(ctx, &ms); err != nil {
		return nil, fmt.Errorf("audience: %w", err)
	}
	return ms, nil
}

// rowFate is what happens to one recipient on one channel.
func rowFate(m *audienceMember, channel string) string {
	addr, out := m.Phone, m.SMSOptedOut
	if channel == ChannelEmail {
		addr, out = m.Email, m.EmailOut
	}
	switch {
	case addr == nil:
		return SkipNoAddress
	case out:
		return SkipOptedOut
	}
	return ""
}

// smsShaper counts a broadcast text's segments per recipient, once per
// distinct filled-in text.
type smsShaper struct {
	body  string
	fill  bool
	cache map[string]sms.Segments
}

func newSMSShaper(body string) *smsShaper {
	return &smsShaper{body: body, fill: hasPlaceholders(body), cache: map[string]sms.Segments{}}
}

// shape returns the text name gets and how it goes over the air.
func (s *smsShaper) shape(name string) (string, sms.Segments) {
	text := s.body
	if s.fill {
		text = fillPlaceholders(s.body, name)
		// A long name can push a text that fits past the SMS limit: such a
		// recipient gets the fallbacks instead, which fit (they are
		// shorter than the placeholders the template was checked with).
		if sms.Validate(text) != nil {
			text = fillPlaceholders(s.body, "")
		}
	}
	seg, ok := s.cache[text]
	if !ok {
		seg = sms.Count(text)
		if len(s.cache) < 10000 {
			s.cache[text] = seg
		}
	}
	return text, seg
}

// estimate prices members for plan's broadcast.
func estimate(p *broadcastPlan, card RateCard, members []audienceMember) *BroadcastEstimate {
	e := &BroadcastEstimate{LocationID: p.location.ID, InboxID: p.inbox.ID, Recipients: len(members), Encoding: string(sms.GSM7)}
	shaper := newSMSShaper(p.in.Body)
	for i := range members {
		m := &members[i]
		reached := false
		for _, ch := range p.in.Channels {
			switch rowFate(m, ch) {
			case SkipNoAddress:
				e.SkippedNoAddress++
				continue
			case SkipOptedOut:
				e.SkippedOptedOut++
				continue
			}
			reached = true
			if ch == ChannelEmail {
				e.Email++
				e.Credits += int64(card.Price(ChannelEmail, ChargeOutbound, 0, false))
				continue
			}
			e.SMS++
			_, seg := shaper.shape(m.Name)
			e.Segments += seg.Segments
			e.SegmentsEach = max(e.SegmentsEach, seg.Segments)
			if seg.Encoding != sms.GSM7 {
				e.Encoding = string(seg.Encoding)
			}
			e.Credits += int64(card.Price(ChannelSMS, ChargeOutbound, seg.Segments, false))
		}
		if reached {
			e.Reached++
		}
	}
	return e
}

// locationAvailable is a location's balance less the outbound charges
// already waiting, as composing sees it.
func locationAvailable(ctx context.Context, db bun.IDB, locationID int64) (int64, error) {
	var n int64
	if err := db.NewRaw(`SELECT `+availableSQL+` FROM credit_accounts AS a WHERE a.location_id = ?`, locationID).Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("available credits: %w", err)
	}
	return n, nil
}

// EstimateBroadcast is in broadcast_api.go's contract.
func (s *Store) estimateBroadcast(ctx context.Context, db bun.IDB, sc Scope, in BroadcastInput, draft bool) (*broadcastPlan, *BroadcastEstimate, error) {
	p, err := checkBroadcast(ctx, db, sc, in, draft)
	if err != nil {
		return nil, nil, err
	}
	members, err := audienceMembers(ctx, db, sc.OrgID, p.in.Audience)
	if err != nil {
		return nil, nil, err
	}
	card, err := loadRateCard(ctx, db, sc.OrgID)
	if err != nil {
		return nil, nil, err
	}
	e := estimate(p, card, members)
	if e.Available, err = locationAvailable(ctx, db, p.location.ID); err != nil {
		return nil, nil, err
	}
	e.Shortfall = max(0, e.Credits-e.Available)
	return p, e, nil
}
