package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"

	"github.com/parley-chat/parley/channels/sms"
	"github.com/parley-chat/parley/http/webhook"
	"github.com/parley-chat/parley/models"
)

// TestReceiptEveryEncoding delivers a receipt as a GET query, a POST form
// and a POST JSON body, with and without a signature secret: each moves
// its sent message to delivered, answers 200 and shows one status event.
func TestReceiptEveryEncoding(t *testing.T) {
	for _, cfg := range []struct {
		name string
		cfg  webhook.Config
	}{{"unsigned", webhook.Config{}}, {"signed sha512", signedConfig(sms.SignatureSHA512)}} {
		for _, enc := range encodings {
			for _, spelling := range []string{"messageId", "message-id"} {
				t.Run(cfg.name+"/"+enc.String()+"/"+spelling, func(t *testing.T) {
					f := newFixture(t, cfg.cfg)
					to, pid := newPhone(), newID("rcpt")
					id := f.sentMessage(to, pid)
					if s := f.messageStatus(id); s != models.MsgSent {
						t.Fatalf("before the receipt: %s", s)
					}
					p := receipt(pid, to, "delivered", "0", strconv.FormatInt(id, 10))
					if spelling == "message-id" {
						p.Del("messageId")
						p.Set("message-id", pid)
					}
					if code, body := f.send(statusPath, enc, f.sign(p)); code != http.StatusOK {
						t.Fatalf("status %d %q", code, body)
					}
					if s := f.messageStatus(id); s != models.MsgDelivered {
						t.Fatalf("after the receipt: %s, want delivered", s)
					}
					if n := f.intQuery(`SELECT count(*) FROM messages WHERE id = ? AND delivered_at IS NOT NULL`, id); n != 1 {
						t.Error("delivered_at not set")
					}
					if n := f.intQuery(`SELECT count(*) FROM message_parts WHERE provider_message_id = ? AND status = 'delivered'`, pid); n != 1 {
						t.Error("part not delivered")
					}
					evs := f.rec.events()
					if f.rec.calls() != 1 || len(evs) != 1 || evs[0].Kind != models.EvMessageStatus || evs[0].Message == nil ||
						evs[0].Message.ID != id || evs[0].Message.Status != models.MsgDelivered {
						t.Errorf("Notify %d calls, events %+v; want one delivered status event", f.rec.calls(), evs)
					}
				})
			}
		}
	}
}

// TestReceiptOrdering: receipts arrive late, repeated, per part and for
// ids we never sent; a message's status only moves forward, is delivered
// only when every part is, and unknown receipts are acknowledged (200),
// kept pending for a send not recorded yet, and change no message.
func TestReceiptOrdering(t *testing.T) {
	const unknown = -1
	type step struct {
		part      int    // index into the message's part ids; unknown for an id we never sent
		status    string // Vonage's status
		errCode   string
		clientRef string // "msg" for our message's id
		want      string // the message's status afterwards
		notified  int    // Notify calls so far
	}
	for _, tc := range []struct {
		name     string
		parts    int  // provider part ids recorded by RecordSent (0: claimed, never recorded)
		optOut   bool // the recipient ends opted out
		steps    []step
		noChange bool // the receipts write nothing but one pending receipt each
	}{
		{name: "delivered then buffered", parts: 1, steps: []step{
			{part: 0, status: "delivered", want: models.MsgDelivered, notified: 1},
			{part: 0, status: "buffered", want: models.MsgDelivered, notified: 1},
			{part: 0, status: "accepted", want: models.MsgDelivered, notified: 1},
		}},
		{name: "buffered then delivered", parts: 1, steps: []step{
			{part: 0, status: "buffered", want: models.MsgSent, notified: 0},
			{part: 0, status: "delivered", want: models.MsgDelivered, notified: 1},
			{part: 0, status: "delivered", want: models.MsgDelivered, notified: 1},
		}},
		{name: "delivered then failed stays delivered", parts: 1, steps: []step{
			{part: 0, status: "delivered", want: models.MsgDelivered, notified: 1},
			{part: 0, status: "failed", errCode: "5", want: models.MsgDelivered, notified: 1},
		}},
		{name: "failed then delivered stays failed", parts: 1, steps: []step{
			{part: 0, status: "failed", errCode: "5", want: models.MsgFailed, notified: 1},
			{part: 0, status: "delivered", want: models.MsgFailed, notified: 1},
		}},
		{name: "two parts", parts: 2, steps: []step{
			{part: 0, status: "delivered", want: models.MsgSent, notified: 0},
			{part: 0, status: "delivered", want: models.MsgSent, notified: 0},
			{part: 1, status: "buffered", want: models.MsgSent, notified: 0},
			{part: 1, status: "delivered", want: models.MsgDelivered, notified: 1},
		}},
		{name: "two parts, second first", parts: 2, steps: []step{
			{part: 1, status: "delivered", want: models.MsgSent, notified: 0},
			{part: 0, status: "delivered", want: models.MsgDelivered, notified: 1},
		}},
		{name: "two parts, one failed", parts: 2, steps: []step{
			{part: 0, status: "delivered", want: models.MsgSent, notified: 0},
			{part: 1, status: "rejected", errCode: "6", want: models.MsgFailed, notified: 1},
		}},
		{name: "unknown id", parts: 1, noChange: true, steps: []step{
			{part: unknown, status: "delivered", want: models.MsgSent, notified: 0},
			{part: unknown, status: "failed", errCode: "9", want: models.MsgSent, notified: 0},
		}},
		{name: "unknown id with a client-ref that is not ours", parts: 1, noChange: true, steps: []step{
			{part: unknown, status: "delivered", clientRef: "not-a-number", want: models.MsgSent, notified: 0},
			{part: unknown, status: "delivered", clientRef: "999999999", want: models.MsgSent, notified: 0},
			{part: unknown, status: "delivered", clientRef: "0", want: models.MsgSent, notified: 0},
		}},
		{name: "ids never recorded: client-ref finds the message", parts: 0, steps: []step{
			{part: unknown, status: "delivered", clientRef: "msg", want: models.MsgDelivered, notified: 1},
		}},
		{name: "carrier opt-out (err-code 9)", parts: 1, optOut: true, steps: []step{
			{part: 0, status: "failed", errCode: "9", want: models.MsgFailed, notified: 1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, signedConfig(sms.SignatureSHA256))
			to := newPhone()
			var pids []string
			for range tc.parts {
				pids = append(pids, newID("part"))
			}
			id := f.sentMessage(to, pids...)
			before := f.counts()
			for i, s := range tc.steps {
				pid := newID("unknown")
				if s.part != unknown {
					pid = pids[s.part]
				}
				ref := s.clientRef
				if ref == "msg" {
					ref = strconv.FormatInt(id, 10)
				}
				errCode := s.errCode
				if errCode == "" {
					errCode = "0"
				}
				if code, body := f.send(statusPath, encodings[i%3], f.sign(receipt(pid, to, s.status, errCode, ref))); code != http.StatusOK {
					t.Fatalf("step %d: %d %q", i, code, body)
				}
				if got := f.messageStatus(id); got != s.want {
					t.Fatalf("step %d (%s): message %s, want %s", i, s.status, got, s.want)
				}
				if f.rec.calls() != s.notified {
					t.Fatalf("step %d (%s): %d Notify calls, want %d", i, s.status, f.rec.calls(), s.notified)
				}
			}
			if after := f.counts(); tc.noChange {
				// Kept for a send not recorded yet (one pending part per
				// id) when it has no client-ref; one whose client-ref is not
				// ours is another application's, and not kept. Nothing else
				// is written.
				want := 0
				for _, s := range tc.steps {
					if s.clientRef == "" {
						want++
					}
				}
				if after.Pending != before.Pending+want {
					t.Errorf("pending receipts %d -> %d, want %d more", before.Pending, after.Pending, want)
				}
				after.Pending = before.Pending
				if after != before {
					t.Errorf("an unknown receipt changed rows: %+v -> %+v", before, after)
				}
			}
			opted := f.intQuery(`SELECT count(*) FROM recipients WHERE phone = ? AND sms_opted_out_at IS NOT NULL`, to) == 1
			if opted != tc.optOut {
				t.Errorf("recipient opted out: %v, want %v", opted, tc.optOut)
			}
		})
	}
}

