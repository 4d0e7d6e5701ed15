package web_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// A send the location's credits do not cover is a 402 problem, typed,
// titled "Insufficient credits", with the balance and the price as
// extension members, for a reply and for starting a chat; nothing is
// written. A location whose plan is not active refuses a new chat with a
// 422 typed plan-inactive.
func TestAPISendRefusedForCredits(t *testing.T) {
	f := newFixture(t)
	forgetNewRecipients(t, f)
	loc, inbox := creditsLocation(t, f, "Refusal Office", 3)
	agent := apiAs(t, f, f.Demo.Org.ID, f.Demo.Agent.ID)

	var started startJSON
	agent.expect(201, "POST", "/conversations", map[string]any{"inbox_id": inbox.ID, "to": "+15550304901", "body": "First"}, &started)

	check := func(what string, body string) {
		t.Helper()
		var p struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Status  int    `json:"status"`
			Detail  string `json:"detail"`
			Balance *int64 `json:"balance"`
			Needed  *int64 `json:"needed"`
		}
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatalf("%s: %v in %s", what, err, body)
		}
		if p.Type != "https://parley.chat/problems/insufficient-credits" || p.Title != "Insufficient credits" || p.Status != 402 ||
			p.Balance == nil || *p.Balance != 1 || p.Needed == nil || *p.Needed != 2 ||
			!strings.Contains(p.Detail, "needs 2") || !strings.Contains(p.Detail, "balance is 1") {
			t.Errorf("%s: %s", what, body)
		}
	}
	path := fmt.Sprintf("/conversations/%d/messages", started.Conversation.ID)
	resp, body := agent.call("POST", path, map[string]any{"body": "Second"}, nil)
	if resp.StatusCode != 402 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("reply: %d %s", resp.StatusCode, body)
	}
	check("reply", body)
	resp, body = agent.call("POST", "/conversations", map[string]any{"inbox_id": inbox.ID, "to": "+15550304902", "body": "Hi"}, nil)
	if resp.StatusCode != 402 {
		t.Fatalf("start: %d %s", resp.StatusCode, body)
	}
	check("start", body)
	// With an Idempotency-Key the refusal is the same, and nothing is kept.
	resp, body = agent.call("POST", path, map[string]any{"body": "Third"}, nil, "Idempotency-Key", "credits-refusal-1")
	if resp.StatusCode != 402 {
		t.Fatalf("reply with a key: %d %s", resp.StatusCode, body)
	}
	var msgs struct {
		Data []struct {
			Body string `json:"body"`
		} `json:"data"`
	}
	agent.expect(200, "GET", path, nil, &msgs)
	if len(msgs.Data) != 1 || msgs.Data[0].Body != "First" {
		t.Errorf("messages after the refusals: %+v", msgs)
	}
	var n int
	if err := f.Store.DB().NewRaw("SELECT count(*) FROM recipients WHERE phone = '+15550304902'").Scan(t.Context(), &n); err != nil || n != 0 {
		t.Errorf("the refused chat's recipient was kept: %d %v", n, err)
	}

	// A plan that is not active: 422, typed.
	f.Store.DB().NewRaw("UPDATE locations SET plan_status = 'inactive' WHERE id = ?", loc.ID).Exec(t.Context())
	p := agent.expectProblem(422, "", "POST", "/conversations", map[string]any{"inbox_id": inbox.ID, "to": "+15550304903", "body": "Hi"})
	if !strings.HasSuffix(p.Type, "/plan-inactive") {
		t.Errorf("plan inactive: %+v", p)
	}
}
