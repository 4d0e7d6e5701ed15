package models_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// bcastFixture is a ledger location with n recipients (phones) in one group.
type bcastFixture struct {
	*ledgerLoc
	group int64
	rcpts []int64
	base  int // the recipients' phone numbers are f.phone(base+i)
}

func newBcastFixture(t *testing.T, n, credits int) *bcastFixture {
	t.Helper()
	st := openStore(t)
	f := &bcastFixture{ledgerLoc: newLedgerLoc(t, st, credits, time.Now().Add(-time.Hour))}
	ctx := context.Background()
	f.base = int(ledgerSeq.Add(int64(n+1)) % 5_000_000)
	if err := st.DB().NewRaw(`INSERT INTO groups (org_id, name) VALUES (?, 'Parents') RETURNING id`, f.admin.OrgID).Scan(ctx, &f.group); err != nil {
		t.Fatalf("group: %v", err)
	}
	phones, names := make([]string, n), make([]string, n)
	for i := range n {
		phones[i], names[i] = f.phone(f.base+i), fmt.Sprintf("Pat%d Lee", i)
	}
	if err := st.DB().NewRaw(`INSERT INTO recipients (org_id, name, phone) SELECT ?, nm, ph FROM unnest(?::text[], ?::text[]) WITH ORDINALITY AS x(nm, ph, o)
		ORDER BY o RETURNING id`, f.admin.OrgID, pgdialect.Array(names), pgdialect.Array(phones)).Scan(ctx, &f.rcpts); err != nil {
		t.Fatalf("recipients: %v", err)
	}
	if _, err := st.DB().NewRaw(`INSERT INTO group_members (org_id, group_id, recipient_id) SELECT ?, ?, unnest(?::bigint[])`,
		f.admin.OrgID, f.group, pgdialect.Array(f.rcpts)).Exec(ctx); err != nil {
		t.Fatalf("members: %v", err)
	}
	return f
}

func (f *bcastFixture) input(name string) models.BroadcastInput {
	return models.BroadcastInput{Name: name, Channels: []string{models.ChannelSMS}, Audience: models.Audience{GroupIDs: []int64{f.group}},
		Body: "Hi {first_name|there}, school is closed tomorrow.", ChatEnabled: true}
}

func (f *bcastFixture) create(t *testing.T, in models.BroadcastInput) *models.BroadcastView {
	t.Helper()
	b, err := f.st.CreateBroadcast(context.Background(), f.admin, in)
	if err != nil {
		t.Fatalf("create broadcast: %v", err)
	}
	return b
}

// messagesPer counts the broadcast's messages per recipient.
func (f *bcastFixture) messagesPer(t *testing.T, id int64) map[int64]int {
	t.Helper()
	var rows []struct {
		R int64 `bun:"r"`
		N int   `bun:"n"`
	}
	if err := f.st.DB().NewRaw(`SELECT c.recipient_id AS r, count(*) AS n FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE c.broadcast_id = ? AND m.direction = 'outbound' GROUP BY c.recipient_id`, id).Scan(context.Background(), &rows); err != nil {
		t.Fatalf("messages per recipient: %v", err)
	}
	out := map[int64]int{}
	for _, r := range rows {
		out[r.R] = r.N
	}
	return out
}

