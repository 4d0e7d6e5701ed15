package models_test

import (
	"context"
	"testing"

	"github.com/parley-chat/parley/models"
)

// TestReceiveSMSBatchEffects checks one group commit against what the
// single path does for each message: routing, unrouted kept, duplicates
// (in the batch and already stored), new and existing conversations, a
// conversation reopened as a linked one, events, counters and rows.
func TestReceiveSMSBatchEffects(t *testing.T) {
	ctx := context.Background()
	st, _, admin, _ := chatFixture(t)
	// Already stored: one message of an existing conversation, and a
	// closed conversation the next text must not reuse.
	old, err := st.ReceiveSMS(ctx, sms("b-old", "+15550107001", "earlier"))
	if err != nil {
		t.Fatal(err)
	}
	closed, err := st.ReceiveSMS(ctx, sms("b-closed", "+15550107002", "done"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Close(ctx, admin, closed.Change.Conversation.ID); err != nil {
		t.Fatal(err)
	}
	unrouted := sms("b-unrouted", "+15550107003", "wrong number")
	unrouted.To = "+15550199999"
	ins := []models.InboundSMS{
		sms("b-1", "+15550107001", "existing conversation"), // 0
		sms("b-2", "+15550107004", "new sender, first"),     // 1
		sms("b-3", "+15550107004", "new sender, second"),    // 2
		sms("b-2", "+15550107004", "new sender, first"),     // 3: repeat in the batch
		sms("b-old", "+15550107001", "earlier"),             // 4: already stored
		unrouted,                                            // 5
		sms("b-4", "+15550107002", "back again"),            // 6: after a closed one
	}
	res, err := st.ReceiveBatch(ctx, inbound(ins...))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(ins) {
		t.Fatalf("%d results for %d messages", len(res), len(ins))
	}
	if !res[3].Duplicate || res[3].Change != nil || !res[4].Duplicate || res[4].Change != nil {
		t.Errorf("duplicates: %+v %+v", res[3], res[4])
	}
	if !res[5].Unrouted || res[5].Change != nil {
		t.Errorf("unrouted: %+v", res[5])
	}
	var unroutedRows int
	if err := st.DB().NewRaw("SELECT count(*) FROM unrouted_messages WHERE provider_message_id = 'b-unrouted'").Scan(ctx, &unroutedRows); err != nil || unroutedRows != 1 {
		t.Errorf("unrouted rows %d (%v)", unroutedRows, err)
	}

	// Existing conversation: one message event, counters moved.
	c0 := res[0].Change
	if c0 == nil || c0.Conversation.ID != old.Change.Conversation.ID || len(c0.Events) != 1 ||
		c0.Events[0].Kind != models.EvMessage || c0.Events[0].Message == nil || c0.Events[0].Message.Body != "existing conversation" {
		t.Fatalf("existing conversation change: %+v", c0)
	}
	if c0.Conversation.UnreadCount != 2 || c0.Conversation.LastMessagePreview != "existing conversation" {
		t.Errorf("existing conversation row: unread %d preview %q", c0.Conversation.UnreadCount, c0.Conversation.LastMessagePreview)
	}

	// New sender with two messages: one conversation, created once, both
	// messages in order, the row showing the later one.
	c1, c2 := res[1].Change, res[2].Change
	if c1 == nil || c2 == nil || c1.Conversation.ID != c2.Conversation.ID {
		t.Fatalf("new sender changes: %+v %+v", c1, c2)
	}
	if len(c1.Events) != 2 || c1.Events[0].Kind != models.EvCreated || c1.Events[1].Kind != models.EvMessage ||
		len(c2.Events) != 1 || c2.Events[0].Kind != models.EvMessage {
		t.Errorf("new sender events: %+v / %+v", c1.Events, c2.Events)
	}
	if !(c1.Events[0].ID < c1.Events[1].ID && c1.Events[1].ID < c2.Events[0].ID) {
		t.Errorf("events out of order: %d %d %d", c1.Events[0].ID, c1.Events[1].ID, c2.Events[0].ID)
	}
	row := c2.Conversation
	if row.Status != models.StatusNew || row.Origin != models.OriginRecipient || row.UnreadCount != 2 ||
		row.LastMessagePreview != "new sender, second" || row.RecipientPhone == nil || *row.RecipientPhone != "+15550107004" || row.InboxName == "" {
		t.Errorf("new sender row: %+v", row)
	}

	// After a closed conversation: a new one, linked to it.
	c6 := res[6].Change
	if c6 == nil || c6.Conversation.ID == closed.Change.Conversation.ID || c6.Conversation.PreviousID == nil ||
		*c6.Conversation.PreviousID != closed.Change.Conversation.ID {
		t.Fatalf("after closed: %+v", c6)
	}

	// The timeline the browser loads matches what the batch returned.
	tl, err := st.Timeline(ctx, admin, c1.Conversation.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(tl) != 3 || tl[1].Message == nil || tl[1].Message.Body != "new sender, first" || tl[2].Message.Body != "new sender, second" ||
		tl[1].Message.Encoding != "text" || tl[1].Message.Segments != 1 {
		t.Errorf("timeline: %+v", tl)
	}
	var stored int
	if err := st.DB().NewRaw("SELECT count(*) FROM messages WHERE provider_message_id IN ('b-1', 'b-2', 'b-3', 'b-4', 'b-old')").Scan(ctx, &stored); err != nil || stored != 5 {
		t.Errorf("stored %d messages (%v), want 5", stored, err)
	}
}

// TestReceiveSMSBatchRefusesKeywords: keywords and parts need the single
// path: Batchable keeps them out, and the batch refuses a keyword rather
// than skipping its effects.
func TestReceiveSMSBatchRefusesKeywords(t *testing.T) {
	st, _, _, _ := chatFixture(t)
	part := sms("bk-2", "+15550107011", "half")
	part.ConcatRef, part.Part, part.Total = "r", 1, 2
	for _, in := range []models.InboundSMS{sms("bk-1", "+15550107010", "STOP"), part} {
		if models.Batchable(in) {
			t.Errorf("%+v is batchable", in)
		}
		if models.MatchKeyword(in.Body) == "" {
			continue // a part: the batch cannot tell, and Batchable keeps it out
		}
		if _, err := st.ReceiveBatch(context.Background(), inbound(in)); err == nil {
			t.Errorf("batch took %+v", in)
		}
	}
}

// inbound turns SMS into the core's channel-neutral values.
func inbound(ins ...models.InboundSMS) []models.Inbound {
	out := make([]models.Inbound, len(ins))
	for i, in := range ins {
		out[i] = in.Inbound()
	}
	return out
}
