package models_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/jobs/task"
	"github.com/parley-chat/parley/models"
)

// TestReceiveEmailThroughCore: the core is channel-neutral. An email to
// the inbox's address is routed, finds or creates its sender by address,
// and opens an email conversation apart from the same person's SMS one;
// an email to an address no inbox owns is kept as unrouted.
func TestReceiveEmailThroughCore(t *testing.T) {
	ctx := context.Background()
	st, demo, _, _ := chatFixture(t)
	to := *demo.Inbox.EmailAddress
	mail := func(id, from, body string) models.Inbound {
		return models.Inbound{Channel: models.ChannelEmail, Provider: "smtp", ProviderMessageID: id, From: from, To: to, Body: body}
	}
	upper := func(in models.Inbound) models.Inbound { in.To = "  " + strings.ToUpper(in.To); return in }
	stray := mail("<e-3@example.com>", "pat@example.com", "to nobody")
	stray.To = "nobody@inbound.parley.test"
	res, err := st.ReceiveBatch(ctx, []models.Inbound{
		upper(mail("<e-1@example.com>", "pat@example.com", "Hello by email")),
		mail("<e-2@example.com>", " Pat@Example.COM ", "And again"),
		stray,
	})
	if err != nil {
		t.Fatal(err)
	}
	c0, c1 := res[0].Change, res[1].Change
	if c0 == nil || c1 == nil || c0.Conversation.ID != c1.Conversation.ID {
		t.Fatalf("email changes: %+v %+v", c0, c1)
	}
	row := c1.Conversation
	if row.Channel != models.ChannelEmail || row.RecipientEmail == nil || *row.RecipientEmail != "pat@example.com" ||
		row.RecipientPhone != nil || row.UnreadCount != 2 || row.InboxID != demo.Inbox.ID || row.Address() != "pat@example.com" {
		t.Errorf("email conversation row: %+v", row)
	}
	m := c1.Events[len(c1.Events)-1].Message
	if m == nil || m.Channel != models.ChannelEmail || m.Encoding != "" || m.Segments != 0 || m.Body != "And again" {
		t.Errorf("email message: %+v", m)
	}
	if !res[2].Unrouted || res[2].Change != nil {
		t.Errorf("stray email: %+v", res[2])
	}
	// The same person texting: a separate SMS conversation.
	sres, err := st.ReceiveSMS(ctx, sms("e-sms", "+15550107401", "by text"))
	if err != nil {
		t.Fatal(err)
	}
	if sres.Change.Conversation.ID == row.ID || sres.Change.Conversation.Channel != models.ChannelSMS {
		t.Errorf("sms conversation %+v", sres.Change.Conversation)
	}
	// A retry of an email is a duplicate.
	again, err := st.ReceiveBatch(ctx, []models.Inbound{mail("<e-1@example.com>", "pat@example.com", "Hello by email")})
	if err != nil || !again[0].Duplicate || again[0].Change != nil {
		t.Errorf("email retry: %+v, %v", again, err)
	}
}

