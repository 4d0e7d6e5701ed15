package webhook_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/http/webhook"
	"github.com/parley-chat/parley/models"
)

// inboundSMS is an inbound text to the demo inbox.
func inboundSMS(id, from, body string) models.InboundSMS {
	return models.InboundSMS{Provider: "vonage", ProviderMessageID: id, From: from, To: inboxNumber, Body: body}
}

// TestBatcherConcurrentRetries: many callers at once, each message
// posted several times concurrently, mixed with keywords and a message
// the database refuses: every message stored exactly once, every caller
// answered, and the refused one fails alone.
func TestBatcherConcurrentRetries(t *testing.T) {
	ctx := context.Background()
	st, _ := sharedStore(t)
	b := webhook.NewBatcher(st, webhook.BatcherOptions{Committers: 2, MaxBatch: 16}, testLogger())
	t.Cleanup(b.Close)
	const messages, copies = 60, 4
	type outcome struct {
		i   int
		res *models.InboundResult
		err error
	}
	out := make(chan outcome, messages*copies+1)
	var wg sync.WaitGroup
	for i := 0; i < messages; i++ {
		for range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := fmt.Sprintf("message %d", i)
				if i%20 == 7 {
					body = "HELP"
				}
				r, err := b.ReceiveSMS(ctx, inboundSMS(fmt.Sprintf("bc-%d", i), fmt.Sprintf("+155501072%02d", i%25), body))
				out <- outcome{i, r, err}
			}()
		}
	}
	// Refused by the recipients' phone check: must not fail its batch-mates.
	wg.Add(1)
	go func() {
		defer wg.Done()
		r, err := b.ReceiveSMS(ctx, inboundSMS("bc-bad", "not-a-phone", "hello"))
		out <- outcome{-1, r, err}
	}()
	wg.Wait()
	close(out)
	storedBy := map[int]int{}
	for o := range out {
		if o.i == -1 {
			if o.err == nil {
				t.Errorf("bad sender stored: %+v", o.res)
			}
			continue
		}
		if o.err != nil {
			t.Errorf("message %d: %v", o.i, o.err)
			continue
		}
		if o.res.Change != nil {
			storedBy[o.i]++
		} else if !o.res.Duplicate {
			t.Errorf("message %d neither stored nor duplicate: %+v", o.i, o.res)
		}
	}
	for i := 0; i < messages; i++ {
		if storedBy[i] != 1 {
			t.Errorf("message %d reported stored %d times", i, storedBy[i])
		}
	}
	var rows, convs int
	if err := st.DB().NewRaw("SELECT count(*), count(DISTINCT conversation_id) FROM messages WHERE provider_message_id LIKE 'bc-%'").Scan(ctx, &rows, &convs); err != nil {
		t.Fatal(err)
	}
	if rows != messages || convs != 25 {
		t.Errorf("%d message rows in %d conversations, want %d in 25", rows, convs, messages)
	}
	// Each conversation's unread count is the number of its messages.
	var wrong int
	if err := st.DB().NewRaw(`SELECT count(*) FROM conversations c WHERE c.id IN
		(SELECT conversation_id FROM messages WHERE provider_message_id LIKE 'bc-%')
		AND c.unread_count <> (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id AND m.direction = 'inbound')`).Scan(ctx, &wrong); err != nil {
		t.Fatal(err)
	}
	if wrong != 0 {
		t.Errorf("%d conversations with an unread count unlike their inbound messages", wrong)
	}
}

// TestBatcherAnswersAfterCallerGivesUp: a message queued for a group
// commit is committed even when its caller's context ends first, so the
// caller must get the real result (with the change to publish), not a
// "not stored" error for a stored message whose retry would be a silent
// duplicate.
func TestBatcherAnswersAfterCallerGivesUp(t *testing.T) {
	ctx := context.Background()
	st, _ := sharedStore(t)
	b := webhook.NewBatcher(st, webhook.BatcherOptions{Committers: 1}, testLogger())
	t.Cleanup(b.Close)
	first, err := st.ReceiveSMS(ctx, inboundSMS("gu-1", "+15550107301", "first"))
	if err != nil {
		t.Fatal(err)
	}
	// Hold the conversation's row lock so the group commit has to wait.
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT id FROM conversations WHERE id = ? FOR UPDATE", first.Change.Conversation.ID); err != nil {
		t.Fatal(err)
	}
	callCtx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	type outcome struct {
		res *models.InboundResult
		err error
	}
	out := make(chan outcome, 1)
	go func() {
		r, err := b.ReceiveSMS(callCtx, inboundSMS("gu-2", "+15550107301", "second"))
		out <- outcome{r, err}
	}()
	// Wait until the group commit is blocked on that lock, and the caller's
	// context has ended, then let it through.
	for {
		var waiting int
		if err := st.DB().NewRaw("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(ctx, &waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		runtime.Gosched()
	}
	<-callCtx.Done()
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	o := <-out
	if o.err != nil || o.res == nil || o.res.Change == nil || o.res.Change.Conversation.ID != first.Change.Conversation.ID {
		t.Fatalf("result after the caller's deadline: %+v, %v; want the stored change", o.res, o.err)
	}
}
