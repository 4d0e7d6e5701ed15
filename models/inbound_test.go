package models_test

import (
	"context"
	"sync"
	"testing"

	"github.com/parley-chat/parley/models"
)

func sms(id, from, body string) models.InboundSMS {
	return models.InboundSMS{Provider: "vonage", ProviderMessageID: id, From: from, To: "+15550100100", Body: body}
}

func TestMatchKeyword(t *testing.T) {
	for body, want := range map[string]string{
		"STOP": "stop", " stop ": "stop", "s t o p": "stop", "Opt-Out": "stop", "optout": "stop", "StopAll": "stop",
		"unsubscribe": "stop", "cancel": "stop", "END": "stop", "quit": "stop", "revoke": "stop",
		"start": "start", "UNSTOP": "start", "help": "help",
		"stop please": "", "please stop": "", "": "", "stopp": "", "helpful": "",
	} {
		if got := models.MatchKeyword(body); got != want {
			t.Errorf("MatchKeyword(%q) = %q, want %q", body, got, want)
		}
	}
}

func TestReceiveSMSOnceUnderRetries(t *testing.T) {
	ctx := context.Background()
	st, _, _, _ := chatFixture(t)
	in := sms("dup-1", "+15550100801", "Is the office open today?")
	var wg sync.WaitGroup
	results := make(chan *models.InboundResult, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := st.ReceiveSMS(ctx, in)
			if err != nil {
				t.Error(err)
				return
			}
			results <- r
		}()
	}
	wg.Wait()
	close(results)
	stored := 0
	for r := range results {
		if r.Change != nil {
			stored++
			if r.Change.Conversation.Status != models.StatusNew || r.Change.Conversation.UnreadCount != 1 || r.Change.Conversation.Origin != models.OriginRecipient {
				t.Errorf("conversation %+v", r.Change.Conversation)
			}
		} else if !r.Duplicate {
			t.Errorf("a retry was neither stored nor a duplicate: %+v", r)
		}
	}
	var n int
	st.DB().NewRaw("SELECT count(*) FROM messages WHERE provider_message_id = 'dup-1'").Scan(ctx, &n)
	if stored != 1 || n != 1 {
		t.Fatalf("stored %d times, %d rows", stored, n)
	}
}

func TestReceiveConcatenated(t *testing.T) {
	ctx := context.Background()
	st, _, _, _ := chatFixture(t)
	part := func(id string, p int, body string) models.InboundSMS {
		in := sms(id, "+15550100802", body)
		in.ConcatRef, in.Part, in.Total = "ref-7", p, 3
		return in
	}
	for _, step := range []struct {
		in        models.InboundSMS
		pending   bool
		duplicate bool
		done      bool
	}{
		{part("c-3", 3, "three."), true, false, false},
		{part("c-1", 1, "One, "), true, false, false},
		{part("c-1", 1, "One, "), false, true, false}, // a retried part
		{part("c-2", 2, "two, "), false, false, true},
	} {
		r, err := st.ReceiveSMS(ctx, step.in)
		if err != nil {
			t.Fatal(err)
		}
		if r.Pending != step.pending || r.Duplicate != step.duplicate || (r.Change != nil) != step.done {
			t.Fatalf("part %s: %+v", step.in.ProviderMessageID, r)
		}
		if step.done && r.Change.Events[len(r.Change.Events)-1].Message.Body != "One, two, three." {
			t.Fatalf("assembled %q", r.Change.Events[len(r.Change.Events)-1].Message.Body)
		}
	}
}

func TestReceiveUnroutedKept(t *testing.T) {
	ctx := context.Background()
	st, _, _, _ := chatFixture(t)
	in := sms("lost-1", "+15550100803", "hello?")
	in.To = "+15550199999"
	for i := 0; i < 2; i++ {
		r, err := st.ReceiveSMS(ctx, in)
		if err != nil || !r.Unrouted || r.Change != nil {
			t.Fatalf("unrouted: %+v %v", r, err)
		}
	}
	var n int
	st.DB().NewRaw("SELECT count(*) FROM unrouted_messages WHERE provider_message_id = 'lost-1'").Scan(ctx, &n)
	if n != 1 {
		t.Fatalf("unrouted rows %d", n)
	}
}

