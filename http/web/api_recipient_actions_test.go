package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// TestAPIRecipientActions: a plain DELETE of a recipient with
// conversations is refused saying how many go with them, and
// ?with_conversations=true deletes them; merge answers with the survivor
// and refuses a recipient with itself; the timeline lists consent changes
// and finds messages by text; PATCH sets the time zone and refuses a bad
// one; a STOPped recipient's opt-in is refused on opted_out.
func TestAPIRecipientActions(t *testing.T) {
	f := newFixture(t)
	forgetNewRecipients(t, f)
	ctx := context.Background()
	admin := models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Admin.ID, Role: models.RoleAdmin}
	token, _, err := f.Store.CreateAPIToken(ctx, admin, "recipient actions")
	if err != nil {
		t.Fatal(err)
	}
	const phone = "+15550105401"
	conv := startChatAs(t, f, phone, "Your parcel is at the depot")
	rid := conv.RecipientID
	path := fmt.Sprintf("/recipients/%d", rid)

	st, p := apiCall(t, f, token, "DELETE", path, nil)
	if st != 409 || !strings.Contains(fmt.Sprint(p["detail"]), "1 conversations with 1 messages") {
		t.Fatalf("plain delete: %d %v", st, p)
	}
	if st, p = apiCall(t, f, token, "GET", path+"/timeline?q=parcel", nil); st != 200 {
		t.Fatalf("timeline search: %d %v", st, p)
	}
	if data, _ := p["data"].([]any); len(data) != 1 || data[0].(map[string]any)["kind"] != "message" {
		t.Fatalf("timeline search: %v", p)
	}
	if st, p = apiCall(t, f, token, "PATCH", path, map[string]any{"timezone": "Nowhere/Town"}); st != 422 || problemField(p) != "timezone" {
		t.Fatalf("bad time zone: %d %v", st, p)
	}
	// A new name with a bad place: refused whole, the name unchanged.
	if st, p = apiCall(t, f, token, "PATCH", path, map[string]any{"name": "Renamed Halfway", "location_id": 1 << 40}); st != 422 || problemField(p) != "location_id" {
		t.Fatalf("name with a bad location: %d %v", st, p)
	}
	if st, p = apiCall(t, f, token, "GET", path, nil); st != 200 || p["name"] == "Renamed Halfway" {
		t.Fatalf("a refused PATCH changed the name: %d %v", st, p)
	}
	if st, p = apiCall(t, f, token, "PATCH", path, map[string]any{"timezone": "Europe/Paris", "location_id": f.Demo.Location.ID}); st != 200 || p["timezone"] != "Europe/Paris" {
		t.Fatalf("time zone: %d %v", st, p)
	}
	if st, p = apiCall(t, f, token, "POST", path+"/merge", map[string]any{"other_id": rid}); st != 422 || problemField(p) != "other_id" {
		t.Fatalf("merge with itself: %d %v", st, p)
	}
	other, err := f.Store.CreateRecipient(ctx, admin, models.RecipientInput{Email: new(fmt.Sprintf("api-merge-%d@example.test", time.Now().UnixNano()))})
	if err != nil {
		t.Fatal(err)
	}
	if st, p = apiCall(t, f, token, "POST", path+"/merge", map[string]any{"other_id": other.ID}); st != 200 || p["email"] != *other.Email || p["id"] != float64(rid) {
		t.Fatalf("merge: %d %v", st, p)
	}
	in := models.InboundSMS{Provider: "vonage", ProviderMessageID: fmt.Sprintf("apira-%d", time.Now().UnixNano()),
		From: phone, To: *f.Demo.Inbox.SMSNumber, Body: "STOP"}
	if _, err := f.Store.ReceiveSMS(ctx, in); err != nil {
		t.Fatal(err)
	}
	if st, p = apiCall(t, f, token, "POST", path+"/consent", map[string]any{"channel": "sms", "opted_out": false}); st != 422 || problemField(p) != "opted_out" {
		t.Fatalf("opt-in after STOP: %d %v", st, p)
	}
	if st, p = apiCall(t, f, token, "GET", path+"/consent", nil); st != 200 {
		t.Fatalf("consent: %d %v", st, p)
	}
	if chans, _ := p["channels"].([]any); len(chans) == 0 || chans[0].(map[string]any)["source"] != "keyword" {
		t.Fatalf("consent source: %v", p)
	}
	// STOPped: never deleted. Opt back in by START, then delete with the conversations.
	in.ProviderMessageID, in.Body = in.ProviderMessageID+"-start", "START"
	if _, err := f.Store.ReceiveSMS(ctx, in); err != nil {
		t.Fatal(err)
	}
	if st, p = apiCall(t, f, token, "DELETE", path+"?with_conversations=true", nil); st != 204 {
		t.Fatalf("delete with conversations: %d %v", st, p)
	}
	if st, _ = apiCall(t, f, token, "GET", path, nil); st != 404 {
		t.Fatalf("after delete: %d", st)
	}
}
