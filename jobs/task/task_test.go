package task

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestSMSSendRoundTrip(t *testing.T) {
	s := NewSMSSend(42)
	if s.Type != TypeSMSSend || s.Queue != QueueCritical {
		t.Fatalf("spec = %+v", s)
	}
	if string(s.Payload) != `{"message_id":42}` {
		t.Fatalf("stored payload = %s", s.Payload)
	}
	wire, err := ForOutbox(s.Type, 7, s.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if string(wire) != `{"outbox_id":7,"message_id":42}` {
		t.Fatalf("wire payload = %s", wire)
	}
	p, err := Decode(TypeSMSSend, wire)
	if err != nil {
		t.Fatal(err)
	}
	got := p.(*SMSSend)
	if got.MessageID != 42 || got.Outbox() != 7 {
		t.Fatalf("decoded %+v", got)
	}
}

func TestEmailSendRoundTrip(t *testing.T) {
	s := NewEmailSend(42)
	if s.Type != TypeEmailSend || s.Queue != QueueCritical {
		t.Fatalf("spec = %+v", s)
	}
	wire, err := ForOutbox(s.Type, 7, s.Payload)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Decode(TypeEmailSend, wire)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := p.(*EmailSend); !ok || got.MessageID != 42 || got.Outbox() != 7 {
		t.Fatalf("decoded %#v", p)
	}
}

func TestDecodeRefusesBadPayloads(t *testing.T) {
	for name, c := range map[string]struct {
		typ  string
		body string
		want error
	}{
		"unknown type":     {"fax:send", `{"message_id":1}`, ErrUnknownType},
		"email no message": {TypeEmailSend, `{"outbox_id":3}`, ErrMalformed},
		"scheduled type":   {TypeSessionSweep, `{}`, ErrUnknownType},
		"not json":         {TypeSMSSend, `{"message_id":`, ErrMalformed},
		"no message":       {TypeSMSSend, `{"outbox_id":3}`, ErrMalformed},
		"wrong field type": {TypeSMSSend, `{"message_id":"1"}`, ErrMalformed},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Decode(c.typ, []byte(c.body)); !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestCatalogueIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	queues := Queues()
	for _, k := range Catalogue() {
		if seen[k.Type] {
			t.Errorf("%s listed twice", k.Type)
		}
		seen[k.Type] = true
		if _, ok := queues[k.Queue]; !ok {
			t.Errorf("%s on unknown queue %q", k.Type, k.Queue)
		}
		if k.Outbox != (k.decode != nil) {
			t.Errorf("%s: outbox types need a decoder, others none", k.Type)
		}
		if k.MaxRetry <= 0 {
			t.Errorf("%s: MaxRetry %d", k.Type, k.MaxRetry)
		}
	}
	var v map[string]any
	if err := json.Unmarshal(NewSMSSend(1).Payload, &v); err != nil {
		t.Fatal(err)
	}
}

// Conversations are polled before default work, default before bulk.
func TestQueuesHavePriorities(t *testing.T) {
	q := Queues()
	if !(q[QueueCritical] > q[QueueDefault] && q[QueueDefault] > q[QueueBulk] && q[QueueBulk] > 0) {
		t.Fatalf("queue weights %v", q)
	}
}

// KnownQueue names exactly the queues of Queues.
func TestKnownQueue(t *testing.T) {
	for q := range Queues() {
		if !KnownQueue(q) {
			t.Errorf("KnownQueue(%q) = false", q)
		}
	}
	for _, q := range []string{"", "Bulk", "other"} {
		if KnownQueue(q) {
			t.Errorf("KnownQueue(%q) = true", q)
		}
	}
}
