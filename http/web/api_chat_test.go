package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/models"
)

// forgetNewRecipients deletes, when the test ends, the recipients it
// created (their conversations, messages and events go with them), so
// later tests see the demo as they expect it. Call it after limitedAgent:
// cleanups run last-registered first, and the limited agent's inbox and
// user can only go once their conversations are gone.
func forgetNewRecipients(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	var last int64
	if err := f.Store.DB().NewRaw("SELECT coalesce(max(id), 0) FROM recipients").Scan(ctx, &last); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := f.Store.DB().NewRaw("DELETE FROM recipients WHERE id > ?", last).Exec(ctx); err != nil {
			t.Errorf("forget the test's recipients: %v", err)
		}
	})
}

// apiCaller calls the JSON API with one bearer token.
type apiCaller struct {
	t     *testing.T
	base  string
	token string
}

// apiAs makes a token for a user (by id) and returns a caller with it.
func apiAs(t *testing.T, f *fixture, orgID, userID int64) *apiCaller {
	t.Helper()
	tok, _, err := f.Store.CreateAPIToken(t.Context(), models.Scope{OrgID: orgID, UserID: userID}, "chat api test")
	if err != nil {
		t.Fatal(err)
	}
	return &apiCaller{t: t, base: f.URL, token: tok}
}

// call sends a request (body: JSON-encoded unless nil) and decodes the
// answer into out (when not nil); it returns the response and raw body.
func (a *apiCaller) call(method, path string, body any, out any, headers ...string) (*http.Response, string) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+"/api/v1"+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			a.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp, string(raw)
}

// expect fails unless the call answers status.
func (a *apiCaller) expect(status int, method, path string, body any, out any, headers ...string) string {
	a.t.Helper()
	resp, raw := a.call(method, path, body, out, headers...)
	if resp.StatusCode != status {
		a.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, status, raw)
	}
	return raw
}

// expectProblem fails unless the call is a problem of status naming field
// (when field is not "") and returns it.
func (a *apiCaller) expectProblem(status int, field, method, path string, body any, headers ...string) apiProblem {
	a.t.Helper()
	resp, raw := a.call(method, path, body, nil, headers...)
	var p apiProblem
	if err := json.Unmarshal([]byte(raw), &p); err != nil || resp.StatusCode != status || p.Status != status ||
		resp.Header.Get("Content-Type") != "application/problem+json" {
		a.t.Fatalf("%s %s: %d %s, want a %d problem", method, path, resp.StatusCode, raw, status)
	}
	if field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != field) {
		a.t.Fatalf("%s %s: problem %s does not name %q", method, path, raw, field)
	}
	return p
}

// otherOrgAdmin makes a second organization with an admin and returns a
// caller for that admin.
func otherOrgAdmin(t *testing.T, f *fixture, slug string) *apiCaller {
	t.Helper()
	ctx := context.Background()
	db := f.Store.DB()
	var orgID, userID int64
	if err := db.NewRaw("INSERT INTO organizations (name, slug) VALUES (?, ?) RETURNING id", "Other "+slug, slug).Scan(ctx, &orgID); err != nil {
		t.Fatal(err)
	}
	if err := db.NewRaw(`INSERT INTO users (org_id, email, name, role, password_hash) VALUES (?, ?, 'Other Admin', 'admin', 'x') RETURNING id`,
		orgID, "admin@"+slug+".test").Scan(ctx, &userID); err != nil {
		t.Fatal(err)
	}
	return apiAs(t, f, orgID, userID)
}

type recipientJSON struct {
	ID          int64   `json:"id"`
	Name        string  `json:"name"`
	Phone       *string `json:"phone"`
	Email       *string `json:"email"`
	Notes       string  `json:"notes"`
	SMSOptedOut bool    `json:"sms_opted_out"`
}

type convJSON struct {
	ID         int64  `json:"id"`
	InboxID    int64  `json:"inbox_id"`
	Channel    string `json:"channel"`
	Status     string `json:"status"`
	AssigneeID *int64 `json:"assignee_id"`
	Recipient  struct {
		ID    int64   `json:"id"`
		Name  string  `json:"name"`
		Phone *string `json:"phone"`
	} `json:"recipient"`
	UnreadCount   int    `json:"unread_count"`
	LastMessageAt string `json:"last_message_at"`
}

