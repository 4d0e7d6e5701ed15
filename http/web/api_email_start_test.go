package web_test

import (
	"strings"
	"testing"
)

// POST /api/v1/conversations starts an email chat with a subject; without
// one, or with one too long, it is a 422 naming subject (the request is
// validated against the OpenAPI description like every other).
func TestAPIStartEmailChat(t *testing.T) {
	f := newFixture(t)
	forgetNewRecipients(t, f)
	agent := apiAs(t, f, f.Demo.Org.ID, f.Demo.Agent.ID)
	inbox := f.Demo.Inbox.ID
	agent.expectProblem(422, "subject", "POST", "/conversations", map[string]any{"inbox_id": inbox, "to": "api-guest@example.org", "body": "Hi"})
	agent.expectProblem(422, "subject", "POST", "/conversations", map[string]any{"inbox_id": inbox, "to": "api-guest@example.org", "body": "Hi",
		"subject": strings.Repeat("s", 201)})
	var a startJSON
	agent.expect(201, "POST", "/conversations", map[string]any{"inbox_id": inbox, "channel": "email", "to": "API-Guest@example.org",
		"body": "Hello by email", "subject": "Your order"}, &a)
	if a.Conversation.Channel != "email" || a.Message.Status != "queued" || a.Message.Body != "Hello by email" {
		t.Fatalf("started: %+v", a)
	}
}
