package models_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/parley-chat/parley/models"
)

// TestIdempotentReplaysAndRaces: the same key replays the first response
// and runs nothing; another request with the key is refused; a failed
// action keeps no key; twenty concurrent requests with one key create one
// message and all get its response.
func TestIdempotentReplaysAndRaces(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	forgetNewRecipients(t, st)
	ch, err := st.StartConversation(ctx, admin, models.StartInput{InboxID: demo.Inbox.ID, To: "+15550104431", Body: "Hi"})
	if err != nil {
		t.Fatal(err)
	}
	conv := ch.Conversation.ID
	send := func(key, body string) (*models.IdempotentResult, error) {
		return st.Idempotent(ctx, admin.UserID, key, "POST /x", func(ctx context.Context) (int, []byte, error) {
			ch, err := st.Reply(ctx, admin, conv, body, false)
			if err != nil {
				return 0, nil, err
			}
			return 201, []byte(strconv.FormatInt(*ch.Events[len(ch.Events)-1].MessageID, 10)), nil
		})
	}
	count := func() int {
		var n int
		if err := st.DB().NewRaw("SELECT count(*) FROM messages WHERE conversation_id = ?", conv).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	first, err := send("key-1", "Once")
	if err != nil || first.Replayed || first.Status != 201 {
		t.Fatalf("first: %+v %v", first, err)
	}
	again, err := send("key-1", "Once")
	if err != nil || !again.Replayed || string(again.Body) != string(first.Body) || again.Status != 201 {
		t.Fatalf("replay: %+v %v", again, err)
	}
	if n := count(); n != before+1 {
		t.Fatalf("messages after a replay: %d, want %d", n, before+1)
	}
	_, err = st.Idempotent(ctx, admin.UserID, "key-1", "POST /other", func(context.Context) (int, []byte, error) {
		t.Fatal("ran for a reused key")
		return 0, nil, nil
	})
	if !errors.Is(err, models.ErrIdempotencyMismatch) {
		t.Fatalf("another request with the key: %v", err)
	}
	// A failed action (an empty body) keeps no key: the retry runs.
	if _, err := send("key-2", " "); fieldOf(t, err) != "body" {
		t.Fatalf("empty body: %v", err)
	}
	if r, err := send("key-2", "Fixed"); err != nil || r.Replayed {
		t.Fatalf("retry after a failure: %+v %v", r, err)
	}
	if _, err := send("", "x"); fieldOf(t, err) != "Idempotency-Key" {
		t.Fatal("empty key accepted")
	}

	before = count()
	var wg sync.WaitGroup
	results := make([]*models.IdempotentResult, 20)
	errs := make([]error, 20)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = send("race-key", "Raced") })
	}
	wg.Wait()
	created := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if !r.Replayed {
			created++
		}
		if string(r.Body) != string(results[0].Body) {
			t.Fatalf("request %d got %s, request 0 %s", i, r.Body, results[0].Body)
		}
	}
	if created != 1 || count() != before+1 {
		t.Fatalf("concurrent requests created %d (messages +%d), want 1", created, count()-before)
	}
}

// TestIdempotencyKeysExpire: a key older than a day is forgotten, so the
// request runs again.
func TestIdempotencyKeysExpire(t *testing.T) {
	ctx := context.Background()
	st, _, admin, _ := chatFixture(t)
	runs := 0
	do := func() *models.IdempotentResult {
		r, err := st.Idempotent(ctx, admin.UserID, "old-key", "POST /y", func(context.Context) (int, []byte, error) {
			runs++
			return 200, []byte(strconv.Itoa(runs)), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	do()
	if _, err := st.DB().NewRaw("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old-key'").Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if r := do(); r.Replayed || runs != 2 || string(r.Body) != "2" {
		t.Fatalf("an expired key replayed: %+v runs=%d", r, runs)
	}
}
