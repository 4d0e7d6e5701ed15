// Package task is Parley's job catalogue: every asynq task type the system
// can enqueue, with its queue, retry policy and typed payload. It is a leaf
// package (standard library only), so the store writes outbox rows through
// it and the worker decodes them with it, without either importing the
// other. A new task type is added here first: a Type constant, a payload
// struct, a constructor, and an entry in Catalogue; the worker refuses to
// start until it has a handler for it.
package task

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Queue names. Priorities decide how often each is polled relative to the
// others (asynq's weighted priority): conversations beat bulk fan-out.
const (
	QueueCritical = "critical" // replies agents are waiting on, STOP confirmations
	QueueDefault  = "default"  // auto-responses, forwarding, credit charges
	QueueBulk     = "bulk"     // broadcasts, maintenance
)

// Queues maps each queue to its weight.
func Queues() map[string]int {
	return map[string]int{QueueCritical: 6, QueueDefault: 3, QueueBulk: 1}
}

// KnownQueue reports whether q is one of Queues (without building the
// map: the relay asks for every entry).
func KnownQueue(q string) bool {
	return q == QueueCritical || q == QueueDefault || q == QueueBulk
}

// Task types, as asynq knows them (noun:verb).
const (
	// TypeSMSSend sends one queued outbound SMS (payload SMSSend).
	TypeSMSSend = "sms:send"
	// TypeEmailSend sends one queued outbound email (payload EmailSend).
	TypeEmailSend = "email:send"
	// TypeCreditsCharge settles a location's pending credit charges
	// (payload CreditsCharge). Entries for one location coalesce: one
	// task charges every message pending when it runs.
	TypeCreditsCharge = "credits:charge"
	// TypeCreditsAlert tells a location's admins its plan's credits are
	// running out (payload CreditsAlert).
	TypeCreditsAlert = "credits:alert"
	// TypeCreditsRenew grants plan periods that started (no payload;
	// scheduled).
	TypeCreditsRenew = "credits:renew"
	// TypeBroadcastFanout messages a broadcast's due recipients (payload
	// BroadcastFanout). Entries for one broadcast coalesce: one task
	// messages every row due when it runs.
	TypeBroadcastFanout = "broadcast:fanout"
	// TypeBroadcastTick starts scheduled broadcasts that came due and
	// resumes those holding rows for quiet hours (no payload; scheduled).
	TypeBroadcastTick = "broadcast:tick"
	// TypeSessionSweep deletes expired login sessions (no payload;
	// scheduled, never written to the outbox).
	TypeSessionSweep = "session:sweep"
	// TypeImportRun validates, stages and applies one CSV import of
	// recipients (payload ImportRun).
	TypeImportRun = "import:run"
)

// Kind describes one task type.
type Kind struct {
	Type  string
	Queue string
	// MaxRetry bounds the attempts after the first. For sends it also
	// bounds duplicates (see the README's duplicate policy).
	MaxRetry int
	// Outbox is set for types written as outbox rows and moved to asynq by
	// the relay; the others are enqueued by the scheduler.
	Outbox bool
	// Unique, for scheduled types, keeps one task per period across nodes.
	Unique time.Duration
	// Coalesce: outbox entries of this type with the same payload that the
	// relay reads in one batch are one task (the others are closed as
	// done): the task's work covers all of them.
	Coalesce bool
	// decode parses a stored payload into its typed form (outbox types).
	decode func([]byte) (Payload, error)
}

// Catalogue lists every task type that can be enqueued. The worker refuses
// to start unless it has a handler for each.
func Catalogue() []Kind {
	return []Kind{
		{Type: TypeSMSSend, Queue: QueueCritical, MaxRetry: 8, Outbox: true, decode: decodeAs[*SMSSend]},
		{Type: TypeEmailSend, Queue: QueueCritical, MaxRetry: 8, Outbox: true, decode: decodeAs[*EmailSend]},
		{Type: TypeCreditsCharge, Queue: QueueCritical, MaxRetry: 25, Outbox: true, Coalesce: true, decode: decodeAs[*CreditsCharge]},
		{Type: TypeCreditsAlert, Queue: QueueDefault, MaxRetry: 8, Outbox: true, decode: decodeAs[*CreditsAlert]},
		{Type: TypeCreditsRenew, Queue: QueueDefault, MaxRetry: 3, Unique: 50 * time.Second},
		{Type: TypeBroadcastFanout, Queue: QueueBulk, MaxRetry: 25, Outbox: true, Coalesce: true, decode: decodeAs[*BroadcastFanout]},
		{Type: TypeBroadcastTick, Queue: QueueBulk, MaxRetry: 3, Unique: 25 * time.Second},
		{Type: TypeSessionSweep, Queue: QueueBulk, MaxRetry: 3, Unique: 50 * time.Minute},
		{Type: TypeImportRun, Queue: QueueBulk, MaxRetry: 5, Outbox: true, decode: decodeAs[*ImportRun]},
	}
}

