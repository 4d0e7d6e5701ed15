package webhook_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/channels/sms"
	"github.com/parley-chat/parley/http/webhook"
	"github.com/parley-chat/parley/models"
)

// TestInboundEveryEncoding delivers the same kind of inbound SMS (and a
// two-part one) as a GET query, a POST form and a POST JSON body, with and
// without a signature secret: each is stored once with its text intact,
// answered 200 and shown (Notify) once, and the outbox relay is kicked.
func TestInboundEveryEncoding(t *testing.T) {
	const text = "Hi & bye = ok + 50% ünïcödé ✓ <b>"
	for _, cfg := range []struct {
		name string
		cfg  webhook.Config
	}{
		{"unsigned", webhook.Config{}},
		{"signed sha256", signedConfig(sms.SignatureSHA256)},
		{"signed md5hash", signedConfig(sms.SignatureMD5Hash)},
	} {
		for _, enc := range encodings {
			t.Run(cfg.name+"/"+enc.String(), func(t *testing.T) {
				f := newFixture(t, cfg.cfg)
				from, id := newPhone(), newID("enc")
				before := f.counts()
				code, body := f.send(inboundPath, enc, f.sign(inbound(id, from, text)))
				if code != http.StatusOK {
					t.Fatalf("status %d %q", code, body)
				}
				got, n := f.inboundBody(id)
				if n != 1 || got != text {
					t.Fatalf("stored %d messages, body %q; want 1, %q", n, got, text)
				}
				if d := f.counts().Messages - before.Messages; d != 1 {
					t.Errorf("%d messages added, want 1", d)
				}
				calls, ids := f.rec.inboundMessageCalls()
				if calls != 1 || len(ids) != 1 || f.rec.calls() != 1 {
					t.Errorf("Notify: %d calls, %d with an inbound message (%d ids); want 1", f.rec.calls(), calls, len(ids))
				}
				evs := f.rec.events()
				if len(evs) < 2 || evs[0].Kind != models.EvCreated || evs[len(evs)-1].Message == nil ||
					evs[len(evs)-1].Message.Body != text || evs[len(evs)-1].Message.Status != models.MsgReceived {
					t.Errorf("events %+v", evs)
				}
				if k := f.kicks.Load(); k != 1 {
					t.Errorf("kicked %d times, want 1", k)
				}
				var phone string
				if err := f.store.DB().NewRaw(`SELECT r.phone FROM messages m JOIN conversations c ON c.id = m.conversation_id
					JOIN recipients r ON r.id = c.recipient_id WHERE m.provider_message_id = ?`, id).Scan(context.Background(), &phone); err != nil || phone != from {
					t.Errorf("recipient phone %q (%v), want %q", phone, err, from)
				}

				// The same sender's two-part message, in the same encoding.
				ref := newID("ref")
				p1, p2 := newID("p1"), newID("p2")
				for i, p := range []url.Values{part(p1, from, ref, 1, 2, "First half & "), part(p2, from, ref, 2, 2, "second = half")} {
					if code, body := f.send(inboundPath, enc, f.sign(p)); code != http.StatusOK {
						t.Fatalf("part %d: status %d %q", i+1, code, body)
					}
				}
				if got, n := f.inboundBody(p2); n != 1 || got != "First half & second = half" {
					t.Fatalf("concatenated: %d messages, body %q", n, got)
				}
				if calls, _ := f.rec.inboundMessageCalls(); calls != 2 {
					t.Errorf("Notify with inbound messages: %d, want 2", calls)
				}
			})
		}
	}
}

// TestInboundJSONScalars: Vonage's JSON may carry numbers and booleans;
// their literal text is what is signed and read.
func TestInboundJSONScalars(t *testing.T) {
	f := newFixture(t, signedConfig(sms.SignatureSHA512))
	from, ref := newPhone(), newID("ref")
	for i, id := range []string{newID("js1"), newID("js2")} {
		p := f.sign(part(id, from, ref, i+1, 2, fmt.Sprintf("part %d. ", i+1)))
		var b strings.Builder
		b.WriteString("{")
		first := true
		for k := range p {
			if !first {
				b.WriteString(",")
			}
			first = false
			v := p.Get(k)
			switch k {
			case "concat", "concat-part", "concat-total", "msisdn":
				fmt.Fprintf(&b, "%q:%s", k, v) // bare number or boolean
			default:
				fmt.Fprintf(&b, "%q:%q", k, v)
			}
		}
		b.WriteString(`,"nonce":null}`)
		if code, body := f.raw(http.MethodPost, inboundPath, "", "application/json", []byte(b.String())); code != http.StatusOK {
			t.Fatalf("part %d: %d %q (%s)", i+1, code, body, b.String())
		}
	}
	if calls, _ := f.rec.inboundMessageCalls(); calls != 1 {
		t.Fatalf("Notify with inbound messages: %d, want 1", calls)
	}
}

