package views_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
	"github.com/parley-chat/parley/views"
)

// listRows are n conversation rows as the chats list reads them.
func listRows(n int) []models.ConversationRow {
	now := time.Now()
	rows := make([]models.ConversationRow, n)
	for i := range rows {
		phone, email, assignee := fmt.Sprintf("+1555765%04d", i), fmt.Sprintf("person%d@example.com", i), int64(7)
		name := "Sam Agent"
		r := models.ConversationRow{RecipientName: fmt.Sprintf("Martin Person %d", i), RecipientPhone: &phone,
			RecipientEmail: &email, InboxName: "Front Desk", LocationID: 1}
		r.ID, r.OrgID, r.InboxID, r.RecipientID, r.Channel = int64(1000+i), 1, 1, int64(i), models.ChannelSMS
		r.Status = []string{models.StatusNew, models.StatusOpen}[i%2]
		if i%3 == 0 {
			r.AssigneeID, r.AssigneeName = &assignee, &name
		}
		r.LastMessageAt = now.Add(-time.Duration(i) * 37 * time.Minute)
		r.LastMessagePreview = "Can I move my appointment to next week? Tuesday afternoon works best for me, thanks!"
		r.UnreadCount = i % 4
		rows[i] = r
	}
	return rows
}

// chatsData is the page's data as the handler builds it from the store's rows.
func chatsData(rows []models.ConversationRow, inboxes []models.Inbox) *views.ChatsData {
	return &views.ChatsData{Status: "active", Inboxes: inboxes, Page: &models.ConversationPage{Rows: rows, More: true},
		Rows: views.NewConvRows(rows, time.Now()), NextURL: "/chats?before=1"}
}

// BenchmarkChatsPageRender renders the Chats page with 50 rows, from the
// rows the store returns to the HTML written: "same rows" as when agents
// reload an unchanged list (rows rendered before are reused), "new rows"
// with every row changed since the last render.
func BenchmarkChatsPageRender(b *testing.B) {
	r, err := views.New(func(p string) string { return "/static/" + p })
	if err != nil {
		b.Fatal(err)
	}
	inboxes := []models.Inbox{{ID: 1, Name: "Front Desk"}}
	user := &models.User{ID: 7, Name: "Sam Agent", Role: models.RoleAgent}
	for _, changed := range []bool{false, true} {
		name := map[bool]string{false: "same rows", true: "new rows"}[changed]
		b.Run(name, func(b *testing.B) {
			rows := listRows(50)
			b.ReportAllocs()
			for b.Loop() {
				if changed {
					for i := range rows {
						rows[i].LastMessageAt = rows[i].LastMessageAt.Add(time.Millisecond)
					}
				}
				d := chatsData(rows, inboxes)
				if err := r.Page(io.Discard, "chats", views.Page{L: views.Layout{Title: "Chats", Active: "chats", User: user}, D: d}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
