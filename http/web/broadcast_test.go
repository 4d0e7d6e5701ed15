package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parley-chat/parley/models"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// broadcastGroup adds a group of n recipients with fresh phones to the
// demo organization, and returns its id.
func broadcastGroup(t *testing.T, f *fixture, n int) int64 {
	t.Helper()
	ctx := context.Background()
	db := f.Store.DB()
	var group int64
	if err := db.NewRaw(`INSERT INTO groups (org_id, name) VALUES (?, ?) RETURNING id`, f.Demo.Org.ID,
		"Bcast group "+itoa(phoneSeq.Add(1))+" "+runID).Scan(ctx, &group); err != nil {
		t.Fatal(err)
	}
	phones, names := make([]string, n), make([]string, n)
	for i := range n {
		phones[i], names[i] = uniquePhone(), fmt.Sprintf("Robin%d Bcast", i)
	}
	if _, err := db.NewRaw(`WITH r AS (INSERT INTO recipients (org_id, name, phone) SELECT ?, nm, ph FROM unnest(?::text[], ?::text[]) AS x(nm, ph) RETURNING id)
		INSERT INTO group_members (org_id, group_id, recipient_id) SELECT ?, ?, id FROM r`,
		f.Demo.Org.ID, pgdialect.Array(names), pgdialect.Array(phones), f.Demo.Org.ID, group).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return group
}

// apiBroadcast is the part of a broadcast's JSON the tests read.
type apiBroadcast struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Counts struct {
		Total int `json:"total"`
	} `json:"counts"`
}