// TestInboundDuplicates is R1 at the scale of a unit test: 50 distinct
// signed messages (from 10 senders, some of them HELP) each posted 10 times
// in all three encodings: ten of them five times at once, the rest of the
// deliveries shuffled and sent by 24 concurrent clients.
// Every request is answered 200; exactly 50 messages are stored, 50 Notify
// calls carry them (one per message), and each HELP gets one answer.
func TestInboundDuplicates(t *testing.T) {
	const distinct, retries, senders, workers = 50, 10, 10, 24
	f := newFixture(t, signedConfig(sms.SignatureSHA256))
	phones := make([]string, senders)
	for i := range phones {
		phones[i] = newPhone()
	}
	type job struct {
		msg int
		enc encoding
	}
	ids := make([]string, distinct)
	params := make([]url.Values, distinct)
	help := 0
	for i := range distinct {
		ids[i] = newID("dup")
		text := fmt.Sprintf("Message %d: is the office open today?", i)
		if i%10 == 3 {
			text = "HELP"
			help++
		}
		params[i] = f.sign(inbound(ids[i], phones[i%senders], text))
	}
	// The first ten messages arrive five times at once (their first
	// delivery racing its retries); every other delivery is shuffled and
	// sent by the workers.
	var burst, jobs []job
	for i := range distinct {
		for r := range retries {
			j := job{msg: i, enc: encodings[(i+r)%3]}
			if i < 10 && r < 5 {
				burst = append(burst, j)
			} else {
				jobs = append(jobs, j)
			}
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(jobs), func(a, b int) { jobs[a], jobs[b] = jobs[b], jobs[a] })
	before := f.counts()

	var mu sync.Mutex
	statuses := map[int]int{}
	var failures []string
	post := func(j job) {
		q, ct, body := encode(j.enc, params[j.msg])
		method := http.MethodPost
		if j.enc == encGET {
			method = http.MethodGet
		}
		code, text, err := f.try(method, inboundPath, q, ct, body)
		mu.Lock()
		defer mu.Unlock()
		statuses[code]++
		if err != nil || code != http.StatusOK {
			failures = append(failures, fmt.Sprintf("message %d (%s): %d %q %v", j.msg, j.enc, code, text, err))
		}
	}
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for _, j := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			post(j)
		}()
	}
	close(gate)
	wg.Wait()
	queue := make(chan job)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				post(j)
			}
		}()
	}
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()

	if len(failures) > 0 {
		t.Fatalf("statuses %v; %d failures, e.g. %s", statuses, len(failures), failures[0])
	}
	after := f.counts()
	if got := f.intQuery(`SELECT count(*) FROM messages WHERE direction = 'inbound' AND provider_message_id = ANY(?)`,
		pgArray(ids)); got != distinct {
		t.Errorf("%d inbound messages stored, want %d", got, distinct)
	}
	if got := f.intQuery(`SELECT count(DISTINCT provider_message_id) FROM messages WHERE provider_message_id = ANY(?)`,
		pgArray(ids)); got != distinct {
		t.Errorf("%d distinct ids stored, want %d", got, distinct)
	}
	if d := after.Messages - before.Messages; d != distinct+help {
		t.Errorf("%d messages added, want %d inbound + %d HELP answers", d, distinct, help)
	}
	if got := f.intQuery(`SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
		JOIN recipients r ON r.id = c.recipient_id WHERE r.phone = ANY(?) AND m.direction = 'outbound' AND m.compliance`,
		pgArray(phones)); got != help {
		t.Errorf("%d HELP answers queued, want %d (no duplicate auto-reply)", got, help)
	}
	calls, notified := f.rec.inboundMessageCalls()
	if calls != distinct || len(notified) != distinct {
		t.Errorf("Notify: %d calls with an inbound message for %d distinct messages; want %d", calls, len(notified), distinct)
	}
	for id, n := range notified {
		if n != 1 {
			t.Errorf("message %d notified %d times", id, n)
		}
	}
	if k := f.kicks.Load(); k != distinct {
		t.Errorf("kicked %d times, want %d", k, distinct)
	}
	// One conversation per sender, each with its five messages unread.
	if got := f.intQuery(`SELECT count(*) FROM conversations c JOIN recipients r ON r.id = c.recipient_id
		WHERE r.phone = ANY(?) AND c.unread_count = ?`, pgArray(phones), distinct/senders); got != senders {
		t.Errorf("%d conversations with %d unread, want %d", got, distinct/senders, senders)
	}
}

