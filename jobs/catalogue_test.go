package jobs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/parley-chat/parley/channels/email"
	"github.com/parley-chat/parley/jobs/task"
)

// stubSMS is a sender that is never called: these tests only build muxes.
type stubSMS struct{}

func (stubSMS) SendSMS(context.Context, SMS) ([]string, error) { return nil, nil }

// Send makes stubSMS an email sender too.
func (stubSMS) Send(context.Context, email.Envelope, []byte) error { return nil }

// stubDeps has a sender for every channel.
func stubDeps() Deps {
	return Deps{SMS: stubSMS{}, Email: stubSMS{}, EmailCfg: EmailConfig{Domain: "parley.test"}}
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Every task type that can be enqueued has its own handler in the
// worker's mux (an exact pattern, not a prefix that happens to match).
func TestEveryCatalogueTypeHasAHandler(t *testing.T) {
	mux, err := newMux(stubDeps(), discard())
	if err != nil {
		t.Fatal(err)
	}
	kinds := task.Catalogue()
	if len(kinds) == 0 {
		t.Fatal("the catalogue is empty")
	}
	for _, k := range kinds {
		if _, pattern := mux.Handler(asynq.NewTask(k.Type, nil)); pattern != k.Type {
			t.Errorf("%s is served by %q, want its own handler", k.Type, pattern)
		}
	}
}

// A type without a handler is refused by name, including one that only
// shares a handler's prefix (asynq would hand it to that handler).
func TestMissingHandlersAreRefusedByName(t *testing.T) {
	mux, err := newMux(stubDeps(), discard())
	if err != nil {
		t.Fatal(err)
	}
	kinds := append(task.Catalogue(), task.Kind{Type: "fax:send"}, task.Kind{Type: "sms:send:bulk"})
	var missing *MissingHandlersError
	if err := checkHandlers(mux, kinds); !errors.As(err, &missing) {
		t.Fatalf("a mux without fax:send and sms:send:bulk handlers: %v", err)
	}
	if got := strings.Join(missing.Types, " "); got != "fax:send sms:send:bulk" {
		t.Errorf("missing %q, want fax:send and sms:send:bulk", got)
	}
	for _, want := range missing.Types {
		if !strings.Contains(missing.Error(), want) {
			t.Errorf("error %q does not name %s", missing, want)
		}
	}

	if _, err := newMux(Deps{}, discard()); !errors.As(err, &missing) || strings.Join(missing.Types, " ") != task.TypeSMSSend+" "+task.TypeEmailSend {
		t.Errorf("a mux without senders: %v, want %s and %s missing", err, task.TypeSMSSend, task.TypeEmailSend)
	}
	d := stubDeps()
	d.EmailCfg.Domain = ""
	if _, err := newMux(d, discard()); err == nil {
		t.Errorf("an email sender without a domain was accepted")
	}
}

// The schedule registers only catalogue kinds that are not outbox kinds
// (a scheduled task carries no payload, an outbox task needs one).
func TestScheduleUsesCatalogueKinds(t *testing.T) {
	for _, s := range schedule() {
		k, ok := task.Lookup(s.Type)
		if !ok || k.Outbox {
			t.Errorf("scheduled %s: in catalogue %v, outbox kind %v", s.Type, ok, k.Outbox)
		}
	}
}