// The broadcasts API: estimate, create, one and the list, the reply dashboard as JSON and CSV,
// cancel (twice: 409), 402 when the credits do not cover a broadcast due
// now (nothing stored), 422 naming the field; another organization's
// admin and an agent get 404s.
func TestAPIBroadcasts(t *testing.T) {
	f := newFixture(t)
	_, inbox := creditsLocation(t, f, "Broadcast API", 100)
	group := broadcastGroup(t, f, 2)
	admin := apiAs(t, f, f.Demo.Org.ID, f.Demo.Admin.ID)
	tomorrow := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	in := map[string]any{"name": "API broadcast " + runID, "inbox_id": inbox.ID, "channels": []string{"sms"},
		"audience": map[string]any{"group_ids": []int64{group}}, "body": "Hi {first_name}", "chat_enabled": true, "send_at": tomorrow}

	var est models.BroadcastEstimate
	admin.expect(200, "POST", "/broadcasts/estimate", in, &est)
	if est.Recipients != 2 || est.Reached != 2 || est.SMS != 2 || est.Credits != 4 || est.Shortfall != 0 {
		t.Errorf("estimate: %+v", est)
	}

	var b apiBroadcast
	admin.expect(201, "POST", "/broadcasts", in, &b)
	var n int
	if b.Status != models.BroadcastScheduled {
		t.Errorf("a broadcast for tomorrow: status %q", b.Status)
	}

	var one apiBroadcast
	admin.expect(200, "GET", "/broadcasts/"+itoa(b.ID), nil, &one)
	if one.ID != b.ID || one.Name != in["name"] {
		t.Errorf("one: %+v", one)
	}
	var list struct {
		Data []apiBroadcast `json:"data"`
	}
	admin.expect(200, "GET", "/broadcasts?limit=200", nil, &list)
	found := false
	for _, x := range list.Data {
		found = found || x.ID == b.ID
	}
	if !found {
		t.Errorf("the list lacks broadcast %d: %+v", b.ID, list.Data)
	}
	admin.expect(200, "GET", "/broadcasts/"+itoa(b.ID)+"/replies", nil, nil)
	resp, body := admin.call("GET", "/broadcasts/"+itoa(b.ID)+"/replies", nil, nil, "Accept", "text/csv")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.HasPrefix(body, "recipient_id,name,phone") {
		t.Errorf("replies as CSV: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	admin.expectProblem(422, "state", "GET", "/broadcasts/"+itoa(b.ID)+"/replies?state=bogus", nil)

	// Outsiders: the rival's admin and an agent (no broadcasts.send).
	rival := otherOrgUser(t, f)
	rivalAPI := apiAs(t, f, rival.orgID, rival.userID)
	agent := apiAs(t, f, f.Demo.Org.ID, f.Demo.Agent.ID)
	for _, c := range []*apiCaller{rivalAPI, agent} {
		c.expectProblem(404, "", "GET", "/broadcasts/"+itoa(b.ID), nil)
		c.expectProblem(404, "", "GET", "/broadcasts/"+itoa(b.ID)+"/replies", nil)
		c.expectProblem(404, "", "POST", "/broadcasts/"+itoa(b.ID)+"/cancel", nil)
	}
	agent.expectProblem(404, "", "GET", "/broadcasts", nil)

	var cancelled apiBroadcast
	admin.expect(200, "POST", "/broadcasts/"+itoa(b.ID)+"/cancel", nil, &cancelled)
	if cancelled.Status != models.BroadcastCancelled {
		t.Errorf("cancelled: %+v", cancelled)
	}
	admin.expectProblem(409, "", "POST", "/broadcasts/"+itoa(b.ID)+"/cancel", nil)

	// Validation, and credits that do not cover a broadcast due now.
	bad := map[string]any{"name": "No audience", "channels": []string{"sms"}, "audience": map[string]any{}, "body": "Hi"}
	admin.expectProblem(422, "audience", "POST", "/broadcasts", bad)
	_, poor := creditsLocation(t, f, "Broadcast poor", 1)
	now := map[string]any{"name": "Too dear " + runID, "inbox_id": poor.ID, "channels": []string{"sms"},
		"audience": map[string]any{"group_ids": []int64{group}}, "body": "Hi", "chat_enabled": true}
	p := admin.expectProblem(402, "", "POST", "/broadcasts", now)
	if !strings.HasSuffix(p.Type, "/insufficient-credits") {
		t.Errorf("402 type %q", p.Type)
	}
	if err := f.Store.DB().NewRaw("SELECT count(*) FROM broadcasts WHERE name = ?", now["name"]).Scan(t.Context(), &n); err != nil || n != 0 {
		t.Errorf("a refused broadcast was stored: %d %v", n, err)
	}
}

// POST /broadcasts with an Idempotency-Key: the same key again answers
// the first broadcast (Idempotent-Replayed) and stores nothing new.
func TestAPIBroadcastIdempotent(t *testing.T) {
	f := newFixture(t)
	_, inbox := creditsLocation(t, f, "Broadcast idem", 100)
	group := broadcastGroup(t, f, 2)
	admin := apiAs(t, f, f.Demo.Org.ID, f.Demo.Admin.ID)
	in := map[string]any{"name": "Idem broadcast " + runID, "inbox_id": inbox.ID, "channels": []string{"sms"},
		"audience": map[string]any{"group_ids": []int64{group}}, "body": "Hi", "chat_enabled": true,
		"send_at": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}
	var b, again apiBroadcast
	admin.expect(201, "POST", "/broadcasts", in, &b, "Idempotency-Key", "bcast-"+runID)
	resp, _ := admin.call("POST", "/broadcasts", in, &again, "Idempotency-Key", "bcast-"+runID)
	if resp.StatusCode != 201 || again.ID != b.ID || resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replayed create: %d %+v (first %d)", resp.StatusCode, again, b.ID)
	}
	var n int
	if err := f.Store.DB().NewRaw("SELECT count(*) FROM broadcasts WHERE name = ?", in["name"]).Scan(t.Context(), &n); err != nil || n != 1 {
		t.Errorf("broadcasts stored with the key: %d %v", n, err)
	}
}

// dialBroadcast opens a broadcast page's socket (?broadcast=id).
func (c *client) dialBroadcast(t *testing.T, id int64) *liveSocket {
	t.Helper()
	u, _ := url.Parse(c.base)
	h := http.Header{"Origin": {c.base}}
	for _, ck := range c.http.Jar.Cookies(u) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.base, "http")+"/ws?broadcast="+itoa(id), &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	return readLive(conn)
}