func TestBroadcastFansOutOncePerRecipient(t *testing.T) {
	f := newBcastFixture(t, 30, 100000)
	ctx := context.Background()
	if _, err := f.st.SetConsent(ctx, f.admin, f.rcpts[3], models.ChannelSMS, true, "asked by phone"); err != nil {
		t.Fatalf("opt out: %v", err)
	}
	est, err := f.st.EstimateBroadcast(ctx, f.admin, f.input("Closure"))
	if err != nil {
		t.Fatalf("estimate: %v", err)
	}
	if est.Recipients != 30 || est.Reached != 29 || est.SkippedOptedOut != 1 || est.SMS != 29 || est.Credits != 29*2 || est.Shortfall != 0 {
		t.Fatalf("estimate = %+v", est)
	}
	b := f.create(t, f.input("Closure"))
	if b.Status != models.BroadcastScheduled || b.InboxID != f.inbox.ID {
		t.Fatalf("created = %+v", b.Broadcast)
	}
	rep, err := f.st.FanoutBroadcast(ctx, b.ID, nil)
	if err != nil {
		t.Fatalf("fan out: %v", err)
	}
	if rep.Messaged != 29 || rep.Skipped != 1 || rep.Status != models.BroadcastSent {
		t.Fatalf("report = %+v", rep)
	}
	// Again: nothing more.
	if rep, err = f.st.FanoutBroadcast(ctx, b.ID, nil); err != nil || rep.Messaged != 0 {
		t.Fatalf("second fan out = %+v, %v", rep, err)
	}
	per := f.messagesPer(t, b.ID)
	if len(per) != 29 || per[f.rcpts[3]] != 0 {
		t.Fatalf("messages per recipient = %v", per)
	}
	var body string
	if err := f.st.DB().NewRaw(`SELECT m.body FROM messages m JOIN broadcast_recipients br ON br.message_id = m.id
		WHERE br.broadcast_id = ? AND br.recipient_id = ?`, b.ID, f.rcpts[0]).Scan(ctx, &body); err != nil || body != "Hi Pat0, school is closed tomorrow." {
		t.Fatalf("body = %q, %v", body, err)
	}
	var sends int
	if err := f.st.DB().NewRaw(`SELECT count(*) FROM outbox WHERE task_type = 'sms:send' AND queue = 'bulk'
		AND (payload->>'message_id')::bigint IN (SELECT message_id FROM broadcast_recipients WHERE broadcast_id = ?)`, b.ID).Scan(ctx, &sends); err != nil || sends != 29 {
		t.Fatalf("bulk send tasks = %d, %v", sends, err)
	}
	v, err := f.st.BroadcastByID(ctx, f.admin, b.ID)
	if err != nil {
		t.Fatalf("view: %v", err)
	}
	if c := v.Counts; c.Total != 30 || c.Queued != 29 || c.SkippedOptedOut != 1 || c.Credits != 58 {
		t.Fatalf("counts = %+v", c)
	}
	// Charged: the usage page lists the broadcast with its cost.
	if _, err := f.st.ChargeLocation(ctx, f.loc.ID); err != nil {
		t.Fatal(err)
	}
	use, err := f.st.UsageByBroadcast(ctx, f.admin, f.loc.ID, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), 10)
	if err != nil || len(use) != 1 || use[0].BroadcastID != b.ID || use[0].Credits != 58 || use[0].Messages != 29 {
		t.Fatalf("usage by broadcast = %+v, %v", use, err)
	}
}

func TestBroadcastSkipsWhoStoppedBeforeItWent(t *testing.T) {
	f := newBcastFixture(t, 5, 100000)
	ctx := context.Background()
	in := f.input("Later")
	at := time.Now().Add(time.Hour)
	in.SendAt = &at
	b := f.create(t, in)
	if rep, err := f.st.FanoutBroadcast(ctx, b.ID, nil); err != nil || rep.Status != models.BroadcastScheduled || rep.Messaged != 0 {
		t.Fatalf("before its time: %+v, %v", rep, err)
	}
	f.receive(t, f.phone(f.base+2), "STOP")
	// Its time comes.
	if _, err := f.st.DB().NewRaw(`UPDATE broadcasts SET send_at = now() WHERE id = ?`, b.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := f.st.QueueDueBroadcasts(ctx); err != nil || n < 1 {
		t.Fatalf("queue due = %d, %v", n, err)
	}
	rep, err := f.st.FanoutBroadcast(ctx, b.ID, nil)
	if err != nil || rep.Messaged != 4 || rep.Skipped != 1 {
		t.Fatalf("fan out = %+v, %v", rep, err)
	}
	if per := f.messagesPer(t, b.ID); per[f.rcpts[2]] != 0 || len(per) != 4 {
		t.Fatalf("messages per recipient = %v", per)
	}
}

func TestBroadcastCancelMidFanout(t *testing.T) {
	f := newBcastFixture(t, 1200, 100000)
	ctx := context.Background()
	b := f.create(t, f.input("Cancel me"))
	calls := 0
	rep, err := f.st.FanoutBroadcast(ctx, b.ID, func(int64) {
		calls++
		if calls == 2 { // after the first batch committed
			if _, _, err := f.st.CancelBroadcast(ctx, f.admin, b.ID); err != nil {
				t.Errorf("cancel: %v", err)
			}
		}
	})
	if err != nil {
		t.Fatalf("fan out: %v", err)
	}
	if rep.Messaged != 500 || rep.Status != models.BroadcastCancelled {
		t.Fatalf("report = %+v", rep)
	}
	v, err := f.st.BroadcastByID(ctx, f.admin, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c := v.Counts; c.Cancelled != 700 || c.Failed != 500 || c.Queued != 0 || c.Credits != 0 {
		t.Fatalf("counts = %+v", c)
	}
	var pending int
	if err := f.st.DB().NewRaw(`SELECT count(*) FROM credit_pending WHERE location_id = ?`, f.loc.ID).Scan(ctx, &pending); err != nil || pending != 0 {
		t.Fatalf("pending charges after cancel = %d, %v", pending, err)
	}
	if _, _, err := f.st.CancelBroadcast(ctx, f.admin, b.ID); !errors.Is(err, models.ErrConflict) {
		t.Fatalf("second cancel: %v", err)
	}
}

func TestBroadcastInterruptedFanoutMessagesEachOnce(t *testing.T) {
	f := newBcastFixture(t, 1100, 100000)
	b := f.create(t, f.input("Interrupted"))
	// A worker dies after its first batch: its context ends mid-run.
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	if _, err := f.st.FanoutBroadcast(ctx, b.ID, func(int64) {
		if calls++; calls == 2 {
			cancel()
		}
	}); err == nil {
		t.Fatal("interrupted fan-out returned no error")
	}
	// Two workers resume it at once.
	var wg sync.WaitGroup
	reps := make([]models.FanoutReport, 2)
	for i := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.st.FanoutBroadcast(context.Background(), b.ID, nil)
			if err != nil {
				t.Errorf("resume %d: %v", i, err)
			}
			reps[i] = r
		}()
	}
	wg.Wait()
	if got := reps[0].Messaged + reps[1].Messaged; got != 600 {
		t.Fatalf("resumed workers messaged %d, want 600 (reports %+v)", got, reps)
	}
	per := f.messagesPer(t, b.ID)
	if len(per) != 1100 {
		t.Fatalf("%d recipients messaged, want 1100", len(per))
	}
	for r, n := range per {
		if n != 1 {
			t.Fatalf("recipient %d messaged %d times", r, n)
		}
	}
}

