// Package simulator lets Parley run end to end with no Vonage account: a
// Vonage-compatible SMS API endpoint that the real SDK client is pointed
// at, delivery receipts posted back through the real, signed
// /webhooks/vonage/status, and a "phone" page where a person plays a
// recipient whose texts arrive through the real, signed
// /webhooks/vonage/inbound. It keeps the phones' messages in memory.
package simulator

import (
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/channels/sms"
)

// Path is where the simulated Vonage REST API lives; point the SMS
// client's base URL at BaseURL + Path. http/web's route table mounts
// VonageSend at Path + "/sms/json".
const Path = "/simulator/vonage"

// Config configures the simulator.
type Config struct {
	// BaseURL is Parley's own URL: receipts and inbound texts are posted
	// to its webhooks there.
	BaseURL string
	// APIKey / APISecret are the credentials the simulated API accepts.
	APIKey, APISecret string
	// SignatureSecret and SignatureMethod sign the webhooks it posts.
	SignatureSecret string
	SignatureMethod sms.SignatureMethod
	// ReceiptDelay is how long after a send its delivery receipt comes.
	ReceiptDelay time.Duration
	Logger       *slog.Logger
}

// maxMessages bounds what the simulator remembers.
const maxMessages = 5000

// Message is one text a simulated phone sent or received.
type Message struct {
	ID        string
	Phone     string // the simulated recipient, E.164
	Inbox     string // the inbox number on the other end, E.164
	FromPhone bool   // typed on the phone (inbound to Parley)
	Text      string
	Parts     int
	Status    string // for texts to the phone: delivered or rejected
	At        time.Time
}

// Simulator is the fake provider and its phones.
type Simulator struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger

	mu   sync.Mutex
	msgs []Message
	wake chan struct{} // closed and replaced on every new message
}

// New builds a simulator.
func New(cfg Config) *Simulator {
	if cfg.ReceiptDelay == 0 {
		cfg.ReceiptDelay = 300 * time.Millisecond
	}
	return &Simulator{cfg: cfg, client: &http.Client{Timeout: 10 * time.Second},
		log: cfg.Logger.With("component", "simulator"), wake: make(chan struct{})}
}

func (s *Simulator) add(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	if len(s.msgs) > maxMessages {
		s.msgs = append([]Message(nil), s.msgs[len(s.msgs)-maxMessages:]...)
	}
	close(s.wake)
	s.wake = make(chan struct{})
}

// Thread returns a phone's messages with the given inbox numbers, oldest
// first. Callers pass the inboxes the signed-in user may see: the
// simulator serves every organization, and a text belongs to the
// organization of the inbox on its other end (R9).
func (s *Simulator) Thread(phone string, inboxes []string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.msgs {
		if m.Phone == phone && slices.Contains(inboxes, m.Inbox) {
			out = append(out, m)
		}
	}
	return out
}

// Phones lists the phone numbers that texted or were texted by one of the
// given inbox numbers, most recent first.
func (s *Simulator) Phones(inboxes []string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := map[string]time.Time{}
	for _, m := range s.msgs {
		if slices.Contains(inboxes, m.Inbox) {
			last[m.Phone] = m.At
		}
	}
	out := make([]string, 0, len(last))
	for p := range last {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return last[out[i]].After(last[out[j]]) })
	return out
}

// Changed returns a channel closed at the next new message (tests wait on it).
func (s *Simulator) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wake
}

// e164 turns Vonage's digits-only form into E.164.
func e164(n string) string {
	if strings.HasPrefix(n, "+") {
		return n
	}
	return "+" + n
}
