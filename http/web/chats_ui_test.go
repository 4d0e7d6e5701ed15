package web_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/parley-chat/parley/models"
)

// Under the New filter, opening a New conversation makes it Open; the
// list of the page that shows it must still hold its row.
func TestOpenConversationStaysInItsList(t *testing.T) {
	f := newFixture(t)
	id := f.inbound(t, uniquePhone(), "stay-1", "Hi there").Conversation.ID
	c := f.client(t)
	c.login(agentEmail, agentPassword)
	resp, body := c.get("/chats/" + itoa(id) + "?status=new")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d", resp.StatusCode)
	}
	d := doc(t, body)
	if d.Find("#conv-list > #conv-"+itoa(id)).Length() != 1 {
		t.Errorf("the New list of the page showing conversation %d does not hold its row", id)
	}
	if !d.Find("#conv-list-empty").Is("[hidden]") {
		t.Error("the list says it is empty next to the open conversation's row")
	}
}

// An empty list says what its filter hides, with links, instead of
// "No conversations yet"; so does the text the browser asks for when its
// list empties live.
func TestEmptyListSaysWhatTheFilterHides(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	start := func(phone string) int64 {
		ch, err := f.Store.StartConversation(ctx, admin, models.StartInput{InboxID: f.Demo.Inbox.ID, To: phone, Body: "Hello"})
		if err != nil {
			t.Fatal(err)
		}
		return ch.Conversation.ID
	}
	closeConv := func(id int64) {
		if _, err := f.Store.Close(ctx, admin, id); err != nil {
			t.Fatal(err)
		}
	}
	// The counts are of conversations assigned to a user of this test's
	// own, so other tests' conversations (the package shares a database)
	// do not change them.
	c, userID, _ := freshAgent(t, f, "empty-list")
	emptyText := func(path string) (string, []string) {
		t.Helper()
		resp, body := c.get(path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		d := doc(t, body)
		sel := d.Find("#conv-list-empty")
		if sel.Length() == 0 { // the fragment alone
			sel = d.Find("body")
		} else if sel.Is("[hidden]") {
			t.Fatalf("GET %s: the empty text is hidden", path)
		}
		var links []string
		sel.Find("a").Each(func(_ int, a *goquery.Selection) { links = append(links, a.AttrOr("href", "")) })
		return strings.Join(strings.Fields(sel.Text()), " "), links
	}

	a, b := start(uniquePhone()), start(uniquePhone())
	for _, id := range []int64{a, b} {
		if _, err := f.Store.Assign(ctx, admin, id, userID); err != nil {
			t.Fatal(err)
		}
	}
	closeConv(a)
	got, links := emptyText("/chats?status=new&assignee=mine")
	if want := "No new conversations with these filters — 1 open, 1 closed."; got != want {
		t.Errorf("New list: %q, want %q", got, want)
	}
	if len(links) != 2 || links[0] != "/chats?assignee=mine&status=open" || links[1] != "/chats?assignee=mine&status=closed" {
		t.Errorf("New list links: %v", links)
	}
	closeConv(b)
	for _, path := range []string{"/chats?assignee=mine", "/chats/empty?status=active&assignee=mine&inbox=0&q="} {
		if got, _ := emptyText(path); got != "No new or open conversations with these filters — 2 closed." {
			t.Errorf("%s: %q", path, got)
		}
	}
	if got, links := emptyText("/chats?status=closed&assignee=unassigned&inbox=" + itoa(f.Demo.Inbox.ID+1000)); got != "No closed conversations with these filters." || len(links) != 0 {
		t.Errorf("Closed + unassigned in no inbox: %q %v", got, links)
	}
	if got, links := emptyText("/chats?q=nobody"); !strings.Contains(got, "No conversation matches “nobody”") || len(links) != 1 {
		t.Errorf("search: %q %v", got, links)
	}
}

// A reply to a closed conversation starts a new one; its thread shows the
// earlier conversation's history, collapsed, and the timeline is a polite
// live region.
func TestThreadShowsEarlierConversations(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	phone := uniquePhone()
	first := f.inbound(t, phone, "earlier-1", "My first question").Conversation.ID
	if _, err := f.Store.Close(ctx, admin, first); err != nil {
		t.Fatal(err)
	}
	second := f.inbound(t, phone, "earlier-2", "Back again").Conversation.ID
	if second == first {
		t.Fatal("the text after the close joined the closed conversation")
	}
	c := f.client(t)
	c.login(agentEmail, agentPassword)
	_, body := c.get("/chats/" + itoa(second))
	d := doc(t, body)
	tl := d.Find("#timeline-" + itoa(second))
	if tl.AttrOr("role", "") != "log" || tl.AttrOr("aria-live", "") != "polite" {
		t.Errorf("timeline role=%q aria-live=%q, want log and polite", tl.AttrOr("role", ""), tl.AttrOr("aria-live", ""))
	}
	earlier := tl.Find("details.earlier")
	if earlier.Length() != 1 {
		t.Fatalf("%d earlier conversations in the thread, want 1", earlier.Length())
	}
	if _, open := earlier.Attr("open"); open {
		t.Error("the earlier conversation is expanded; it should start collapsed")
	}
	summary := strings.Join(strings.Fields(earlier.Find("summary").Text()), " ")
	if !regexp.MustCompile(`^Earlier conversation — closed \d{1,2} [A-Z][a-z]{2}$`).MatchString(summary) {
		t.Errorf("summary %q", summary)
	}
	if !strings.Contains(earlier.Text(), "My first question") || strings.Contains(earlier.Text(), "Back again") {
		t.Errorf("earlier conversation's history: %q", earlier.Text())
	}
	if !strings.Contains(tl.Text(), "Back again") {
		t.Error("the new conversation's own message is missing")
	}
}

// A refused action answers with its reason in words, which the page
// shows next to the control (not a generic "Something went wrong").
func TestRefusedActionSaysWhy(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	phone := uniquePhone()
	old := f.inbound(t, phone, "refused-1", "Old").Conversation.ID
	if _, err := f.Store.Close(ctx, admin, old); err != nil {
		t.Fatal(err)
	}
	f.inbound(t, phone, "refused-2", "New")
	c := f.client(t)
	c.login(agentEmail, agentPassword)
	resp, body := c.post("/chats/"+itoa(old)+"/reopen", nil)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("reopen: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if want := "A newer conversation with this recipient is already open; continue there."; body != want {
		t.Errorf("reopen refused with %q, want %q", body, want)
	}
}

// The viewers of a list row go to a target every Chats screen has, even
// one whose list does not show that row (htmx:oobErrorNoTarget otherwise).
func TestRowViewersFrameAlwaysHasATarget(t *testing.T) {
	f := newFixture(t)
	id := f.inbound(t, uniquePhone(), "viewers-1", "Anyone?").Conversation.ID
	b := f.client(t)
	b.login(agentEmail, agentPassword)
	_, page := b.get("/chats?status=closed") // the row is not in this list
	bs := b.liveNow(t, f.URL)
	f.awaitMembers(t, "inbox:"+itoa(f.Demo.Inbox.ID), 1)

	a := f.client(t)
	a.login(adminEmail, adminPassword)
	as := a.liveNow(t, f.URL)
	as.send(t, map[string]any{"view": id})
	frame := bs.await(t, "Avery Admin is viewing")
	targets := regexp.MustCompile(`hx-swap-oob="(?:\w+:)?#([\w-]+)"`).FindAllStringSubmatch(frame, -1)
	if len(targets) == 0 {
		t.Fatalf("no out-of-band target in the viewers frame:\n%s", frame)
	}
	d := doc(t, page)
	for _, m := range targets {
		if d.Find("#"+m[1]).Length() == 0 {
			t.Errorf("the viewers frame targets #%s, which the Closed list's page lacks:\n%s", m[1], frame)
		}
	}
}

// freshAgent adds an agent who sees every inbox, signed in; name makes
// the email unique (with the run's id).
func freshAgent(t *testing.T, f *fixture, name string) (c *client, id int64, email string) {
	t.Helper()
	ctx := context.Background()
	hash, err := models.HashPassword("fresh password 1")
	if err != nil {
		t.Fatal(err)
	}
	email = name + "-" + runID + "-" + strconv.FormatInt(phoneSeq.Add(1), 10) + "@demo.parley.test"
	if err := f.Store.DB().NewRaw(`INSERT INTO users (org_id, email, name, role, password_hash, all_inboxes)
		VALUES (?, ?, 'Fresh Agent', 'agent', ?, true) RETURNING id`, f.Demo.Org.ID, email, hash).Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	c = f.client(t)
	c.login(email, "fresh password 1")
	return c, id, email
}