type messageJSON struct {
	ID             int64  `json:"id"`
	ConversationID int64  `json:"conversation_id"`
	Body           string `json:"body"`
	Note           bool   `json:"note"`
	Status         string `json:"status"`
	Segments       int    `json:"segments"`
	Direction      string `json:"direction"`
}

type startJSON struct {
	Conversation convJSON    `json:"conversation"`
	Message      messageJSON `json:"message"`
}

// TestAPIRecipients: create, read, edit, list, consent and delete through
// the API, with validation naming the field, 409 on deleting a recipient
// with conversations, consent by hand for admins only, and another
// organization's ids answering 404.
func TestAPIRecipients(t *testing.T) {
	f := newFixture(t)
	forgetNewRecipients(t, f)
	admin := apiAs(t, f, f.Demo.Org.ID, f.Demo.Admin.ID)
	agent := apiAs(t, f, f.Demo.Org.ID, f.Demo.Agent.ID)

	var r recipientJSON
	admin.expect(201, "POST", "/recipients", map[string]any{"name": "Grace Hopper", "phone": "(555) 010-4501", "notes": "Navy"}, &r)
	if r.ID == 0 || r.Phone == nil || *r.Phone != "+15550104501" || r.Name != "Grace Hopper" || r.Notes != "Navy" {
		t.Fatalf("created: %+v", r)
	}
	agent.expectProblem(422, "phone", "POST", "/recipients", map[string]any{"phone": "+1 555 010 4501"})
	agent.expectProblem(422, "email", "POST", "/recipients", map[string]any{"email": "nope"})
	agent.expectProblem(422, "colour", "POST", "/recipients", map[string]any{"phone": "+15550104502", "colour": "red"})

	var got recipientJSON
	agent.expect(200, "GET", fmt.Sprintf("/recipients/%d", r.ID), nil, &got)
	if got.ID != r.ID || got.Name != "Grace Hopper" {
		t.Fatalf("get: %+v", got)
	}
	agent.expect(200, "PATCH", fmt.Sprintf("/recipients/%d", r.ID), map[string]any{"name": "Rear Admiral Hopper"}, &got)
	if got.Name != "Rear Admiral Hopper" || *got.Phone != "+15550104501" || got.Notes != "Navy" {
		t.Fatalf("patch changed more than the name: %+v", got)
	}
	agent.expectProblem(422, "phone", "PATCH", fmt.Sprintf("/recipients/%d", r.ID), map[string]any{"phone": "12"})

	var list struct {
		Data       []recipientJSON `json:"data"`
		NextCursor string          `json:"next_cursor"`
	}
	agent.expect(200, "GET", "/recipients?q=Admiral", nil, &list)
	if len(list.Data) != 1 || list.Data[0].ID != r.ID {
		t.Fatalf("search: %+v", list)
	}
	var p2 recipientJSON
	admin.expect(201, "POST", "/recipients", map[string]any{"phone": "+15550104503"}, &p2)
	agent.expect(200, "GET", "/recipients?limit=1", nil, &list)
	if len(list.Data) != 1 || list.NextCursor == "" {
		t.Fatalf("first page: %+v", list)
	}
	firstID := list.Data[0].ID
	agent.expect(200, "GET", "/recipients?limit=1&cursor="+list.NextCursor, nil, &list)
	if len(list.Data) != 1 || list.Data[0].ID >= firstID {
		t.Fatalf("second page: %+v after %d", list, firstID)
	}

	// Consent: admins only; the history names the actor.
	agent.expectProblem(404, "", "POST", fmt.Sprintf("/recipients/%d/consent", r.ID), map[string]any{"channel": "sms", "opted_out": true})
	admin.expectProblem(422, "channel", "POST", fmt.Sprintf("/recipients/%d/consent", r.ID), map[string]any{"channel": "fax", "opted_out": true})
	var consent struct {
		Channels []struct {
			Channel  string `json:"channel"`
			OptedOut bool   `json:"opted_out"`
		} `json:"channels"`
		History []struct {
			Action      string `json:"action"`
			Source      string `json:"source"`
			Detail      string `json:"detail"`
			ActorUserID *int64 `json:"actor_user_id"`
		} `json:"history"`
	}
	admin.expect(200, "POST", fmt.Sprintf("/recipients/%d/consent", r.ID), map[string]any{"channel": "sms", "opted_out": true, "reason": "Asked in person"}, &consent)
	agent.expect(200, "GET", fmt.Sprintf("/recipients/%d/consent", r.ID), nil, &consent)
	if len(consent.Channels) != 2 || consent.Channels[0].Channel != "sms" || !consent.Channels[0].OptedOut || consent.Channels[1].OptedOut ||
		len(consent.History) != 1 || consent.History[0].Source != "agent" || consent.History[0].Detail != "Asked in person" ||
		consent.History[0].ActorUserID == nil || *consent.History[0].ActorUserID != f.Demo.Admin.ID {
		t.Fatalf("consent: %+v", consent)
	}

	// Delete: refused with conversations, fine without.
	var st startJSON
	admin.expect(201, "POST", "/conversations", map[string]any{"inbox_id": f.Demo.Inbox.ID, "recipient_id": p2.ID, "body": "Hello"}, &st)
	if st.Conversation.Recipient.ID != p2.ID {
		t.Fatalf("started with another recipient: %+v", st)
	}
	p := admin.expectProblem(409, "", "DELETE", fmt.Sprintf("/recipients/%d", p2.ID), nil)
	if !strings.Contains(p.Detail, "conversations") {
		t.Fatalf("409 detail: %q", p.Detail)
	}
	// r opted out of texts above: deleting them would forget it.
	if p := admin.expectProblem(409, "", "DELETE", fmt.Sprintf("/recipients/%d", r.ID), nil); !strings.HasSuffix(p.Type, "/recipient-opted-out") {
		t.Fatalf("deleting an opted-out recipient: %+v", p)
	}
	var gone recipientJSON
	admin.expect(201, "POST", "/recipients", map[string]any{"phone": "+15550104504"}, &gone)
	admin.expect(204, "DELETE", fmt.Sprintf("/recipients/%d", gone.ID), nil, nil)
	admin.expectProblem(404, "", "GET", fmt.Sprintf("/recipients/%d", gone.ID), nil)

	other := otherOrgAdmin(t, f, "api-recipients")
	for _, path := range []string{fmt.Sprintf("/recipients/%d", p2.ID), fmt.Sprintf("/recipients/%d/consent", p2.ID)} {
		other.expectProblem(404, "", "GET", path, nil)
	}
	other.expectProblem(404, "", "PATCH", fmt.Sprintf("/recipients/%d", p2.ID), map[string]any{"name": "x"})
	other.expectProblem(404, "", "DELETE", fmt.Sprintf("/recipients/%d", p2.ID), nil)
	other.expect(200, "GET", "/recipients?q=010-4503", nil, &list)
	if len(list.Data) != 0 {
		t.Fatalf("another org lists our recipient: %+v", list)
	}
}