// TestReceiptPartsConcurrently: the receipts for both parts of a message
// (each repeated) arrive at once; the message ends delivered with exactly
// one delivered status event, every time.
func TestReceiptPartsConcurrently(t *testing.T) {
	const trials, repeats = 10, 3
	f := newFixture(t, signedConfig(sms.SignatureSHA1))
	for trial := range trials {
		to, pids := newPhone(), []string{newID("cp1"), newID("cp2")}
		id := f.sentMessage(to, pids...)
		start := f.rec.calls()
		var wg sync.WaitGroup
		errs := make(chan string, 2*repeats)
		gate := make(chan struct{})
		for r := range repeats {
			for _, pid := range pids {
				p := f.sign(receipt(pid, to, "delivered", "0", strconv.FormatInt(id, 10)))
				wg.Add(1)
				go func() {
					defer wg.Done()
					q, ct, body := encode(encodings[r%3], p)
					method := http.MethodPost
					if r%3 == 0 {
						method = http.MethodGet
					}
					<-gate
					if code, text, err := f.try(method, statusPath, q, ct, body); err != nil || code != http.StatusOK {
						errs <- fmt.Sprintf("%s: %d %q %v", pid, code, text, err)
					}
				}()
			}
		}
		close(gate)
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		if s := f.messageStatus(id); s != models.MsgDelivered {
			t.Fatalf("trial %d: message %s, want delivered", trial, s)
		}
		if n := f.rec.calls() - start; n != 1 {
			t.Fatalf("trial %d: %d Notify calls, want 1", trial, n)
		}
		if n := f.intQuery(`SELECT count(*) FROM conversation_events WHERE message_id = ? AND kind = ?`, id, models.EvMessageStatus); n != 2 {
			t.Fatalf("trial %d: %d status events, want 2 (sent, delivered)", trial, n)
		}
	}
}

// TestReceiptBeforeTheSendIsRecorded: Vonage's receipt (without a
// client-ref) is answered 200 before the worker recorded the send it
// reports; it is kept, and recording the send applies it.
func TestReceiptBeforeTheSendIsRecorded(t *testing.T) {
	f := newFixture(t, signedConfig(sms.SignatureSHA256))
	to, pid := newPhone(), newID("early")
	id := f.sentMessage(to) // claimed, ids not recorded yet
	if code, body := f.send(statusPath, encodings[0], f.sign(receipt(pid, to, "delivered", "0", ""))); code != http.StatusOK {
		t.Fatalf("receipt: %d %q", code, body)
	}
	if got := f.messageStatus(id); got != models.MsgSending {
		t.Fatalf("message %s before the send is recorded, want %s", got, models.MsgSending)
	}
	ch, err := f.store.RecordSent(context.Background(), id, "vonage", []string{pid})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.messageStatus(id); got != models.MsgDelivered || ch == nil {
		t.Fatalf("message %s after the send is recorded (change %v), want %s", got, ch != nil, models.MsgDelivered)
	}
}
