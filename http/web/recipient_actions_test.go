package web_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-chat/parley/models"
)

// TestRecipientDeletePage: the confirmation says how many conversations
// and messages go; confirming deletes them and returns to the list; a bad
// time zone is shown next to its field.
func TestRecipientDeletePage(t *testing.T) {
	f := newFixture(t)
	forgetNewRecipients(t, f)
	conv := startChatAs(t, f, "+15550105601", "Delete page hello")
	page := fmt.Sprintf("/recipients/%d", conv.RecipientID)
	agent := f.client(t)
	agent.login(agentEmail, agentPassword)

	tok := agent.csrf(page)
	resp, body := agent.do("POST", page+"/place", url.Values{"_csrf": {tok}, "timezone": {"Atlantis/Central"}}, nil)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="timezone-error"`) {
		t.Fatalf("bad time zone: %d\n%s", resp.StatusCode, body)
	}
	resp, body = agent.get(page + "/delete")
	if resp.StatusCode != 200 || !strings.Contains(body, "1 conversation</strong>") || !strings.Contains(body, "1 message</strong>") {
		t.Fatalf("delete confirmation: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = agent.do("POST", page+"/delete", url.Values{"_csrf": {agent.csrf(page + "/delete")}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/recipients?deleted=1" {
		t.Fatalf("delete: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	admin := models.Scope{OrgID: f.Demo.Org.ID, Role: models.RoleAdmin}
	if _, err := f.Store.RecipientByID(t.Context(), admin, conv.RecipientID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}
