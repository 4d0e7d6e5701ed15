package web_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// The broadcast rows of the role matrix: the pages and the API need
// broadcasts.send (managers and admins); the rival's admin has it in its
// own organization, so its lists answer and the demo's broadcast is a 404.

// matrixBroadcast is what the broadcast rows act on: a broadcast of the
// demo organization, scheduled for tomorrow (nothing fans out).
type matrixBroadcast struct {
	id int64
}

// placeholders are the broadcast rows' placeholders for matrixWorld.replacer.
func (b matrixBroadcast) placeholders() []string { return []string{"{bcast}", itoa(b.id)} }

// seedBroadcast schedules the demo's broadcast.
func (w *matrixWorld) seedBroadcast(t *testing.T) {
	t.Helper()
	admin := models.Scope{OrgID: w.f.Demo.Org.ID, UserID: w.f.Demo.Admin.ID, Role: models.RoleAdmin}
	at := time.Now().Add(24 * time.Hour)
	v, err := w.f.Store.CreateBroadcast(context.Background(), admin, models.BroadcastInput{Name: "Matrix broadcast " + runID,
		InboxID: w.f.Demo.Inbox.ID, Channels: []string{models.ChannelSMS}, Audience: models.Audience{LocationID: w.f.Demo.Location.ID},
		Body: "Matrix", ChatEnabled: true, SendAt: &at})
	if err != nil {
		t.Fatalf("matrix broadcast: %v", err)
	}
	w.bcast.id = v.ID
}

// rescheduleBroadcast puts back a broadcast the previous principal cancelled.
func rescheduleBroadcast(t *testing.T, w *matrixWorld) {
	w.exec(t, "UPDATE broadcasts SET status = 'scheduled', finished_at = NULL WHERE id = ?", w.bcast.id)
}

// broadcastRows: the broadcast pages and API. A form or body without an
// audience is a 422 for whoever may send (nothing is stored).
var broadcastRows = []matrixRow{
	{route: "GET /broadcasts/new", path: "/broadcasts/new", expect: "LNNOONO"},
	{route: "POST /broadcasts", path: "/broadcasts", form: url.Values{"name": {"Matrix"}, "channels": {"sms"}, "audience": {"groups"}, "body": {"hi"}}, expect: "LNNIINI"},
	{route: "POST /broadcasts/estimate", path: "/broadcasts/estimate", form: url.Values{"channels": {"sms"}, "audience": {"groups"}}, expect: "LNNOONO"},
	{route: "GET /broadcasts/:id<int>", path: "/broadcasts/{bcast}", expect: "LNNOONN"},
	{route: "GET /broadcasts/:id<int>/progress", path: "/broadcasts/{bcast}/progress", expect: "LNNOONN"},
	{route: "GET /broadcasts/:id<int>/replies", path: "/broadcasts/{bcast}/replies?state=silent", expect: "LNNOONN"},
	{route: "GET /broadcasts/:id<int>/replies.csv", path: "/broadcasts/{bcast}/replies.csv", expect: "LNNOONN"},
	{route: "POST /broadcasts/:id<int>/cancel", path: "/broadcasts/{bcast}/cancel", form: url.Values{}, expect: "LNNOONN", prep: rescheduleBroadcast},
	{route: "POST /broadcasts/:id<int>/assign", path: "/broadcasts/{bcast}/assign", form: url.Values{"assignee": {"{admin}"}}, expect: "LNNOONN"},
	{route: "POST /broadcasts/:id<int>/close", path: "/broadcasts/{bcast}/close", form: url.Values{}, expect: "LNNOONN"},

	{route: "GET /api/v1/broadcasts", path: "/api/v1/broadcasts", expect: "LNNOONO"},
	{route: "POST /api/v1/broadcasts", path: "/api/v1/broadcasts", json: `{"name":"Matrix","channels":["sms"],"audience":{},"body":"hi"}`, expect: "LNNIINI"},
	{route: "POST /api/v1/broadcasts/estimate", path: "/api/v1/broadcasts/estimate", json: `{"name":"Matrix","channels":["sms"],"audience":{},"body":"hi"}`, expect: "LNNIINI"},
	{route: "GET /api/v1/broadcasts/:id<int>", path: "/api/v1/broadcasts/{bcast}", expect: "LNNOONN"},
	{route: "POST /api/v1/broadcasts/:id<int>/cancel", path: "/api/v1/broadcasts/{bcast}/cancel", expect: "LNNOONN", prep: rescheduleBroadcast},
	{route: "GET /api/v1/broadcasts/:id<int>/replies", path: "/api/v1/broadcasts/{bcast}/replies", expect: "LNNOONN"},
}
