package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parley-chat/parley/models"
)

// liveSocket is an agent's websocket, read in the background.
type liveSocket struct {
	conn   *websocket.Conn
	frames chan string
	ended  chan error // why reading stopped (buffered)
}

// dial opens the live socket with the client's session cookie.
func (c *client) dial(t *testing.T, origin string) (*liveSocket, *http.Response, error) {
	t.Helper()
	u, _ := url.Parse(c.base)
	h := http.Header{"Origin": {origin}}
	for _, ck := range c.http.Jar.Cookies(u) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.base, "http")+"/ws", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	return readLive(conn), resp, nil
}

// liveNow opens the live socket and resumes from the far future: no
// catch-up, only what happens from now on.
func (c *client) liveNow(t *testing.T, origin string) *liveSocket {
	t.Helper()
	ls, _, err := c.dial(t, origin)
	if err != nil {
		t.Fatal(err)
	}
	ls.send(t, map[string]any{"resume": 1 << 40, "view": 0})
	return ls
}

// readLive reads the socket's frames into a liveSocket until it ends.
func readLive(conn *websocket.Conn) *liveSocket {
	ls := &liveSocket{conn: conn, frames: make(chan string, 100), ended: make(chan error, 1)}
	go func() {
		defer close(ls.frames)
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				ls.ended <- err
				return
			}
			ls.frames <- string(b)
		}
	}()
	return ls
}

func (ls *liveSocket) send(t *testing.T, m map[string]any) {
	t.Helper()
	b, _ := json.Marshal(m)
	if err := ls.conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

// await returns the first frame containing want, failing after 15 s (a
// frame that never comes fails the same way; 5 s was seen to run out
// under -race on a loaded CI machine).
func (ls *liveSocket) await(t *testing.T, want string) string {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case f, ok := <-ls.frames:
			if !ok {
				t.Fatalf("socket closed while waiting for %q", want)
			}
			if strings.Contains(f, want) {
				return f
			}
		case <-deadline:
			t.Fatalf("no frame containing %q within 15s", want)
		}
	}
}

// quiet fails if any frame containing bad arrives before a frame with marker.
func (ls *liveSocket) quietUntil(t *testing.T, bad, marker string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case f, ok := <-ls.frames:
			if !ok {
				t.Fatal("socket closed")
			}
			if strings.Contains(f, bad) {
				t.Fatalf("frame leaked %q:\n%s", bad, f)
			}
			if strings.Contains(f, marker) {
				return
			}
		case <-deadline:
			t.Fatalf("marker %q never arrived", marker)
		}
	}
}