func TestStopStartHelp(t *testing.T) {
	ctx := context.Background()
	st, demo, admin, _ := chatFixture(t)
	from := "+15550100804"
	first, err := st.ReceiveSMS(ctx, sms("k-0", from, "hi there"))
	if err != nil {
		t.Fatal(err)
	}
	convID := first.Change.Conversation.ID
	// An agent's reply is queued when the STOP arrives.
	queued, err := st.Reply(ctx, admin, convID, "We will call you back", false)
	if err != nil {
		t.Fatal(err)
	}
	queuedID := queued.Events[len(queued.Events)-1].Message.ID

	stop, err := st.ReceiveSMS(ctx, sms("k-1", from, " Stop "))
	if err != nil || stop.Keyword != models.KeywordStop {
		t.Fatalf("stop: %+v %v", stop, err)
	}
	kinds := map[string]int{}
	for _, e := range stop.Change.Events {
		kinds[e.Kind]++
	}
	if kinds[models.EvOptedOut] != 1 || kinds[models.EvMessage] != 2 { // the STOP itself + one confirmation
		t.Fatalf("stop events %v", kinds)
	}
	var status string
	st.DB().NewRaw("SELECT status FROM messages WHERE id = ?", queuedID).Scan(ctx, &status)
	if status != models.MsgFailed {
		t.Fatalf("a send queued before the STOP is %q", status)
	}
	if _, err := st.Reply(ctx, admin, convID, "one more thing", false); err == nil {
		t.Fatal("a reply after STOP was accepted")
	}
	again, _ := st.ReceiveSMS(ctx, sms("k-2", from, "STOP"))
	for _, e := range again.Change.Events {
		if e.Kind == models.EvOptedOut || (e.Message != nil && e.Message.Direction == "outbound") {
			t.Fatalf("a second STOP confirmed again: %+v", e)
		}
	}
	var confirmations, history int
	st.DB().NewRaw("SELECT count(*) FROM messages WHERE conversation_id = ? AND author_type = 'automation' AND compliance", convID).Scan(ctx, &confirmations)
	st.DB().NewRaw("SELECT count(*) FROM recipient_consent_events WHERE action = 'opt_out'").Scan(ctx, &history)
	if confirmations != 1 || history < 1 {
		t.Fatalf("confirmations %d, history %d", confirmations, history)
	}

	start, _ := st.ReceiveSMS(ctx, sms("k-3", from, "start"))
	if start.Keyword != models.KeywordStart || start.Change.Conversation.OptedOut {
		t.Fatalf("start: %+v", start.Change.Conversation)
	}
	help, _ := st.ReceiveSMS(ctx, sms("k-4", from, "HELP"))
	last := help.Change.Events[len(help.Change.Events)-1]
	if last.Message == nil || last.Message.AuthorType != "automation" || last.Message.Body != demo.Inbox.HelpText { // it already ends with a STOP sentence
		t.Fatalf("help reply: %+v", last.Message)
	}
}

func TestInboundToClosedStartsLinkedConversation(t *testing.T) {
	ctx := context.Background()
	st, _, admin, _ := chatFixture(t)
	r1, err := st.ReceiveSMS(ctx, sms("l-1", "+15550100805", "first"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Close(ctx, admin, r1.Change.Conversation.ID); err != nil {
		t.Fatal(err)
	}
	r2, err := st.ReceiveSMS(ctx, sms("l-2", "+15550100805", "second"))
	if err != nil {
		t.Fatal(err)
	}
	c2 := r2.Change.Conversation
	if c2.ID == r1.Change.Conversation.ID || c2.PreviousID == nil || *c2.PreviousID != r1.Change.Conversation.ID || c2.Status != models.StatusNew {
		t.Fatalf("new conversation %+v", c2)
	}
}