// The broadcast pages: compose (the estimate names who is reached and
// whom an emergency misses; an empty audience is an error next to the
// field), send for later, the broadcast's page with its socket (the
// current progress at once, and a frame when it is cancelled), the reply
// CSV, and the list. Another organization's socket joins nothing.
func TestBroadcastPages(t *testing.T) {
	f := newFixture(t)
	_, inbox := creditsLocation(t, f, "Broadcast pages", 100)
	group := broadcastGroup(t, f, 3)
	ctx := context.Background()
	// One member said STOP: skipped, and an emergency says so.
	if _, err := f.Store.DB().NewRaw(`UPDATE recipients SET sms_opted_out_at = now(), sms_opt_out_source = 'keyword'
		WHERE id = (SELECT min(recipient_id) FROM group_members WHERE group_id = ?)`, group).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	c := f.client(t)
	c.login(adminEmail, adminPassword)
	tok := c.csrf("/broadcasts/new")
	hx := map[string]string{"X-CSRF-Token": tok, "HX-Request": "true"}
	name := "Page broadcast " + runID
	form := url.Values{"name": {name}, "inbox_id": {itoa(inbox.ID)}, "channels": {"sms"}, "audience": {"groups"},
		"group_ids": {itoa(group)}, "body": {"Hi {first_name|there}"}, "chat_enabled": {"1"}, "reply_window_hours": {"72"},
		"emergency": {"1"}, "send": {"later"}, "send_at": {time.Now().Add(48 * time.Hour).UTC().Format("2006-01-02T15:04")}}

	resp, body := c.do("POST", "/broadcasts/estimate", form, hx)
	if resp.StatusCode != 200 || !strings.Contains(body, `id="est-reached">2 `) || !strings.Contains(body, `id="est-opted-out">1<`) ||
		!strings.Contains(body, "1 person who opted out will not get this message") || strings.Contains(body, `id="bc-send" disabled`) {
		t.Fatalf("estimate: %d\n%s", resp.StatusCode, body)
	}

	empty := url.Values{"_csrf": {tok}, "name": {name}, "channels": {"sms"}, "audience": {"groups"}, "body": {"Hi"}}
	resp, body = c.do("POST", "/broadcasts", empty, nil)
	if resp.StatusCode != 422 || !strings.Contains(body, `id="audience-error"`) {
		t.Fatalf("no group: %d\n%s", resp.StatusCode, body)
	}

	form.Set("_csrf", tok)
	resp, _ = c.do("POST", "/broadcasts", form, nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/broadcasts/") {
		t.Fatalf("send: %d %q", resp.StatusCode, loc)
	}
	var id int64
	fmt.Sscanf(strings.TrimPrefix(loc, "/broadcasts/"), "%d", &id)
	resp, body = c.get(loc)
	if resp.StatusCode != 200 || !strings.Contains(body, name) || !strings.Contains(body, `id="bc-progress"`) ||
		!strings.Contains(body, `ws-connect="/ws?broadcast=`+itoa(id)+`"`) || !strings.Contains(body, "Cancel broadcast") {
		t.Fatalf("broadcast page: %d\n%s", resp.StatusCode, body)
	}

	// The page's socket: the progress now, then the cancel's frame.
	ls := c.dialBroadcast(t, id)
	ls.await(t, `data-status="scheduled"`)
	rival := otherOrgUser(t, f)
	rls := rival.dialBroadcast(t, id)
	f.awaitMembers(t, "broadcast:"+itoa(id), 1)
	resp, _ = c.do("POST", loc+"/cancel", url.Values{"_csrf": {tok}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != loc+"?notice=cancelled" {
		t.Fatalf("cancel: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	frame := ls.await(t, `data-status="cancelled"`)
	if !strings.Contains(frame, `hx-swap-oob="true"`) {
		t.Errorf("the live frame is not an out-of-band swap:\n%s", frame)
	}
	select {
	case fr, ok := <-rls.frames:
		if ok {
			t.Errorf("the rival's socket got a frame of the demo's broadcast:\n%s", fr)
		}
	default:
	}
	_, body = c.get(loc + "?notice=cancelled")
	if !strings.Contains(body, "Broadcast cancelled") || strings.Contains(body, "Cancel broadcast</button>") {
		t.Errorf("after cancelling, the page:\n%s", body)
	}

	resp, body = c.get(loc + "/replies.csv")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "recipient_id,") {
		t.Errorf("replies.csv: %d %q", resp.StatusCode, body)
	}
	_, body = c.get("/broadcasts")
	if !strings.Contains(body, `href="/broadcasts/`+itoa(id)+`"`) || !strings.Contains(body, "Cancelled") {
		t.Errorf("the list lacks the broadcast:\n%s", body)
	}
}

// The publisher's progress frames are throttled: a burst of calls gives
// the first frame at once and one trailing frame with the latest counts,
// not one frame per call.
func TestBroadcastProgressThrottled(t *testing.T) {
	f := newFixture(t)
	_, inbox := creditsLocation(t, f, "Broadcast throttle", 100)
	group := broadcastGroup(t, f, 1)
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	at := time.Now().Add(24 * time.Hour)
	v, err := f.Store.CreateBroadcast(t.Context(), admin, models.BroadcastInput{Name: "Throttle " + runID, InboxID: inbox.ID,
		Channels: []string{models.ChannelSMS}, Audience: models.Audience{GroupIDs: []int64{group}}, Body: "Hi", SendAt: &at})
	if err != nil {
		t.Fatal(err)
	}
	c := f.client(t)
	c.login(adminEmail, adminPassword)
	ls := c.dialBroadcast(t, v.ID)
	first := ls.await(t, `data-status="scheduled"`) // the socket's own first frame
	// A scheduled broadcast's frame keeps the Cancel button and says when.
	if strings.Contains(first, `id="bc-cancel"`) || !strings.Contains(first, `id="bc-when" hx-swap-oob="true">scheduled for<`) {
		t.Errorf("scheduled frame: want the Cancel button kept and \"scheduled for\", got %s", first)
	}
	f.awaitMembers(t, "broadcast:"+itoa(v.ID), 1)
	for range 50 {
		f.Pub.BroadcastProgress(f.Demo.Org.ID, v.ID)
	}
	if _, _, err := f.Store.CancelBroadcast(t.Context(), admin, v.ID); err != nil {
		t.Fatal(err)
	}
	f.Pub.BroadcastProgress(f.Demo.Org.ID, v.ID)
	// The trailing frame shows the cancel. Frames before it: the burst's
	// first, and at most one trailing frame that read before the cancel.
	frames := 0
	for {
		fr := ls.await(t, `id="bc-progress"`)
		frames++
		if strings.Contains(fr, `data-status="cancelled"`) {
			// The page's header follows the status: no Cancel button, the
			// words before the time; the reply tabs' counts are current.
			for _, want := range []string{`<div id="bc-cancel" hx-swap-oob="true"></div>`,
				`id="bc-when" hx-swap-oob="true">cancelled, was set for<`,
				`id="bc-tab-n-all" hx-swap-oob="true">0<`, `id="bc-tab-n-replied" hx-swap-oob="true">0<`} {
				if !strings.Contains(fr, want) {
					t.Errorf("cancelled frame lacks %s: %s", want, fr)
				}
			}
			break
		}
	}
	if frames > 3 {
		t.Errorf("%d frames for 51 calls in a burst, want at most 3", frames)
	}
}