// awaitMembers waits until n sockets have joined topic. A socket joins its
// feeds after the handshake, and the hub has no event for a join: poll.
func (f *fixture) awaitMembers(t *testing.T, topic string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, err := f.Hub.Members(context.Background(), topic)
		if err == nil && len(m) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: members %v (%v), want %d", topic, m, err, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var convLink = regexp.MustCompile(`/chats/(\d+)`)

// post sends an action with the page's CSRF token, as htmx does.
func (c *client) post(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	tok := c.csrf("/chats")
	return c.do("POST", path, form, map[string]string{"X-CSRF-Token": tok, "HX-Request": "true"})
}

func TestLiveChatBetweenAgents(t *testing.T) {
	f := newFixture(t)
	a := f.client(t)
	a.login(adminEmail, adminPassword)
	b := f.client(t)
	b.login(agentEmail, agentPassword)
	bs := b.liveNow(t, f.URL)
	// Resuming from the far future catches nothing up: the row below must
	// come live, so B has to be on the feed before A acts.
	f.awaitMembers(t, "inbox:"+itoa(f.Demo.Inbox.ID), 1)

	// A starts a chat; B's list gets the row live.
	resp, _ := a.post("/chats", url.Values{"inbox": {itoa(f.Demo.Inbox.ID)}, "to": {"+15550100201"}, "body": {"Your appointment is confirmed"}})
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("start chat: %d", resp.StatusCode)
	}
	loc := resp.Header.Get("HX-Location")
	m := convLink.FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("HX-Location %q", loc)
	}
	id := m[1]
	row := bs.await(t, `id="conv-`+id+`"`)
	if !strings.Contains(row, "Your appointment is confirmed") || !strings.Contains(row, `hx-swap-oob="afterbegin:#conv-list"`) {
		t.Fatalf("row frame:\n%s", row)
	}

	// B opens the thread; A's reply arrives as a timeline item.
	bs.send(t, map[string]any{"view": mustInt(id)})
	// Presence is the acknowledgement that the socket joined the thread.
	bs.await(t, `innerHTML:#thread-viewers-`+id)
	resp, body := a.post("/chats/"+id+"/messages", url.Values{"body": {"See you at 3pm"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "See you at 3pm") {
		t.Fatalf("reply: %d %s", resp.StatusCode, body)
	}
	// The thread's frame of the chat's start may come first: the publisher
	// can deliver it to the thread's topic after B joined (a join does not
	// wait for it). The reply's item is the timeline frame with its text.
	// (await fails the test if none comes.)
	for item := ""; !strings.Contains(item, "See you at 3pm"); {
		item = bs.await(t, `beforeend:#timeline-`+id)
	}

	// B assigns it to A; A closes it. B sees both in the thread header.
	resp, _ = b.post("/chats/"+id+"/assign", url.Values{"assignee": {itoa(f.Demo.Admin.ID)}})
	if resp.StatusCode != 200 {
		t.Fatalf("assign: %d", resp.StatusCode)
	}
	bs.await(t, "Sam Agent assigned this to Avery Admin")
	resp, _ = a.post("/chats/"+id+"/close", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("close: %d", resp.StatusCode)
	}
	bs.await(t, "Avery Admin closed this")
}

func TestSocketCatchUpAndIsolation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	before, err := f.Store.LatestSeq(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := f.Store.StartConversation(ctx, admin, models.StartInput{InboxID: f.Demo.Inbox.ID, To: "+15550100202", Body: "missed while offline"})
	if err != nil {
		t.Fatal(err)
	}
	id := itoa(ch.Conversation.ID)

	// A socket resuming from before the change gets the row and the thread items.
	a := f.client(t)
	a.login(adminEmail, adminPassword)
	as, _, err := a.dial(t, f.URL)
	if err != nil {
		t.Fatal(err)
	}
	as.send(t, map[string]any{"resume": before, "view": ch.Conversation.ID})
	frame := as.await(t, `id="conv-`+id+`"`)
	if !strings.Contains(frame, "missed while offline") || !strings.Contains(frame, "#timeline-"+id) {
		t.Fatalf("catch-up frame:\n%s", frame)
	}

	// Another organization's user: no row over its socket, and viewing the
	// conversation's id joins nothing.
	other := otherOrgUser(t, f)
	ls, _, err := other.dial(t, f.URL)
	if err != nil {
		t.Fatal(err)
	}
	ls.send(t, map[string]any{"resume": 0, "view": ch.Conversation.ID})
	f.awaitMembers(t, "inbox:"+itoa(other.inboxID), 1) // for the marker below
	if _, err := f.Store.Reply(ctx, admin, ch.Conversation.ID, "secret follow-up", false); err != nil {
		t.Fatal(err)
	}
	// Its own organization's event is the marker that frames are flowing.
	otherScope := models.Scope{OrgID: other.orgID, UserID: other.userID, Role: models.RoleAdmin}
	if _, err := f.Store.StartConversation(ctx, otherScope, models.StartInput{InboxID: other.inboxID, To: "+15550100299", Body: "own org marker"}); err != nil {
		t.Fatal(err)
	}
	// Publishing happens in the web layer; route the marker through HTTP instead.
	other.post("/chats", url.Values{"inbox": {itoa(other.inboxID)}, "to": {"+15550100298"}, "body": {"own org marker via http"}})
	ls.quietUntil(t, "secret follow-up", "own org marker via http")
	if resp, _ := other.client.get("/chats/" + id); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("other org opening the conversation: %d", resp.StatusCode)
	}
	for _, p := range []string{"/messages", "/assign", "/close", "/reopen"} {
		if resp, _ := other.post("/chats/"+id+p, url.Values{"body": {"x"}, "assignee": {"me"}}); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("other org POST %s: %d", p, resp.StatusCode)
		}
	}
}

func TestSocketRefusals(t *testing.T) {
	f := newFixture(t)
	anon := f.client(t)
	if _, resp, err := anon.dial(t, f.URL); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous socket: %v %v", err, resp)
	}
	a := f.client(t)
	a.login(adminEmail, adminPassword)
	// A foreign host, and the server's own host under the other scheme
	// (the base URL is http://).
	for _, origin := range []string{"http://evil.example", "https://" + strings.TrimPrefix(f.URL, "http://")} {
		if _, resp, err := a.dial(t, origin); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("origin %s: %v %v", origin, err, resp)
		}
	}
	if _, _, err := a.dial(t, f.URL); err != nil {
		t.Fatalf("own origin: %v", err)
	}
}