// TestAPIConversations: start, read, list with filters and keyset pages,
// assign, close, reopen, messages and notes, with refused sends typed,
// validation naming the field, and another organization's ids 404.
func TestAPIConversations(t *testing.T) {
	f := newFixture(t)
	forgetNewRecipients(t, f)
	ctx := context.Background()
	admin := apiAs(t, f, f.Demo.Org.ID, f.Demo.Admin.ID)
	agent := apiAs(t, f, f.Demo.Org.ID, f.Demo.Agent.ID)
	inbox := f.Demo.Inbox.ID

	agent.expectProblem(422, "inbox_id", "POST", "/conversations", map[string]any{"to": "+15550104601", "body": "Hi"})
	agent.expectProblem(422, "to", "POST", "/conversations", map[string]any{"inbox_id": inbox, "to": "12", "body": "Hi"})
	agent.expectProblem(422, "body", "POST", "/conversations", map[string]any{"inbox_id": inbox, "to": "+15550104601", "body": ""})
	agent.expectProblem(422, "to", "POST", "/conversations", map[string]any{"inbox_id": inbox, "body": "Hi"})
	agent.expectProblem(404, "", "POST", "/conversations", map[string]any{"inbox_id": 999999, "to": "+15550104601", "body": "Hi"})

	var a, b startJSON
	agent.expect(201, "POST", "/conversations", map[string]any{"inbox_id": inbox, "channel": "sms", "to": "(555) 010-4601", "body": "First chat"}, &a)
	if a.Conversation.Status != "open" || a.Conversation.Channel != "sms" || *a.Conversation.Recipient.Phone != "+15550104601" ||
		a.Message.Body != "First chat" || a.Message.Status != "queued" || a.Message.Segments != 1 || a.Message.ConversationID != a.Conversation.ID {
		t.Fatalf("started: %+v", a)
	}
	agent.expect(201, "POST", "/conversations", map[string]any{"inbox_id": inbox, "to": "+15550104602", "body": "Second chat"}, &b)

	var c convJSON
	agent.expect(200, "GET", fmt.Sprintf("/conversations/%d", a.Conversation.ID), nil, &c)
	if c.ID != a.Conversation.ID || c.InboxID != inbox {
		t.Fatalf("get: %+v", c)
	}

	// Assign: to a user, refused for a stranger, to nobody with null.
	admin.expect(200, "POST", fmt.Sprintf("/conversations/%d/assign", a.Conversation.ID), map[string]any{"user_id": f.Demo.Agent.ID}, &c)
	if c.AssigneeID == nil || *c.AssigneeID != f.Demo.Agent.ID {
		t.Fatalf("assigned: %+v", c)
	}
	admin.expectProblem(422, "user_id", "POST", fmt.Sprintf("/conversations/%d/assign", a.Conversation.ID), map[string]any{"user_id": 999999})

	var list struct {
		Data       []convJSON `json:"data"`
		NextCursor string     `json:"next_cursor"`
	}
	agent.expect(200, "GET", "/conversations?assignee=me", nil, &list)
	if len(list.Data) == 0 || list.Data[0].ID != a.Conversation.ID {
		t.Fatalf("assignee=me: %+v", list)
	}
	for _, cv := range list.Data {
		if cv.AssigneeID == nil || *cv.AssigneeID != f.Demo.Agent.ID {
			t.Fatalf("assignee=me listed %+v", cv)
		}
	}
	admin.expect(200, "GET", fmt.Sprintf("/conversations?assignee=%d&q=010-4601", f.Demo.Agent.ID), nil, &list)
	if len(list.Data) != 1 || list.Data[0].ID != a.Conversation.ID {
		t.Fatalf("assignee={id}: %+v", list)
	}
	admin.expect(200, "GET", fmt.Sprintf("/conversations?assignee=none&inbox_id=%d&q=010-460", inbox), nil, &list)
	if len(list.Data) != 1 || list.Data[0].ID != b.Conversation.ID {
		t.Fatalf("assignee=none: %+v", list)
	}
	admin.expect(200, "POST", fmt.Sprintf("/conversations/%d/assign", a.Conversation.ID), map[string]any{"user_id": nil}, &c)
	if c.AssigneeID != nil {
		t.Fatalf("unassigned: %+v", c)
	}
	agent.expectProblem(422, "status", "GET", "/conversations?status=new,gone", nil)
	agent.expectProblem(422, "assignee", "GET", "/conversations?assignee=someone", nil)

	// Keyset pages: b is newer than a.
	agent.expect(200, "GET", "/conversations?q=010-460&limit=1", nil, &list)
	if len(list.Data) != 1 || list.Data[0].ID != b.Conversation.ID || list.NextCursor == "" {
		t.Fatalf("page 1: %+v", list)
	}
	agent.expect(200, "GET", "/conversations?q=010-460&limit=1&cursor="+list.NextCursor, nil, &list)
	if len(list.Data) != 1 || list.Data[0].ID != a.Conversation.ID {
		t.Fatalf("page 2: %+v", list)
	}

	// Close and reopen; the status filter follows.
	agent.expect(200, "POST", fmt.Sprintf("/conversations/%d/close", a.Conversation.ID), nil, &c)
	if c.Status != "closed" {
		t.Fatalf("closed: %+v", c)
	}
	agent.expect(200, "GET", "/conversations?status=closed&q=010-460", nil, &list)
	if len(list.Data) != 1 || list.Data[0].ID != a.Conversation.ID {
		t.Fatalf("status=closed: %+v", list)
	}
	agent.expect(200, "GET", "/conversations?status=new,open,closed&q=010-460", nil, &list)
	if len(list.Data) != 2 {
		t.Fatalf("status=new,open,closed: %+v", list)
	}
	agent.expect(200, "POST", fmt.Sprintf("/conversations/%d/reopen", a.Conversation.ID), nil, &c)
	if c.Status != "open" {
		t.Fatalf("reopened: %+v", c)
	}

	// Messages: a reply, a note, the list newest first.
	var m, note messageJSON
	agent.expect(201, "POST", fmt.Sprintf("/conversations/%d/messages", a.Conversation.ID), map[string]any{"body": "A reply"}, &m)
	if m.Status != "queued" || m.Note || m.Direction != "outbound" {
		t.Fatalf("reply: %+v", m)
	}
	agent.expect(201, "POST", fmt.Sprintf("/conversations/%d/messages", a.Conversation.ID), map[string]any{"body": "Internal", "note": true}, &note)
	if !note.Note || note.Status != "none" {
		t.Fatalf("note: %+v", note)
	}
	agent.expectProblem(422, "body", "POST", fmt.Sprintf("/conversations/%d/messages", a.Conversation.ID), map[string]any{"body": "  "})
	var msgs struct {
		Data       []messageJSON `json:"data"`
		NextCursor string        `json:"next_cursor"`
	}
	agent.expect(200, "GET", fmt.Sprintf("/conversations/%d/messages?limit=2", a.Conversation.ID), nil, &msgs)
	if len(msgs.Data) != 2 || msgs.Data[0].ID != note.ID || msgs.Data[1].ID != m.ID || msgs.NextCursor == "" {
		t.Fatalf("messages page 1: %+v", msgs)
	}
	agent.expect(200, "GET", fmt.Sprintf("/conversations/%d/messages?cursor=%s", a.Conversation.ID, msgs.NextCursor), nil, &msgs)
	if len(msgs.Data) != 1 || msgs.Data[0].Body != "First chat" || msgs.NextCursor != "" {
		t.Fatalf("messages page 2: %+v", msgs)
	}

	// Refused sends say why in the problem's type.
	db := f.Store.DB()
	db.NewRaw("UPDATE locations SET plan_status = 'inactive' WHERE id = ?", f.Demo.Location.ID).Exec(ctx)
	p := agent.expectProblem(422, "", "POST", fmt.Sprintf("/conversations/%d/messages", a.Conversation.ID), map[string]any{"body": "No plan"})
	db.NewRaw("UPDATE locations SET plan_status = 'active' WHERE id = ?", f.Demo.Location.ID).Exec(ctx)
	if !strings.HasSuffix(p.Type, "/plan-inactive") {
		t.Fatalf("plan inactive: %+v", p)
	}
	admin.expect(200, "POST", fmt.Sprintf("/recipients/%d/consent", a.Conversation.Recipient.ID), map[string]any{"channel": "sms", "opted_out": true}, nil)
	p = agent.expectProblem(422, "", "POST", fmt.Sprintf("/conversations/%d/messages", a.Conversation.ID), map[string]any{"body": "Opted out"})
	if !strings.HasSuffix(p.Type, "/opted-out") {
		t.Fatalf("opted out: %+v", p)
	}
	p = agent.expectProblem(422, "", "POST", "/conversations", map[string]any{"inbox_id": inbox, "to": "+15550104601", "body": "Again"})
	if !strings.HasSuffix(p.Type, "/opted-out") {
		t.Fatalf("start with an opted-out recipient: %+v", p)
	}

	other := otherOrgAdmin(t, f, "api-conversations")
	id := a.Conversation.ID
	for _, path := range []string{fmt.Sprintf("/conversations/%d", id), fmt.Sprintf("/conversations/%d/messages", id)} {
		other.expectProblem(404, "", "GET", path, nil)
	}
	for _, action := range []string{"close", "reopen"} {
		other.expectProblem(404, "", "POST", fmt.Sprintf("/conversations/%d/%s", id, action), nil)
	}
	other.expectProblem(404, "", "POST", fmt.Sprintf("/conversations/%d/assign", id), map[string]any{"user_id": nil})
	other.expectProblem(404, "", "POST", fmt.Sprintf("/conversations/%d/messages", id), map[string]any{"body": "x"})
	other.expectProblem(404, "", "POST", "/conversations", map[string]any{"inbox_id": inbox, "to": "+15550104609", "body": "x"})
	other.expect(200, "GET", "/conversations?status=new,open,closed", nil, &list)
	if len(list.Data) != 0 {
		t.Fatalf("another org lists our conversations: %+v", list)
	}
}