// pgArray formats strings as a PostgreSQL text[] literal.
func pgArray(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	return "{" + strings.Join(q, ",") + "}"
}

// TestInboundConcatenated: the parts of a long message arrive out of order
// and repeated; the whole text is stored once, when the last missing part
// arrives, and every earlier answer is 200 with nothing shown.
func TestInboundConcatenated(t *testing.T) {
	texts := []string{"Part one, ", "part two, ", "part three."}
	whole := strings.Join(texts, "")
	for _, tc := range []struct {
		name  string
		steps []int // part numbers in arrival order
		done  int   // index of the step after which the message exists
	}{
		{"3 1 1 2", []int{3, 1, 1, 2}, 3},
		{"3 1 2 then retries", []int{3, 1, 2, 2, 3, 1}, 2},
		{"1 2 3", []int{1, 2, 3}, 2},
		{"2 2 3 3 1", []int{2, 2, 3, 3, 1}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, signedConfig(sms.SignatureSHA1))
			from, ref := newPhone(), newID("ref")
			ids := []string{newID("c1"), newID("c2"), newID("c3")}
			for i, n := range tc.steps {
				p := f.sign(part(ids[n-1], from, ref, n, 3, texts[n-1]))
				if code, body := f.send(inboundPath, encodings[i%3], p); code != http.StatusOK {
					t.Fatalf("step %d (part %d): %d %q", i, n, code, body)
				}
				stored := f.intQuery(`SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
					JOIN recipients r ON r.id = c.recipient_id WHERE r.phone = ? AND m.direction = 'inbound'`, from)
				calls, _ := f.rec.inboundMessageCalls()
				want := 0
				if i >= tc.done {
					want = 1
				}
				if stored != want || calls != want || f.rec.calls() != want {
					t.Fatalf("after step %d (part %d): %d messages, %d Notify calls; want %d", i, n, stored, f.rec.calls(), want)
				}
			}
			var body, pid string
			if err := f.store.DB().NewRaw(`SELECT m.body, m.provider_message_id FROM messages m JOIN conversations c ON c.id = m.conversation_id
				JOIN recipients r ON r.id = c.recipient_id WHERE r.phone = ?`, from).Scan(context.Background(), &body, &pid); err != nil {
				t.Fatal(err)
			}
			if body != whole {
				t.Errorf("body %q, want %q", body, whole)
			}
			if n := f.intQuery(`SELECT count(*) FROM inbound_parts WHERE concat_ref = ? AND consumed_at IS NOT NULL`, ref); n != 3 {
				t.Errorf("%d parts consumed, want 3", n)
			}
		})
	}

	t.Run("all parts concurrently, each three times", func(t *testing.T) {
		f := newFixture(t, signedConfig(sms.SignatureSHA1))
		from, ref := newPhone(), newID("ref")
		var wg sync.WaitGroup
		errs := make(chan string, 9)
		for rep := range 3 {
			for n := 1; n <= 3; n++ {
				p := f.sign(part(fmt.Sprintf("%s-part%d", ref, n), from, ref, n, 3, texts[n-1]))
				wg.Add(1)
				go func() {
					defer wg.Done()
					q, ct, body := encode(encodings[rep], p)
					method := http.MethodPost
					if rep == 0 {
						method = http.MethodGet
					}
					if code, text, err := f.try(method, inboundPath, q, ct, body); err != nil || code != http.StatusOK {
						errs <- fmt.Sprintf("part %d: %d %q %v", n, code, text, err)
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		var bodies []string
		if err := f.store.DB().NewRaw(`SELECT m.body FROM messages m JOIN conversations c ON c.id = m.conversation_id
			JOIN recipients r ON r.id = c.recipient_id WHERE r.phone = ?`, from).Scan(context.Background(), &bodies); err != nil {
			t.Fatal(err)
		}
		if len(bodies) != 1 || bodies[0] != whole {
			t.Fatalf("stored %q, want once %q", bodies, whole)
		}
		if calls, _ := f.rec.inboundMessageCalls(); calls != 1 {
			t.Errorf("Notify with the message: %d, want 1", calls)
		}
	})
}

// TestInboundUnrouted: a message to a number no inbox owns is answered
// 200 (so Vonage stops retrying), kept once in unrouted_messages, and
// creates no recipient, conversation or live event.
func TestInboundUnrouted(t *testing.T) {
	for _, enc := range encodings {
		t.Run(enc.String(), func(t *testing.T) {
			f := newFixture(t, signedConfig(sms.SignatureSHA256))
			from, id := newPhone(), newID("unrouted")
			p := inbound(id, from, "Wrong number?")
			p.Set("to", "15550199999")
			before := f.counts()
			for try := range 3 { // the first delivery and two retries
				if code, body := f.send(inboundPath, enc, f.sign(p)); code != http.StatusOK {
					t.Fatalf("try %d: %d %q", try, code, body)
				}
			}
			after := f.counts()
			var row struct {
				Msisdn   string `bun:"msisdn"`
				ToNumber string `bun:"to_number"`
				Body     string `bun:"body"`
			}
			if err := f.store.DB().NewRaw(`SELECT msisdn, to_number, body FROM unrouted_messages WHERE provider = 'vonage' AND provider_message_id = ?`,
				id).Scan(context.Background(), &row); err != nil {
				t.Fatal(err)
			}
			if row.Msisdn != from || row.ToNumber != "+15550199999" || row.Body != "Wrong number?" {
				t.Errorf("unrouted row %+v", row)
			}
			if after.Unrouted-before.Unrouted != 1 || after.Messages != before.Messages || after.Recipients != before.Recipients ||
				after.Events != before.Events {
				t.Errorf("counts before %+v after %+v; want exactly one unrouted row", before, after)
			}
			if n := f.intQuery(`SELECT count(*) FROM recipients WHERE phone = ?`, from); n != 0 {
				t.Errorf("%d recipients for the sender", n)
			}
			if f.rec.calls() != 0 || f.kicks.Load() != 0 {
				t.Errorf("Notify %d, kick %d; want none", f.rec.calls(), f.kicks.Load())
			}
		})
	}
}

// TestInboundStop: STOP (in its spellings) through the webhook opts the
// sender out and queues exactly one compliance confirmation (with its
// outbox row), kicks the relay and shows it; a retry and a second STOP
// queue no second confirmation; START afterwards queues one more.
func TestInboundStop(t *testing.T) {
	for _, word := range []string{"STOP", " stop ", "Unsubscribe", "s t o p"} {
		t.Run(strings.TrimSpace(word), func(t *testing.T) {
			f := newFixture(t, signedConfig(sms.SignatureMD5))
			from := newPhone()
			// Something queued before the STOP must never go out.
			queued, err := f.store.StartConversation(context.Background(), f.scope(),
				models.StartInput{InboxID: f.demo.Inbox.ID, To: from, Body: "Reminder: your visit is tomorrow."})
			if err != nil {
				t.Fatal(err)
			}
			var queuedID int64
			for _, ev := range queued.Events {
				if ev.Kind == models.EvMessage && ev.MessageID != nil {
					queuedID = *ev.MessageID
				}
			}
			confirmations := func() int {
				return f.intQuery(`SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
					JOIN recipients r ON r.id = c.recipient_id
					WHERE r.phone = ? AND m.direction = 'outbound' AND m.compliance AND m.status = 'queued'
					  AND EXISTS (SELECT 1 FROM outbox o WHERE (o.payload->>'message_id')::bigint = m.id)`, from)
			}
			optedOut := func() bool {
				return f.intQuery(`SELECT count(*) FROM recipients WHERE phone = ? AND sms_opted_out_at IS NOT NULL`, from) == 1
			}
			stop := f.sign(inbound(newID("stop"), from, word))
			if code, body := f.send(inboundPath, encForm, stop); code != http.StatusOK {
				t.Fatalf("STOP: %d %q", code, body)
			}
			if !optedOut() {
				t.Fatal("not opted out after STOP")
			}
			if n := confirmations(); n != 1 {
				t.Fatalf("%d confirmations queued, want 1", n)
			}
			if f.kicks.Load() < 1 {
				t.Error("relay not kicked after a confirmation was queued")
			}
			if s := f.messageStatus(queuedID); s != models.MsgFailed {
				t.Errorf("message queued before the STOP is %s, want failed", s)
			}
			kinds := map[string]int{}
			for _, ev := range f.rec.events() {
				kinds[ev.Kind]++
			}
			if kinds[models.EvOptedOut] != 1 || kinds[models.EvMessage] != 2 {
				t.Errorf("events shown %v; want an opt-out and two messages (STOP and its confirmation)", kinds)
			}

			// Vonage retries the same STOP; the sender sends STOP again.
			if code, _ := f.send(inboundPath, encJSON, stop); code != http.StatusOK {
				t.Fatalf("STOP retry: %d", code)
			}
			if code, _ := f.send(inboundPath, encGET, f.sign(inbound(newID("stop2"), from, "STOP"))); code != http.StatusOK {
				t.Fatalf("second STOP: %d", code)
			}
			if n := confirmations(); n != 1 {
				t.Fatalf("%d confirmations after a second STOP, want 1", n)
			}
			if !optedOut() {
				t.Fatal("no longer opted out")
			}
			if n := f.intQuery(`SELECT count(*) FROM recipient_consent_events e JOIN recipients r ON r.id = e.recipient_id
				WHERE r.phone = ? AND e.action = 'opt_out'`, from); n != 1 {
				t.Errorf("%d opt-out consent events, want 1", n)
			}

			if code, _ := f.send(inboundPath, encForm, f.sign(inbound(newID("start"), from, "START"))); code != http.StatusOK {
				t.Fatalf("START: %d", code)
			}
			if optedOut() || confirmations() != 2 {
				t.Errorf("after START: opted out %v, %d confirmations; want false, 2", optedOut(), confirmations())
			}
		})
	}
}

// TestBadInput is R14 for the callbacks: malformed requests are answered
// 400 and store nothing, show nothing and kick nothing, with and without a
// signature secret (with one, the bad request is correctly signed, so the
// 400 comes from the content, not the signature).
func TestBadInput(t *testing.T) {
	good := func() url.Values { return inbound(newID("bad"), "+15550209999", "Hello") }
	with := func(p url.Values, kv ...string) url.Values {
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "\x00drop" {
				p.Del(kv[i])
			} else {
				p.Set(kv[i], kv[i+1])
			}
		}
		return p
	}
	big := strings.Repeat("a", sms.MaxWebhookBody+1)
	type tc struct {
		name   string
		path   string
		enc    encoding
		params url.Values // signed when the fixture has a secret
		// raw, when set, is sent as is instead of params.
		raw          *rawReq
		signedWant   int // the status with a secret, when not 400
		unsignedWant int // the status without a secret, when not 400
	}
	rawJSON := func(s string) *rawReq {
		return &rawReq{method: http.MethodPost, contentType: "application/json", body: []byte(s)}
	}
	cases := []tc{
		{name: "malformed JSON", path: inboundPath, raw: rawJSON(`{"msisdn":"15550209999","to":`)},
		{name: "JSON array", path: inboundPath, raw: rawJSON(`[{"msisdn":"15550209999"}]`)},
		{name: "JSON nested object", path: inboundPath, raw: rawJSON(`{"msisdn":{"a":"15550209999"},"to":"15550100100","messageId":"X","text":"hi","type":"text"}`)},
		{name: "JSON trailing data", path: inboundPath, raw: rawJSON(`{"msisdn":"15550209999","to":"15550100100","messageId":"X","text":"hi","type":"text"} {}`)},
		{name: "JSON invalid UTF-8", path: inboundPath, raw: rawJSON("{\"msisdn\":\"15550209999\",\"to\":\"15550100100\",\"messageId\":\"X\",\"text\":\"\xff\xfe\",\"type\":\"text\"}")},
		{name: "empty JSON body", path: inboundPath, raw: rawJSON(``)},
		{name: "unsupported content type", path: inboundPath, raw: &rawReq{method: http.MethodPost, contentType: "text/plain", body: []byte("msisdn=15550209999")}},
		{name: "bad form escape", path: inboundPath, raw: &rawReq{method: http.MethodPost, contentType: "application/x-www-form-urlencoded", body: []byte("msisdn=%zz&to=15550100100")}},
		{name: "PUT", path: inboundPath, raw: &rawReq{method: http.MethodPut, contentType: "application/x-www-form-urlencoded", body: []byte("msisdn=1")}, signedWant: 405, unsignedWant: 405},
		{name: "GET with no params", path: inboundPath, raw: &rawReq{method: http.MethodGet}, signedWant: http.StatusUnauthorized},
		{name: "POST with no body", path: inboundPath, raw: &rawReq{method: http.MethodPost, contentType: "application/x-www-form-urlencoded"}, signedWant: http.StatusUnauthorized},
		{name: "missing msisdn", path: inboundPath, enc: encForm, params: with(good(), "msisdn", "\x00drop")},
		{name: "missing to", path: inboundPath, enc: encGET, params: with(good(), "to", "\x00drop")},
		{name: "missing messageId", path: inboundPath, enc: encJSON, params: with(good(), "messageId", "\x00drop")},
		{name: "missing text", path: inboundPath, enc: encForm, params: with(good(), "text", "\x00drop")},
		{name: "missing type", path: inboundPath, enc: encForm, params: with(good(), "type", "\x00drop")},
		{name: "non-digit msisdn", path: inboundPath, enc: encForm, params: with(good(), "msisdn", "1555020999a")},
		{name: "msisdn too short", path: inboundPath, enc: encGET, params: with(good(), "msisdn", "12345")},
		{name: "msisdn too long", path: inboundPath, enc: encJSON, params: with(good(), "msisdn", "1234567890123456")},
		{name: "msisdn with spaces", path: inboundPath, enc: encJSON, params: with(good(), "msisdn", "1 555 020 9999")},
		{name: "invalid UTF-8 text (form)", path: inboundPath, enc: encForm, params: with(good(), "text", "caf\xe9")},
		{name: "invalid UTF-8 text (GET)", path: inboundPath, enc: encGET, params: with(good(), "text", "\xc3\x28")},
		{name: "invalid UTF-8 parameter name", path: inboundPath, enc: encForm, params: with(good(), "x\xff", "1")},
		{name: "text over 16 KiB", path: inboundPath, enc: encForm, params: with(good(), "text", strings.Repeat("b", 16<<10+1))},
		{name: "body over 64 KiB (form)", path: inboundPath, enc: encForm, params: with(good(), "text", big), signedWant: 413, unsignedWant: 413},
		{name: "body over 64 KiB (JSON)", path: inboundPath, enc: encJSON, params: with(good(), "text", big), signedWant: 413, unsignedWant: 413},
		{name: "body over 64 KiB of junk", path: inboundPath, raw: &rawReq{method: http.MethodPost, contentType: "application/x-www-form-urlencoded", body: []byte("x=" + big)}, signedWant: 413, unsignedWant: 413},
		{name: "messageId with a space", path: inboundPath, enc: encForm, params: with(good(), "messageId", "ab cd")},
		{name: "messageId over 100 bytes", path: inboundPath, enc: encForm, params: with(good(), "messageId", strings.Repeat("A", 101))},
		{name: "messageId and message-id differ", path: inboundPath, enc: encForm, params: with(good(), "message-id", "other")},
		{name: "bad message-timestamp", path: inboundPath, enc: encGET, params: with(good(), "message-timestamp", "yesterday")},
		{name: "type not a word", path: inboundPath, enc: encForm, params: with(good(), "type", "te xt")},
		{name: "control character in keyword", path: inboundPath, enc: encForm, params: with(good(), "keyword", "HI\x07")},
		{name: "concat part beyond total", path: inboundPath, enc: encForm, params: with(good(), "concat", "true", "concat-ref", "R1", "concat-part", "4", "concat-total", "3")},
		{name: "concat part zero", path: inboundPath, enc: encForm, params: with(good(), "concat", "true", "concat-ref", "R1", "concat-part", "0", "concat-total", "3")},
		{name: "concat total over 255", path: inboundPath, enc: encForm, params: with(good(), "concat", "true", "concat-ref", "R1", "concat-part", "1", "concat-total", "256")},
		{name: "concat without ref", path: inboundPath, enc: encForm, params: with(good(), "concat", "true", "concat-part", "1", "concat-total", "2")},
		{name: "concat not a boolean", path: inboundPath, enc: encForm, params: with(good(), "concat", "yes please")},
		{name: "too many parameters", path: inboundPath, enc: encForm, params: func() url.Values {
			p := good()
			for i := range 70 {
				p.Set(fmt.Sprintf("x%d", i), "1")
			}
			return p
		}()},
		{name: "receipt GET with no params", path: statusPath, raw: &rawReq{method: http.MethodGet}, signedWant: http.StatusUnauthorized},
		{name: "receipt missing status", path: statusPath, enc: encForm, params: with(receipt(newID("r"), "+15550209999", "delivered", "0", ""), "status", "\x00drop")},
		{name: "receipt missing messageId", path: statusPath, enc: encJSON, params: with(receipt(newID("r"), "+15550209999", "delivered", "0", ""), "messageId", "\x00drop")},
		{name: "receipt bad err-code", path: statusPath, enc: encGET, params: with(receipt(newID("r"), "+15550209999", "failed", "abc", ""), "err-code", "abc")},
		{name: "receipt bad msisdn", path: statusPath, enc: encForm, params: with(receipt(newID("r"), "+15550209999", "delivered", "0", ""), "msisdn", "+1-555")},
		{name: "receipt bad price", path: statusPath, enc: encForm, params: with(receipt(newID("r"), "+15550209999", "delivered", "0", ""), "price", "1.2.3")},
		{name: "receipt malformed JSON", path: statusPath, raw: rawJSON(`{"messageId":"x","status":`)},
	}
	for _, mode := range []struct {
		name string
		cfg  webhook.Config
	}{{"unsigned", webhook.Config{}}, {"signed", signedConfig(sms.SignatureSHA256)}} {
		t.Run(mode.name, func(t *testing.T) {
			f := newFixture(t, mode.cfg)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					before := f.counts()
					want := http.StatusBadRequest
					if mode.cfg.SignatureSecret != "" && c.signedWant != 0 {
						want = c.signedWant
					}
					if mode.cfg.SignatureSecret == "" && c.unsignedWant != 0 {
						want = c.unsignedWant
					}
					var code int
					var body string
					if c.raw != nil {
						code, body = f.raw(c.raw.method, c.path, c.raw.query, c.raw.contentType, c.raw.body)
					} else {
						code, body = f.send(c.path, c.enc, f.sign(c.params))
					}
					if code != want {
						t.Errorf("status %d %.200q, want %d", code, body, want)
					}
					if after := f.counts(); after != before {
						t.Errorf("rows changed: before %+v after %+v", before, after)
					}
					if f.rec.calls() != 0 || f.kicks.Load() != 0 {
						t.Errorf("Notify %d, kick %d; want none", f.rec.calls(), f.kicks.Load())
					}
				})
			}
			// The handler still works afterwards.
			if code, body := f.send(inboundPath, encForm, f.sign(inbound(newID("ok"), newPhone(), "still fine"))); code != http.StatusOK {
				t.Fatalf("a good request after the bad ones: %d %q", code, body)
			}
		})
	}
}