func TestBroadcastRefusedWithoutCredits(t *testing.T) {
	f := newBcastFixture(t, 10, 15)
	_, err := f.st.CreateBroadcast(context.Background(), f.admin, f.input("Too big"))
	var ice *models.InsufficientCreditsError
	if !errors.As(err, &ice) || ice.Needed != 20 || ice.Available != 15 {
		t.Fatalf("create = %v", err)
	}
	// Scheduled: stored, and failed when it comes due.
	in := f.input("Later too big")
	at := time.Now().Add(time.Hour)
	in.SendAt = &at
	b := f.create(t, in)
	if _, err := f.st.DB().NewRaw(`UPDATE broadcasts SET send_at = now() WHERE id = ?`, b.ID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep, err := f.st.FanoutBroadcast(context.Background(), b.ID, nil)
	if err != nil || rep.Status != models.BroadcastFailed || rep.Messaged != 0 {
		t.Fatalf("fan out = %+v, %v", rep, err)
	}
	v, _ := f.st.BroadcastByID(context.Background(), f.admin, b.ID)
	if v.StatusReason != "Insufficient credits: the broadcast needs 20, the balance is 15 (5 short)" {
		t.Fatalf("reason = %q", v.StatusReason)
	}
}

func TestBroadcastReplyOpensMarkedChat(t *testing.T) {
	f := newBcastFixture(t, 3, 100000)
	ctx := context.Background()
	b := f.create(t, f.input("Ask"))
	if _, err := f.st.FanoutBroadcast(ctx, b.ID, nil); err != nil {
		t.Fatal(err)
	}
	res := f.receive(t, f.phone(f.base), "Is the bus running?")
	f.receive(t, f.phone(f.base+1), "STOP")
	var conv models.Conversation
	if err := f.st.DB().NewSelect().Model(&conv).Where("recipient_id = ? AND status <> 'closed'", f.rcpts[0]).Scan(ctx); err != nil {
		t.Fatalf("reply conversation: %v (%+v)", err, res)
	}
	if conv.Origin != models.OriginBroadcast || conv.BroadcastID == nil || *conv.BroadcastID != b.ID || conv.PreviousID == nil {
		t.Fatalf("reply conversation = %+v", conv)
	}
	page, err := f.st.BroadcastReplies(ctx, f.admin, b.ID, models.BroadcastReplyFilter{})
	if err != nil {
		t.Fatal(err)
	}
	states := map[int64]string{}
	for _, r := range page.Rows {
		states[r.RecipientID] = r.State
	}
	if states[f.rcpts[0]] != models.ReplyStateReplied || states[f.rcpts[1]] != models.ReplyStateOptedOut ||
		states[f.rcpts[2]] != models.ReplyStatePending {
		t.Fatalf("states = %v", states)
	}
	v, err := f.st.BroadcastByID(ctx, f.admin, b.ID)
	if err != nil || v.Counts.Replied != 1 || v.Counts.OptedOutAfter != 1 {
		t.Fatalf("counts = %+v, %v", v.Counts, err)
	}
	// Not chat-enabled: a reply is an ordinary chat.
	in := f.input("Notice")
	in.ChatEnabled = false
	b2 := f.create(t, in)
	if _, err := f.st.FanoutBroadcast(ctx, b2.ID, nil); err != nil {
		t.Fatal(err)
	}
	f.receive(t, f.phone(f.base+2), "ok")
	var c2 models.Conversation
	if err := f.st.DB().NewSelect().Model(&c2).Where("recipient_id = ? AND status <> 'closed'", f.rcpts[2]).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if c2.Origin != models.OriginRecipient || c2.BroadcastID != nil {
		t.Fatalf("reply to a plain broadcast = %+v", c2)
	}
}

func TestBroadcastHoldsTextsInQuietHours(t *testing.T) {
	f := newBcastFixture(t, 2, 100000)
	ctx := context.Background()
	now := time.Now().UTC()
	// Quiet from an hour ago to an hour from now, UTC clock; the first
	// recipient lives in UTC (held), the second six hours ahead (not).
	if _, err := f.st.DB().NewRaw(`UPDATE locations SET timezone = 'UTC', quiet_start = ?, quiet_end = ? WHERE id = ?`,
		now.Add(-time.Hour).Format("15:04"), now.Add(time.Hour).Format("15:04"), f.loc.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.DB().NewRaw(`UPDATE recipients SET timezone = CASE WHEN id = ? THEN 'UTC' ELSE 'Etc/GMT-6' END WHERE id IN (?, ?)`,
		f.rcpts[0], f.rcpts[0], f.rcpts[1]).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	in := f.input("Quiet")
	in.RespectQuietHours = true
	b := f.create(t, in)
	rep, err := f.st.FanoutBroadcast(ctx, b.ID, nil)
	if err != nil || rep.Messaged != 1 || rep.Held != 1 || rep.Status != models.BroadcastSending || rep.NextDue.Before(now) {
		t.Fatalf("fan out = %+v, %v", rep, err)
	}
	if per := f.messagesPer(t, b.ID); per[f.rcpts[1]] != 1 || per[f.rcpts[0]] != 0 {
		t.Fatalf("messages per recipient = %v", per)
	}
	due, err := f.st.DueBroadcasts(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range due {
		if id == b.ID {
			t.Fatal("a broadcast holding rows for quiet hours is due")
		}
	}
	// The morning comes.
	if _, err := f.st.DB().NewRaw(`UPDATE broadcast_recipients SET due_at = now() WHERE broadcast_id = ?`, b.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if rep, err = f.st.FanoutBroadcast(ctx, b.ID, nil); err != nil || rep.Messaged != 1 || rep.Status != models.BroadcastSent {
		t.Fatalf("after quiet hours = %+v, %v", rep, err)
	}
	// An emergency broadcast ignores quiet hours.
	in.Emergency, in.Name = true, "Emergency"
	e := f.create(t, in)
	if rep, err = f.st.FanoutBroadcast(ctx, e.ID, nil); err != nil || rep.Messaged != 2 || rep.Held != 0 {
		t.Fatalf("emergency = %+v, %v", rep, err)
	}
}

func TestEmailBroadcastRepliesThreadPerRecipient(t *testing.T) {
	f := newBcastFixture(t, 2, 100000)
	ctx := context.Background()
	addr := fmt.Sprintf("news-%s@inbound.parley.test", f.tag)
	name := "Newsletter"
	ib, err := f.st.CreateInbox(ctx, f.admin, models.InboxInput{Name: &name, LocationID: &f.loc.ID, EmailAddress: &addr})
	if err != nil {
		t.Fatal(err)
	}
	emails := []string{fmt.Sprintf("ana-%s@example.test", f.tag), fmt.Sprintf("ben-%s@example.test", f.tag)}
	for i, e := range emails {
		if _, err := f.st.DB().NewRaw(`UPDATE recipients SET email = ?, name = ? WHERE id = ?`, e, []string{"Ana Diaz", "Ben Ode"}[i], f.rcpts[i]).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	in := f.input("Newsletter")
	in.InboxID, in.Channels, in.Subject = ib.ID, []string{models.ChannelEmail}, "News for {first_name}"
	b := f.create(t, in)
	if rep, err := f.st.FanoutBroadcast(ctx, b.ID, nil); err != nil || rep.Messaged != 2 {
		t.Fatalf("fan out = %+v, %v", rep, err)
	}
	var threads []struct {
		R       int64  `bun:"r"`
		Token   string `bun:"token"`
		Subject string `bun:"subject"`
	}
	if err := f.st.DB().NewRaw(`SELECT c.recipient_id AS r, t.token, t.subject FROM email_threads t JOIN conversations c ON c.id = t.conversation_id
		WHERE c.broadcast_id = ? ORDER BY c.recipient_id`, b.ID).Scan(ctx, &threads); err != nil || len(threads) != 2 {
		t.Fatalf("threads = %+v, %v", threads, err)
	}
	if threads[0].Subject != "News for Ana" || threads[1].Subject != "News for Ben" || threads[0].Token == threads[1].Token {
		t.Fatalf("threads = %+v", threads)
	}
	// Both reply; Ben replies through Ana's reply address (a forwarded
	// mail): his reply is still his own chat.
	for i, e := range emails {
		tok := threads[0].Token
		if _, err := f.st.ReceiveEmail(ctx, models.InboundEmail{To: "reply+" + tok + "@inbound.parley.test", Token: tok, From: e,
			Subject: "Re: News", HeaderID: fmt.Sprintf("<r%d-%s@example.test>", i, f.tag), Text: "Thanks!", FullText: "Thanks!",
			ReceivedAt: time.Now()}); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
	}
	var chats []models.Conversation
	if err := f.st.DB().NewSelect().Model(&chats).Where("inbox_id = ? AND status <> 'closed'", ib.ID).Order("recipient_id").Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if len(chats) != 2 || chats[0].RecipientID == chats[1].RecipientID {
		t.Fatalf("reply chats = %+v", chats)
	}
	for _, c := range chats {
		if c.BroadcastID == nil || *c.BroadcastID != b.ID || c.Origin != models.OriginBroadcast {
			t.Fatalf("reply chat not marked: %+v", c)
		}
	}
}

// A broadcast's own conversations (the fan-out's, opened closed) are not
// chats: the Chats list leaves them out in every status, while a reply's
// chat is listed, open and once closed. One someone reopens is a chat
// like any other, and stays listed after it is closed again.
func TestBroadcastConversationsNotListedAsChats(t *testing.T) {
	f := newBcastFixture(t, 3, 100000)
	ctx := context.Background()
	b := f.create(t, f.input("Listed"))
	if _, err := f.st.FanoutBroadcast(ctx, b.ID, nil); err != nil {
		t.Fatal(err)
	}
	convOf := func(rcpt int64, where string) int64 {
		t.Helper()
		var id int64
		if err := f.st.DB().NewRaw("SELECT id FROM conversations WHERE recipient_id = ? AND "+where+" ORDER BY id DESC LIMIT 1", rcpt).Scan(ctx, &id); err != nil {
			t.Fatalf("conversation of %d (%s): %v", rcpt, where, err)
		}
		return id
	}
	listed := func(status string) map[int64]bool {
		t.Helper()
		page, err := f.st.Conversations(ctx, f.admin, models.ConversationFilter{Status: status, InboxID: f.inbox.ID})
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]bool{}
		for _, r := range page.Rows {
			out[r.ID] = true
		}
		return out
	}
	fanned := []int64{convOf(f.rcpts[0], "origin = 'broadcast'"), convOf(f.rcpts[1], "origin = 'broadcast'"), convOf(f.rcpts[2], "origin = 'broadcast'")}
	for _, st := range []string{"closed", "all"} {
		if got := listed(st); len(got) != 0 {
			t.Fatalf("%s list after the fan-out = %v, want none of the broadcast's conversations", st, got)
		}
	}
	f.receive(t, f.phone(f.base), "Is the bus running?")
	chat := convOf(f.rcpts[0], "status <> 'closed'")
	if got := listed("all"); len(got) != 1 || !got[chat] {
		t.Fatalf("all after a reply = %v, want the reply's chat %d alone", got, chat)
	}
	if _, err := f.st.Close(ctx, f.admin, chat); err != nil {
		t.Fatal(err)
	}
	if got := listed("closed"); len(got) != 1 || !got[chat] {
		t.Fatalf("closed after closing the reply's chat = %v, want %d alone", got, chat)
	}
	// Reopened, then closed again: a chat now.
	if _, err := f.st.Reopen(ctx, f.admin, fanned[1]); err != nil {
		t.Fatal(err)
	}
	if got := listed(""); !got[fanned[1]] {
		t.Fatalf("active after reopening %d = %v", fanned[1], got)
	}
	if _, err := f.st.Close(ctx, f.admin, fanned[1]); err != nil {
		t.Fatal(err)
	}
	if got := listed("closed"); len(got) != 2 || !got[fanned[1]] || got[fanned[2]] {
		t.Fatalf("closed after reopening and closing %d = %v, want it and %d", fanned[1], got, chat)
	}
}