// TestAPIIdempotentSend: the same Idempotency-Key replays the first
// response and creates one message, even sent concurrently; the key on
// another path is a 422.
func TestAPIIdempotentSend(t *testing.T) {
	f := newFixture(t)
	forgetNewRecipients(t, f)
	agent := apiAs(t, f, f.Demo.Org.ID, f.Demo.Agent.ID)
	var s startJSON
	agent.expect(201, "POST", "/conversations", map[string]any{"inbox_id": f.Demo.Inbox.ID, "to": "+15550104701", "body": "Start"}, &s,
		"Idempotency-Key", "start-1")
	var again startJSON
	resp, raw := agent.call("POST", "/conversations", map[string]any{"inbox_id": f.Demo.Inbox.ID, "to": "+15550104701", "body": "Start"}, &again,
		"Idempotency-Key", "start-1")
	if resp.StatusCode != 201 || resp.Header.Get("Idempotent-Replayed") != "true" || again.Message.ID != s.Message.ID {
		t.Fatalf("replayed start: %d %s", resp.StatusCode, raw)
	}
	path := fmt.Sprintf("/conversations/%d/messages", s.Conversation.ID)
	var wg sync.WaitGroup
	ids := make([]int64, 8)
	codes := make([]int, 8)
	for i := range ids {
		wg.Go(func() {
			var m messageJSON
			resp, _ := agent.call("POST", path, map[string]any{"body": "Exactly once"}, &m, "Idempotency-Key", "send-race")
			ids[i], codes[i] = m.ID, resp.StatusCode
		})
	}
	wg.Wait()
	for i := range ids {
		if codes[i] != 201 || ids[i] != ids[0] || ids[0] == 0 {
			t.Fatalf("concurrent sends: codes %v ids %v", codes, ids)
		}
	}
	var msgs struct {
		Data []messageJSON `json:"data"`
	}
	agent.expect(200, "GET", path, nil, &msgs)
	n := 0
	for _, m := range msgs.Data {
		if m.Body == "Exactly once" {
			n++
		}
	}
	if n != 1 || len(msgs.Data) != 2 {
		t.Fatalf("messages after 8 sends with one key: %d of %+v", n, msgs.Data)
	}
	// The description lists the routes and says which take a key.
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name string `json:"name"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	agent.expect(200, "GET", "/openapi.json", nil, &doc)
	for _, p := range []string{"/api/v1/conversations", "/api/v1/conversations/{id}/messages"} {
		params := doc.Paths[p]["post"].Parameters
		if len(params) == 0 || params[len(params)-1].Name != "Idempotency-Key" {
			t.Errorf("openapi.json: POST %s parameters %+v lack Idempotency-Key", p, params)
		}
	}
	for _, p := range []string{"/api/v1/recipients/{id}/consent", "/api/v1/conversations/{id}/assign", "/api/v1/recipients"} {
		if len(doc.Paths[p]) == 0 {
			t.Errorf("openapi.json lacks %s", p)
		}
	}
	agent.expectProblem(422, "Idempotency-Key", "POST", "/conversations", map[string]any{"inbox_id": f.Demo.Inbox.ID, "to": "+15550104702", "body": "x"},
		"Idempotency-Key", "send-race")
}

// TestAPILimitedAgent (R9): a limited agent's token sees only its inboxes'
// conversations and recipients; the rest is 404.
func TestAPILimitedAgent(t *testing.T) {
	f := newFixture(t)
	_, number := limitedAgent(t, f)
	forgetNewRecipients(t, f)
	ctx := context.Background()
	var userID, inboxID int64
	if err := f.Store.DB().NewRaw("SELECT id FROM users WHERE email = 'limited@demo.parley.test'").Scan(ctx, &userID); err != nil {
		t.Fatal(err)
	}
	if err := f.Store.DB().NewRaw("SELECT id FROM inboxes WHERE sms_number = ?", number).Scan(ctx, &inboxID); err != nil {
		t.Fatal(err)
	}
	admin := apiAs(t, f, f.Demo.Org.ID, f.Demo.Admin.ID)
	limited := apiAs(t, f, f.Demo.Org.ID, userID)
	var front, back startJSON
	admin.expect(201, "POST", "/conversations", map[string]any{"inbox_id": f.Demo.Inbox.ID, "to": "+15550104801", "body": "Front"}, &front)
	limited.expect(201, "POST", "/conversations", map[string]any{"inbox_id": inboxID, "to": "+15550104802", "body": "Back"}, &back)
	limited.expectProblem(404, "", "POST", "/conversations", map[string]any{"inbox_id": f.Demo.Inbox.ID, "to": "+15550104803", "body": "x"})

	var list struct {
		Data []convJSON `json:"data"`
	}
	limited.expect(200, "GET", "/conversations?status=new,open,closed", nil, &list)
	if len(list.Data) != 1 || list.Data[0].ID != back.Conversation.ID {
		t.Fatalf("limited list: %+v", list)
	}
	limited.expectProblem(404, "", "GET", fmt.Sprintf("/conversations/%d", front.Conversation.ID), nil)
	limited.expectProblem(404, "", "GET", fmt.Sprintf("/conversations/%d/messages", front.Conversation.ID), nil)
	limited.expectProblem(404, "", "POST", fmt.Sprintf("/conversations/%d/messages", front.Conversation.ID), map[string]any{"body": "x"})
	limited.expectProblem(404, "", "GET", fmt.Sprintf("/recipients/%d", front.Conversation.Recipient.ID), nil)
	limited.expectProblem(404, "", "PATCH", fmt.Sprintf("/recipients/%d", front.Conversation.Recipient.ID), map[string]any{"name": "x"})
	limited.expect(200, "PATCH", fmt.Sprintf("/recipients/%d", back.Conversation.Recipient.ID), map[string]any{"name": "Back Office Guest"}, nil)
	var rl struct {
		Data []recipientJSON `json:"data"`
	}
	limited.expect(200, "GET", "/recipients?q=010-48", nil, &rl)
	if len(rl.Data) != 1 || rl.Data[0].ID != back.Conversation.Recipient.ID || rl.Data[0].Name != "Back Office Guest" {
		t.Fatalf("limited recipients: %+v", rl)
	}
}

// TestAPISendReachesSockets: a message sent through the API reaches an
// agent's live socket, as one sent from the page does.
func TestAPISendReachesSockets(t *testing.T) {
	f := newFixture(t)
	forgetNewRecipients(t, f)
	web := f.client(t)
	web.login(agentEmail, agentPassword)
	ws := web.liveNow(t, f.URL)
	f.awaitMembers(t, fmt.Sprintf("inbox:%d", f.Demo.Inbox.ID), 1)
	api := apiAs(t, f, f.Demo.Org.ID, f.Demo.Admin.ID)
	var s startJSON
	api.expect(201, "POST", "/conversations", map[string]any{"inbox_id": f.Demo.Inbox.ID, "to": "+15550104901", "body": "Sent by a program"}, &s)
	ws.await(t, "Sent by a program")
	api.expect(201, "POST", fmt.Sprintf("/conversations/%d/messages", s.Conversation.ID), map[string]any{"body": "And a second one"}, nil,
		"Idempotency-Key", "socket-1")
	ws.await(t, "And a second one")
	api.expect(200, "POST", fmt.Sprintf("/conversations/%d/close", s.Conversation.ID), nil, nil)
	ws.await(t, `data-status="closed"`)
}

// TestRecipientRenameReachesSockets: renaming a recipient (here through
// the API) reaches agents' screens at once, as a row frame with the new
// name, while a notes-only edit sends nothing, and no timeline shows it.
func TestRecipientRenameReachesSockets(t *testing.T) {
	f := newFixture(t)
	forgetNewRecipients(t, f)
	web := f.client(t)
	web.login(agentEmail, agentPassword)
	ws := web.liveNow(t, f.URL)
	f.awaitMembers(t, fmt.Sprintf("inbox:%d", f.Demo.Inbox.ID), 1)
	api := apiAs(t, f, f.Demo.Org.ID, f.Demo.Admin.ID)
	var s startJSON
	api.expect(201, "POST", "/conversations", map[string]any{"inbox_id": f.Demo.Inbox.ID, "to": "+15550104911", "body": "Before the rename"}, &s)
	ws.await(t, "Before the rename")
	api.expect(200, "PATCH", fmt.Sprintf("/recipients/%d", s.Conversation.Recipient.ID), map[string]any{"name": "Renamed Rowan"}, nil)
	ws.await(t, "Renamed Rowan")
	tl, err := f.Store.Timeline(t.Context(), models.Scope{OrgID: f.Demo.Org.ID}, s.Conversation.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range tl {
		if ev.Kind == models.EvRecipientUpdated {
			t.Fatalf("the timeline shows the rename event: %+v", ev)
		}
	}
	_, changes, err := f.Store.UpdateRecipient(t.Context(), models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin},
		s.Conversation.Recipient.ID, models.RecipientInput{Notes: strPtr("notes only")})
	if err != nil || len(changes) != 0 {
		t.Fatalf("a notes-only edit: %d changes, %v", len(changes), err)
	}
}

func strPtr(s string) *string { return &s }
