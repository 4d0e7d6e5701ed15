package models

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/uptrace/bun"
)

// The send gate and the delivery-status order are each defined once, here,
// and reach SQL as expressions built from these definitions: the worker's
// one-statement claim, its step-by-step fallback, composing a message and
// STOP's cancelling of queued sends all use them.

// Reasons a message may not go out, as recorded on it and shown to agents.
const (
	ReasonOptedOut     = "Recipient opted out"
	ReasonPlanInactive = "Chat plan not active"
	ReasonNoAddress    = "No address for this channel on the recipient or inbox"
)

// sendGateSQL is the reason a message may not go out, or empty when it may,
// over m (the message: channel, compliance), r (its recipient), i (its
// inbox) and l (the inbox's location). Compliance messages (STOP and
// START confirmations, HELP) reach opted-out recipients; nothing else does.
var sendGateSQL = `(CASE
	WHEN NOT m.compliance AND (CASE WHEN m.channel = '` + ChannelSMS + `' THEN r.sms_opted_out_at ELSE r.email_opted_out_at END) IS NOT NULL
		THEN '` + ReasonOptedOut + `'
	WHEN l.plan_status <> '` + PlanActive + `' THEN '` + ReasonPlanInactive + `'
	WHEN (CASE WHEN m.channel = '` + ChannelSMS + `' THEN r.phone IS NULL OR i.sms_number IS NULL
		ELSE r.email IS NULL OR i.email_address IS NULL END) THEN '` + ReasonNoAddress + `'
	ELSE '' END)`

// gateError turns a gate reason into the error composing returns.
func gateError(reason string) error {
	switch reason {
	case "":
		return nil
	case ReasonOptedOut:
		return ErrOptedOut
	case ReasonPlanInactive:
		return ErrPlanInactive
	}
	return fieldErr("to", "%s.", reason)
}

// statusRank orders delivery states; a status only ever moves forward
// (a late "buffered" receipt never overwrites "delivered"). Delivered and
// failed are both final.
var statusRank = map[string]int{MsgQueued: 0, MsgSending: 1, MsgSent: 2, MsgDelivered: 3, MsgFailed: 3}

// pending reports whether an outbound status is before sent: the message
// may still be claimed, and a STOP cancels it.
func pending(status string) bool {
	r, ok := statusRank[status]
	return ok && r < statusRank[MsgSent]
}

// statusesSQL lists, as an SQL list of literals, the outbound statuses
// keep selects, in rank order.
func statusesSQL(keep func(rank int) bool) string {
	var names []string
	for s, r := range statusRank {
		if keep(r) {
			names = append(names, s)
		}
	}
	sort.Slice(names, func(a, b int) bool {
		if statusRank[names[a]] != statusRank[names[b]] {
			return statusRank[names[a]] < statusRank[names[b]]
		}
		return names[a] < names[b]
	})
	return "('" + strings.Join(names, "', '") + "')"
}

var (
	// pendingStatusesSQL: queued, sending.
	pendingStatusesSQL = statusesSQL(func(r int) bool { return r < statusRank[MsgSent] })
	// pastSentStatusesSQL: sent, delivered, failed.
	pastSentStatusesSQL = statusesSQL(func(r int) bool { return r >= statusRank[MsgSent] })
)

// composeInfo is what composing a message learns with the gate: the
// location it charges, the credits it has available (the balance less
// outbound charges still pending) and the organization's outbound rates.
type composeInfo struct {
	LocationID int64
	Available  int64
	Card       RateCard
}

// price is what an outbound message of channel with segments costs.
func (ci composeInfo) price(channel string, segments int) int {
	return ci.Card.Price(channel, ChargeOutbound, segments, false)
}

// composeGate checks the send gate for a new message on a conversation,
// with the same expression the worker checks again at send time, and
// reads what pricing it needs. Every agent reply runs it, so it is a
// cached prepared statement: planning its join cost more than running it
// (B3, live burst).
func composeGate(ctx context.Context, tx bun.Tx, convID int64, channel string, compliance bool) (composeInfo, error) {
	var ci composeInfo
	rows, err := queryCached(ctx, tx.Tx, composeGateQuery, convID, channel, compliance)
	if err != nil {
		return ci, fmt.Errorf("send gate: %w", err)
	}
	reason, found := "", false
	err = scanAll(rows, func() error {
		found = true
		return rows.Scan(&reason, &ci.LocationID, &ci.Available, &ci.Card.SMS.Outbound, &ci.Card.MMS.Outbound, &ci.Card.Email.Outbound)
	})
	if err != nil {
		return ci, fmt.Errorf("send gate: %w", err)
	}
	if !found {
		return ci, fmt.Errorf("send gate: conversation %d: %w", convID, ErrNotFound)
	}
	return ci, gateError(reason)
}

// composeGateQuery is sendGateSQL for a message about to be composed: $1
// the conversation, $2 the channel, $3 whether it is a compliance
// message; then the location, its available credits and the outbound
// rates.
var composeGateQuery = `SELECT ` + sendGateSQL + `, l.id, ` + availableSQL + `, ` + outboundRatesSQL + `
	FROM (SELECT $2::text AS channel, $3::boolean AS compliance) AS m, conversations AS c
	JOIN recipients AS r ON r.id = c.recipient_id JOIN inboxes AS i ON i.id = c.inbox_id JOIN locations AS l ON l.id = i.location_id
	JOIN credit_accounts AS a ON a.location_id = l.id LEFT JOIN rate_cards AS rc ON rc.org_id = c.org_id
	WHERE c.id = $1`
