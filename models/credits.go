package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// Chat credits (product.md, "Chat credits"): every outbound, inbound and
// forwarded message costs credits from its location's account, by the
// organization's rate card. The price is computed when the message is
// stored (and kept on it as credits_charged); a pending charge written in
// the same transaction is moved into the append-only ledger by the
// credits:charge task (credits_charge.go), idempotently.

// Charge kinds: what a message was charged as.
const (
	ChargeOutbound  = "outbound"
	ChargeInbound   = "inbound"
	ChargeForwarded = "forwarded"
)

// Ledger entry kinds besides the three charges.
const (
	LedgerRefund     = "refund"      // an outbound message that never went out
	LedgerPurchase   = "purchase"    // purchased credits (never expire)
	LedgerPeriod     = "period"      // a plan period's credits granted (unused ones expire)
	LedgerPlanChange = "plan_change" // the plan's credits changed within a period
)

// Default rate card (product.md, "Chat credits"; RedFlag's rates): SMS per
// segment, MMS and email per message, the same whichever way it goes.
const (
	CreditsPerSMSSegment = 2
	CreditsPerMMS        = 4
	CreditsPerEmail      = 1
)

// Rates is what one message costs by kind.
type Rates struct {
	Outbound  int `json:"outbound"`
	Inbound   int `json:"inbound"`
	Forwarded int `json:"forwarded"`
}

// Of returns the rate for a charge kind.
func (r Rates) Of(kind string) int {
	switch kind {
	case ChargeInbound:
		return r.Inbound
	case ChargeForwarded:
		return r.Forwarded
	}
	return r.Outbound
}

// RateCard is an organization's prices: SMS per segment, MMS and email per
// message.
type RateCard struct {
	SMS       Rates      `json:"sms"`
	MMS       Rates      `json:"mms"`
	Email     Rates      `json:"email"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// DefaultRateCard is the card of an organization that never changed it.
func DefaultRateCard() RateCard {
	return RateCard{
		SMS:   Rates{CreditsPerSMSSegment, CreditsPerSMSSegment, CreditsPerSMSSegment},
		MMS:   Rates{CreditsPerMMS, CreditsPerMMS, CreditsPerMMS},
		Email: Rates{CreditsPerEmail, CreditsPerEmail, CreditsPerEmail},
	}
}

// Price is what one message costs: channel and kind pick the rate, an SMS
// pays it per segment (at least one), an MMS (an SMS with media) and an
// email once.
func (rc RateCard) Price(channel, kind string, segments int, mms bool) int {
	switch {
	case channel == ChannelEmail:
		return rc.Email.Of(kind)
	case mms:
		return rc.MMS.Of(kind)
	}
	return rc.SMS.Of(kind) * max(segments, 1)
}

// rateCardRow is the rate_cards table.
type rateCardRow struct {
	bun.BaseModel `bun:"table:rate_cards"`

	OrgID          int64     `bun:"org_id,pk"`
	SMSOutbound    int       `bun:"sms_outbound"`
	SMSInbound     int       `bun:"sms_inbound"`
	SMSForwarded   int       `bun:"sms_forwarded"`
	MMSOutbound    int       `bun:"mms_outbound"`
	MMSInbound     int       `bun:"mms_inbound"`
	MMSForwarded   int       `bun:"mms_forwarded"`
	EmailOutbound  int       `bun:"email_outbound"`
	EmailInbound   int       `bun:"email_inbound"`
	EmailForwarded int       `bun:"email_forwarded"`
	UpdatedAt      time.Time `bun:"updated_at,nullzero,default:now()"`
}

func (r *rateCardRow) card() RateCard {
	at := r.UpdatedAt
	return RateCard{
		SMS:       Rates{r.SMSOutbound, r.SMSInbound, r.SMSForwarded},
		MMS:       Rates{r.MMSOutbound, r.MMSInbound, r.MMSForwarded},
		Email:     Rates{r.EmailOutbound, r.EmailInbound, r.EmailForwarded},
		UpdatedAt: &at,
	}
}

func rowOfCard(orgID int64, rc RateCard) *rateCardRow {
	return &rateCardRow{OrgID: orgID,
		SMSOutbound: rc.SMS.Outbound, SMSInbound: rc.SMS.Inbound, SMSForwarded: rc.SMS.Forwarded,
		MMSOutbound: rc.MMS.Outbound, MMSInbound: rc.MMS.Inbound, MMSForwarded: rc.MMS.Forwarded,
		EmailOutbound: rc.Email.Outbound, EmailInbound: rc.Email.Inbound, EmailForwarded: rc.Email.Forwarded}
}

// loadRateCard reads an organization's card (the defaults when it has
// none).
func loadRateCard(ctx context.Context, db bun.IDB, orgID int64) (RateCard, error) {
	row := new(rateCardRow)
	err := db.NewSelect().Model(row).Where("org_id = ?", orgID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultRateCard(), nil
	}
	if err != nil {
		return RateCard{}, fmt.Errorf("load rate card: %w", err)
	}
	return row.card(), nil
}

// inboundPriceSQL is, over v (channel, segments) and rc (the message's
// organization's rate_cards row, LEFT JOINed), the price of an inbound
// message: Price in SQL, for the inbound core's one-statement insert.
var inboundPriceSQL = `(CASE WHEN v.channel = '` + ChannelEmail + `' THEN coalesce(rc.email_inbound, ` + strconv.Itoa(CreditsPerEmail) + `)
	ELSE coalesce(rc.sms_inbound, ` + strconv.Itoa(CreditsPerSMSSegment) + `) * greatest(v.segments, 1) END)`

// availableSQL is, over a (a location's credit_accounts row), the credits
// an outbound message may still spend: the balance less the outbound
// charges already waiting (composing checks it; the send claims them).
const availableSQL = `(a.plan_balance + a.purchased_balance - coalesce((SELECT sum(p.credits) FROM credit_pending p
	WHERE p.location_id = a.location_id AND p.kind = '` + ChargeOutbound + `'), 0))`

// outboundRatesSQL is, over rc (the organization's rate_cards row, LEFT
// JOINed), the outbound rates of SMS, MMS and email, defaults filled in.
var outboundRatesSQL = `coalesce(rc.sms_outbound, ` + strconv.Itoa(CreditsPerSMSSegment) + `) AS sms,
	coalesce(rc.mms_outbound, ` + strconv.Itoa(CreditsPerMMS) + `) AS mms,
	coalesce(rc.email_outbound, ` + strconv.Itoa(CreditsPerEmail) + `) AS email`

// ErrInsufficientCredits: the location's balance does not cover an
// outbound message. The error is an *InsufficientCreditsError.
var ErrInsufficientCredits = errors.New("insufficient credits")

// InsufficientCreditsError says what was missing: the message's price and
// the credits available (the balance less sends already waiting).
type InsufficientCreditsError struct {
	Needed    int64
	Available int64
}

func (e *InsufficientCreditsError) Error() string {
	return fmt.Sprintf("insufficient credits: the message needs %d, the balance has %d", e.Needed, e.Available)
}

// Unwrap makes errors.Is(err, ErrInsufficientCredits) true.
func (e *InsufficientCreditsError) Unwrap() error { return ErrInsufficientCredits }

// ReasonInsufficientCredits is recorded on an outbound message refused at
// send time for lack of credits.
const ReasonInsufficientCredits = "Insufficient credits"