// TestFollowUpsWrittenWithMessages: the core writes the outbox rows its
// follow-up hook asks for, in the message's own transaction: one per
// stored message on both paths, none for duplicates or unrouted ones, and
// none at all when the transaction fails.
func TestFollowUpsWrittenWithMessages(t *testing.T) {
	ctx := context.Background()
	st, _, _, _ := chatFixture(t)
	var before int64 // the package's tests share a database
	if err := st.DB().NewRaw("SELECT coalesce(max(id), 0) FROM outbox").Scan(ctx, &before); err != nil {
		t.Fatal(err)
	}
	keywords := map[string]string{}
	st.SetFollowUp(func(m *models.Message, conv *models.ConversationRow, keyword string) []task.Spec {
		if m.ID == 0 || conv.ID != m.ConversationID {
			t.Errorf("follow-up for %+v on %+v", m, conv)
		}
		keywords[*m.ProviderMessageID] = keyword
		if keyword != "" {
			return nil // as forwarding and auto-responses will: never for a keyword
		}
		return []task.Spec{task.NewSMSSend(m.ID)}
	})
	unrouted := sms("fu-4", "+15550107502", "nobody")
	unrouted.To = "+15550199998"
	res, err := st.ReceiveBatch(ctx, inbound(sms("fu-1", "+15550107501", "one"), sms("fu-2", "+15550107502", "two"),
		sms("fu-1", "+15550107501", "one"), unrouted))
	if err != nil {
		t.Fatal(err)
	}
	single, err := st.ReceiveSMS(ctx, sms("fu-3", "+15550107501", "three"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]bool{}
	for _, r := range []*models.InboundResult{res[0], res[1], single} {
		want[*r.Change.Events[len(r.Change.Events)-1].MessageID] = true
	}
	var rows []struct {
		TaskType string          `bun:"task_type"`
		Payload  json.RawMessage `bun:"payload"`
	}
	if err := st.DB().NewRaw("SELECT task_type, payload FROM outbox WHERE id > ? AND task_type <> ? ORDER BY id", before, task.TypeCreditsCharge).Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) {
		t.Fatalf("%d outbox rows, want %d: %+v", len(rows), len(want), rows)
	}
	for _, r := range rows {
		p, err := task.Decode(r.TaskType, r.Payload)
		if err != nil || !want[p.(*task.SMSSend).MessageID] {
			t.Errorf("outbox row %s %s (%v)", r.TaskType, r.Payload, err)
		}
	}
	// A batch that fails (a sender the database refuses) writes nothing.
	if _, err := st.ReceiveBatch(ctx, inbound(sms("fu-5", "+15550107503", "five"), sms("fu-6", "not-a-phone", "bad"))); err == nil {
		t.Fatal("a batch with a refused sender was stored")
	}
	var n int
	if err := st.DB().NewRaw("SELECT count(*) FROM outbox WHERE id > ? AND task_type <> ?", before, task.TypeCreditsCharge).Scan(ctx, &n); err != nil || n != len(want) {
		t.Errorf("%d outbox rows after a failed batch (%v), want %d", n, err, len(want))
	}
	// A keyword reaches the hook named, before its own effects.
	if _, err := st.ReceiveSMS(ctx, sms("fu-7", "+15550107501", "HELP")); err != nil {
		t.Fatal(err)
	}
	if k, ok := keywords["fu-7"]; !ok || k != models.KeywordHelp || keywords["fu-3"] != "" {
		t.Errorf("keywords seen by the hook: %v", keywords)
	}
}

// TestReceiveConcurrentFirstMessages: many first messages from one new
// sender, each in its own transaction at once, all race to create the
// same recipient and conversation: every message is stored, in one
// conversation, with no error.
func TestReceiveConcurrentFirstMessages(t *testing.T) {
	ctx := context.Background()
	st, _, _, _ := chatFixture(t)
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = st.ReceiveBatch(ctx, inbound(sms(fmt.Sprintf("cf-%d", i), "+15550107601", "hi")))
			} else {
				_, err = st.ReceiveSMS(ctx, sms(fmt.Sprintf("cf-%d", i), "+15550107601", "hi"))
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	var msgs, convs, unread int
	if err := st.DB().NewRaw(`SELECT count(*), count(DISTINCT m.conversation_id), max(c.unread_count) FROM messages m
		JOIN conversations c ON c.id = m.conversation_id WHERE m.provider_message_id LIKE 'cf-%'`).Scan(ctx, &msgs, &convs, &unread); err != nil {
		t.Fatal(err)
	}
	if msgs != n || convs != 1 || unread != n {
		t.Errorf("%d messages in %d conversations, unread %d; want %d in 1, unread %d", msgs, convs, unread, n, n)
	}
}

// TestReceiveBatchRefusesUnknownChannel: a value from a broken adapter is
// refused whole.
func TestReceiveBatchRefusesUnknownChannel(t *testing.T) {
	st, _, _, _ := chatFixture(t)
	in := sms("uc-1", "+15550107701", "hi").Inbound()
	in.Channel = "fax"
	if _, err := st.ReceiveBatch(context.Background(), []models.Inbound{in}); !errors.Is(err, models.ErrConflict) {
		t.Errorf("err = %v", err)
	}
}
