package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-chat/parley/models"
)

// startChatAs starts a chat through the store and returns it.
func startChatAs(t *testing.T, f *fixture, to, body string) models.ConversationRow {
	t.Helper()
	sc := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	ch, err := f.Store.StartConversation(t.Context(), sc, models.StartInput{InboxID: f.Demo.Inbox.ID, To: to, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return ch.Conversation
}

// TestRecipientPage: the page shows the recipient, its conversations and
// consent; a bad or duplicate field is shown next to the field (422) and
// changes nothing; a save redirects; only admins change consent, and the
// history then names them.
func TestRecipientPage(t *testing.T) {
	f := newFixture(t)
	forgetNewRecipients(t, f)
	conv := startChatAs(t, f, "+15550105001", "Page hello")
	startChatAs(t, f, "+15550105002", "Someone else")
	rid := conv.RecipientID
	page := fmt.Sprintf("/recipients/%d", rid)
	agent := f.client(t)
	agent.login(agentEmail, agentPassword)

	resp, body := agent.get(page)
	if resp.StatusCode != 200 || !strings.Contains(body, "15550105001") || !strings.Contains(body, fmt.Sprintf(`href="/chats/%d"`, conv.ID)) {
		t.Fatalf("recipient page: %d\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, "/consent") {
		t.Fatal("an agent sees the consent forms")
	}
	if _, list := agent.get("/recipients?q=010-5001"); !strings.Contains(list, `href="`+page+`"`) {
		t.Fatal("the recipients list does not link to the page")
	}

	tok := agent.csrf(page)
	form := func(name, phone string) url.Values {
		return url.Values{"_csrf": {tok}, "name": {name}, "phone": {phone}, "email": {""}, "notes": {"Called twice"}}
	}
	resp, body = agent.do("POST", page, form("Ada", "+1 555 010 5002"), nil)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="phone-error"`) || !strings.Contains(body, "Another recipient already has this phone number") {
		t.Fatalf("duplicate phone: %d\n%s", resp.StatusCode, body)
	}
	if r, _ := f.Store.RecipientByID(t.Context(), models.Scope{OrgID: f.Demo.Org.ID, Role: models.RoleAdmin}, rid); r.Name != "" {
		t.Fatalf("a refused save changed the name to %q", r.Name)
	}
	resp, _ = agent.do("POST", page, form("Ada Byron", "(555) 010-5003"), nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page+"?saved=1" {
		t.Fatalf("save: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body = agent.get(page + "?saved=1"); !strings.Contains(body, "Ada Byron") || !strings.Contains(body, `value="&#43;15550105003"`) || !strings.Contains(body, "Saved.") {
		t.Fatalf("after save:\n%s", body)
	}

	// Consent: 404 for an agent, a change with history for an admin.
	consent := url.Values{"_csrf": {tok}, "channel": {"sms"}, "action": {"opt_out"}, "reason": {"Asked at the desk"}}
	if resp, _ := agent.do("POST", page+"/consent", consent, nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("agent consent change: %d", resp.StatusCode)
	}
	admin := f.client(t)
	admin.login(adminEmail, adminPassword)
	atok := admin.csrf(page)
	consent.Set("_csrf", atok)
	if resp, _ := admin.do("POST", page+"/consent", consent, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin consent change: %d", resp.StatusCode)
	}
	_, body = admin.get(page)
	if !strings.Contains(body, "opted out") || !strings.Contains(body, "Asked at the desk") || !strings.Contains(body, "Opt back in") {
		t.Fatalf("history after opting out:\n%s", body)
	}
	if _, thread := agent.get(fmt.Sprintf("/chats/%d", conv.ID)); !strings.Contains(thread, "Avery Admin opted the recipient out: Asked at the desk") {
		t.Fatal("the thread's timeline does not show the opt-out by hand")
	}
	consent.Set("channel", "fax")
	if resp, body := admin.do("POST", page+"/consent", consent, nil); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Choose sms or email") {
		t.Fatalf("bad channel: %d", resp.StatusCode)
	}

	// A limited agent without a conversation with them: 404.
	limited, _ := limitedAgent(t, f)
	if resp, _ := limited.get(page); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("limited agent sees the page: %d", resp.StatusCode)
	}
}

// TestRenameFromThread: the thread's edit form renames the recipient and
// answers with the new header; a bad name is a 422 with the reason.
func TestRenameFromThread(t *testing.T) {
	f := newFixture(t)
	forgetNewRecipients(t, f)
	conv := startChatAs(t, f, "+15550105101", "Rename me")
	agent := f.client(t)
	agent.login(agentEmail, agentPassword)
	path := fmt.Sprintf("/chats/%d/recipient", conv.ID)
	resp, body := agent.post(path, url.Values{"name": {"Marie Curie"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "<h2>Marie Curie</h2>") || !strings.Contains(body, fmt.Sprintf("innerHTML:#thread-head-%d", conv.ID)) {
		t.Fatalf("rename: %d\n%s", resp.StatusCode, body)
	}
	if _, page := agent.get(fmt.Sprintf("/chats/%d", conv.ID)); !strings.Contains(page, "Marie Curie") {
		t.Fatal("the thread does not show the new name")
	}
	resp, body = agent.post(path, url.Values{"name": {strings.Repeat("x", 201)}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "too long") {
		t.Fatalf("long name: %d %s", resp.StatusCode, body)
	}
	if resp, _ := agent.post("/chats/999999/recipient", url.Values{"name": {"x"}}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown conversation: %d", resp.StatusCode)
	}
}