// Lookup returns the kind of a task type.
func Lookup(typ string) (Kind, bool) {
	for _, k := range Catalogue() {
		if k.Type == typ {
			return k, true
		}
	}
	return Kind{}, false
}

// ErrUnknownType: a task type the catalogue does not list.
var ErrUnknownType = errors.New("unknown task type")

// ErrMalformed: a payload that does not decode into its type's struct.
var ErrMalformed = errors.New("malformed task payload")

// Payload is a typed task payload. Every outbox task carries its outbox
// row's id, so the handler can mark the row done.
type Payload interface {
	// Outbox returns the outbox row's id (0 before the relay sets it).
	Outbox() int64
	setOutbox(id int64)
	valid() bool
}

// Spec is one task to enqueue: what the store writes as an outbox row
// (type, queue and the payload's JSON, without the outbox id).
type Spec struct {
	Type    string
	Queue   string
	Payload json.RawMessage
}

func spec(typ string, p Payload) Spec {
	k, ok := Lookup(typ)
	if !ok {
		panic("task: " + typ + " is not in the catalogue") // a programming error, caught by tests
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(fmt.Sprintf("task: marshal %s payload: %v", typ, err))
	}
	return Spec{Type: typ, Queue: k.Queue, Payload: b}
}

// ForOutbox is the asynq payload for an outbox row: its stored payload,
// decoded into the type's struct, with the row's id set.
func ForOutbox(typ string, outboxID int64, stored []byte) ([]byte, error) {
	p, err := Decode(typ, stored)
	if err != nil {
		return nil, err
	}
	p.setOutbox(outboxID)
	return json.Marshal(p)
}

// Decode parses an outbox task's payload into its typed struct.
func Decode(typ string, b []byte) (Payload, error) {
	k, ok := Lookup(typ)
	if !ok || k.decode == nil {
		return nil, fmt.Errorf("task %q: %w", typ, ErrUnknownType)
	}
	return k.decode(b)
}

// decodeAs decodes b into a new *T and checks it.
func decodeAs[P interface {
	*T
	Payload
}, T any](b []byte) (Payload, error) {
	p := P(new(T))
	if err := json.Unmarshal(b, p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !p.valid() {
		return nil, fmt.Errorf("%w: %s", ErrMalformed, b)
	}
	return p, nil
}

// outboxRef is embedded in every outbox payload.
type outboxRef struct {
	OutboxID int64 `json:"outbox_id,omitempty"`
}

// Outbox implements Payload.
func (r *outboxRef) Outbox() int64      { return r.OutboxID }
func (r *outboxRef) setOutbox(id int64) { r.OutboxID = id }

// SMSSend sends one queued outbound SMS. The wire form
// {"outbox_id":N,"message_id":M} is the one tasks queued before the
// catalogue existed carry.
type SMSSend struct {
	outboxRef
	MessageID int64 `json:"message_id"`
}

func (p *SMSSend) valid() bool { return p.MessageID > 0 }

// NewSMSSend is the task that sends message msgID.
func NewSMSSend(msgID int64) Spec { return spec(TypeSMSSend, &SMSSend{MessageID: msgID}) }

// EmailSend sends one queued outbound email.
type EmailSend struct {
	outboxRef
	MessageID int64 `json:"message_id"`
}

func (p *EmailSend) valid() bool { return p.MessageID > 0 }

// NewEmailSend is the task that sends email message msgID.
func NewEmailSend(msgID int64) Spec { return spec(TypeEmailSend, &EmailSend{MessageID: msgID}) }

// CreditsCharge settles the pending charges of one location.
type CreditsCharge struct {
	outboxRef
	LocationID int64 `json:"location_id"`
}

func (p *CreditsCharge) valid() bool { return p.LocationID > 0 }

// NewCreditsCharge is the task that charges location's pending messages.
func NewCreditsCharge(locationID int64) Spec {
	return spec(TypeCreditsCharge, &CreditsCharge{LocationID: locationID})
}

// CreditsAlert announces that a location's usage this period reached
// Level percent of its plan's credits (the period starting at
// PeriodStart, Unix seconds).
type CreditsAlert struct {
	outboxRef
	LocationID  int64 `json:"location_id"`
	Level       int   `json:"level"`
	PeriodStart int64 `json:"period_start"`
}

func (p *CreditsAlert) valid() bool { return p.LocationID > 0 && p.Level > 0 && p.Level <= 100 }

// NewCreditsAlert is the alert for a location reaching level percent.
func NewCreditsAlert(locationID int64, level int, periodStart int64) Spec {
	return spec(TypeCreditsAlert, &CreditsAlert{LocationID: locationID, Level: level, PeriodStart: periodStart})
}

// BroadcastFanout messages the due recipients of one broadcast.
type BroadcastFanout struct {
	outboxRef
	BroadcastID int64 `json:"broadcast_id"`
}

func (p *BroadcastFanout) valid() bool { return p.BroadcastID > 0 }

// NewBroadcastFanout is the task that fans broadcast id out.
func NewBroadcastFanout(id int64) Spec {
	return spec(TypeBroadcastFanout, &BroadcastFanout{BroadcastID: id})
}