type rawReq struct {
	method, query, contentType string
	body                       []byte
}

// switchStore is a Store whose database can be made unreachable.
type switchStore struct {
	live, dead webhook.Store
	mu         sync.Mutex
	down       bool
}

func (s *switchStore) pick() webhook.Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return s.dead
	}
	return s.live
}

func (s *switchStore) setDown(d bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = d
}

func (s *switchStore) ReceiveSMS(ctx context.Context, in models.InboundSMS) (*models.InboundResult, error) {
	return s.pick().ReceiveSMS(ctx, in)
}

func (s *switchStore) ApplyReceipt(ctx context.Context, r models.SMSReceipt) (*models.Change, error) {
	return s.pick().ApplyReceipt(ctx, r)
}

// TestDatabaseDown is R3's flavour: while PostgreSQL is unreachable a
// valid callback is answered 503 (never 2xx), nothing is shown; once it is
// back, Vonage's retry stores the message exactly once.
func TestDatabaseDown(t *testing.T) {
	live, _ := sharedStore(t)
	// Both sides through the group-commit batcher, as in production.
	liveB := webhook.NewBatcher(live, webhook.BatcherOptions{}, testLogger())
	deadB := webhook.NewBatcher(deadStore(t), webhook.BatcherOptions{}, testLogger())
	t.Cleanup(liveB.Close)
	t.Cleanup(deadB.Close)
	sw := &switchStore{live: liveB, dead: deadB}
	f := newFixture(t, signedConfig(sms.SignatureSHA256), sw)
	from := newPhone()
	msgID := f.sentMessage(newPhone(), newID("down-part"))
	var sentPart string
	if err := f.store.DB().NewRaw(`SELECT provider_message_id FROM message_parts WHERE message_id = ?`, msgID).Scan(context.Background(), &sentPart); err != nil {
		t.Fatal(err)
	}
	var rcptPhone string
	if err := f.store.DB().NewRaw(`SELECT r.phone FROM messages m JOIN conversations c ON c.id = m.conversation_id
		JOIN recipients r ON r.id = c.recipient_id WHERE m.id = ?`, msgID).Scan(context.Background(), &rcptPhone); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		path string
		enc  encoding
		p    url.Values
	}{
		{"inbound GET", inboundPath, encGET, f.sign(inbound(newID("down"), from, "Are you there?"))},
		{"inbound form", inboundPath, encForm, f.sign(inbound(newID("down"), from, "Hello?"))},
		{"inbound JSON STOP", inboundPath, encJSON, f.sign(inbound(newID("down"), from, "STOP"))},
		{"inbound part", inboundPath, encForm, f.sign(part(newID("down"), from, newID("ref"), 1, 2, "half"))},
		{"unrouted", inboundPath, encForm, f.sign(func() url.Values {
			p := inbound(newID("down"), from, "x")
			p.Set("to", "15550199999")
			return p
		}())},
		{"receipt", statusPath, encForm, f.sign(receipt(sentPart, rcptPhone, "delivered", "0", ""))},
	}
	sw.setDown(true)
	before := f.counts()
	for _, c := range cases {
		t.Run("down/"+c.name, func(t *testing.T) {
			for try := range 2 {
				code, body := f.send(c.path, c.enc, c.p)
				if code != http.StatusServiceUnavailable {
					t.Fatalf("try %d: status %d %q, want 503", try, code, body)
				}
			}
		})
	}
	if after := f.counts(); after != before {
		t.Errorf("rows changed while down: %+v -> %+v", before, after)
	}
	if f.rec.calls() != 0 || f.kicks.Load() != 0 {
		t.Errorf("Notify %d, kick %d while down; want none", f.rec.calls(), f.kicks.Load())
	}
	if s := f.messageStatus(msgID); s != models.MsgSent {
		t.Errorf("message %s while down, want sent", s)
	}

	sw.setDown(false)
	for _, c := range cases {
		for try := range 2 { // the retry after recovery, and one more
			if code, body := f.send(c.path, c.enc, c.p); code != http.StatusOK {
				t.Fatalf("up/%s try %d: %d %q", c.name, try, code, body)
			}
		}
	}
	for _, c := range cases[:3] {
		if _, n := f.inboundBody(c.p.Get("messageId")); n != 1 {
			t.Errorf("%s: %d messages after recovery, want 1", c.name, n)
		}
	}
	if n := f.intQuery(`SELECT count(*) FROM unrouted_messages WHERE provider_message_id = ?`, cases[4].p.Get("messageId")); n != 1 {
		t.Errorf("%d unrouted rows after recovery, want 1", n)
	}
	if s := f.messageStatus(msgID); s != models.MsgDelivered {
		t.Errorf("message %s after recovery, want delivered", s)
	}
	if calls, _ := f.rec.inboundMessageCalls(); calls != 3 {
		t.Errorf("Notify with inbound messages: %d, want 3", calls)
	}
}

// TestOversizedBody: a 10 MB "SMS" is refused before any handler reads it
// (413 from the app's body limit) and one just over the webhook's own cap
// (sms.MaxWebhookBody) is a 400; neither stores anything.
func TestOversizedBody(t *testing.T) {
	f := newFixture(t, signedConfig(sms.SignatureSHA256))
	before := f.counts()
	t.Run("10 MB", func(t *testing.T) {
		// fasthttp answers 413 on reading the Content-Length, before the
		// body; speak HTTP by hand so the unread body does not matter.
		conn, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\ntext=",
			inboundPath, 10<<20)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", resp.StatusCode)
		}
	})
	t.Run("1 MiB", func(t *testing.T) {
		p := f.sign(inbound(newID("big"), newPhone(), strings.Repeat("x", 1<<20)))
		// Over the 64 KiB callback cap: refused before any parsing.
		if code, body := f.send(inboundPath, encForm, p); code != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d %.100q, want 413", code, body)
		}
	})
	if after := f.counts(); after != before || f.rec.calls() != 0 {
		t.Errorf("rows %+v -> %+v, Notify %d; want nothing", before, after, f.rec.calls())
	}
}
