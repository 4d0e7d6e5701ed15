package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/models"
)

// matrixTable is every row of the role matrix: the chat pages and
// operations (policy_matrix_test.go), then administration and the API's
// resources (policy_matrix_rows_test.go).
func matrixTable() []matrixRow {
	rows := append([]matrixRow{}, matrixRows...)
	rows = append(rows, adminRows...)
	rows = append(rows, importRows...)    // import_matrix_test.go
	rows = append(rows, broadcastRows...) // policy_matrix_broadcast_test.go
	rows = append(rows, groupRows...)     // policy_matrix_groups_test.go
	return append(rows, apiRows...)
}

// seedAdministration adds what the administration rows act on: the
// conversations' recipients, a recipient without conversations, a location
// and an inbox to change, an inbox and a closure to delete, a user to
// edit, and a token of the admin's to revoke. What the rows create is
// removed at the end (by this run's names).
func (w *matrixWorld) seedAdministration(t *testing.T, mk func(string, bool, ...int64) (int64, string, string)) {
	t.Helper()
	ctx := context.Background()
	db := w.f.Store.DB()
	org := w.f.Demo.Org.ID
	recipient := func(conv int64) (id int64, phone string) {
		if err := db.NewRaw(`SELECT r.id, r.phone FROM recipients r JOIN conversations c ON c.recipient_id = r.id WHERE c.id = ?`,
			conv).Scan(ctx, &id, &phone); err != nil {
			t.Fatal(err)
		}
		return id, phone
	}
	w.recA, w.recAphone = recipient(w.convA)
	w.recB, w.recBphone = recipient(w.convB)
	freshRecipientDel(t, w)
	if err := db.NewRaw(`INSERT INTO locations (org_id, name, plan_status) VALUES (?, ?, 'active') RETURNING id`,
		org, "Matrix loc "+runID).Scan(ctx, &w.loc); err != nil {
		t.Fatal(err)
	}
	w.inboxC = w.newInbox(t, "Matrix C")
	w.inboxDel = w.newInbox(t, "Matrix delete")
	w.closure = w.newClosure(t)
	w.targetID, w.targetEmail, _ = mk(models.RoleAgent, false)
	_, tok, err := w.f.Store.CreateAPIToken(ctx, w.scope(pAdmin), "matrix revoke")
	if err != nil {
		t.Fatal(err)
	}
	w.tokenID = tok.ID
	linkUser, _, _ := mk(models.RoleAgent, false)
	if w.link, err = w.f.Store.ResetPasswordLink(ctx, w.scope(pAdmin), linkUser); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		like := "%" + runID + "%"
		for _, q := range []string{
			"DELETE FROM api_tokens WHERE name LIKE ?",
			"DELETE FROM inboxes WHERE name LIKE ?",
			"DELETE FROM locations WHERE name LIKE ?",
			"DELETE FROM users WHERE email LIKE 'matrix-new-%' AND email LIKE ? OR email LIKE 'matrix-api-%' AND email LIKE ?",
			"DELETE FROM recipients WHERE name LIKE ? OR email LIKE ?",
		} {
			args := []any{like}
			if strings.Count(q, "?") == 2 {
				args = append(args, like)
			}
			if _, err := db.NewRaw(q, args...).Exec(ctx); err != nil {
				t.Logf("matrix cleanup: %s: %v", q, err)
			}
		}
	})
}

// newInbox adds an inbox without conversations to the matrix's location.
func (w *matrixWorld) newInbox(t *testing.T, name string) int64 {
	t.Helper()
	var id int64
	if err := w.f.Store.DB().NewRaw(`INSERT INTO inboxes (org_id, location_id, name) VALUES (?, ?, ?) RETURNING id`,
		w.f.Demo.Org.ID, w.f.Demo.Location.ID, name+" "+itoa(phoneSeq.Add(1))+" "+runID).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// newClosure adds a closure to inbox B.
func (w *matrixWorld) newClosure(t *testing.T) int64 {
	t.Helper()
	var id int64
	if err := w.f.Store.DB().NewRaw(`INSERT INTO inbox_closures (org_id, inbox_id, name, starts_on, ends_on)
		VALUES (?, ?, 'Matrix closure', '2030-12-24', '2030-12-26') RETURNING id`,
		w.f.Demo.Org.ID, w.inboxB).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// newRule adds a forwarding rule to inbox B.
func (w *matrixWorld) newRule(t *testing.T) int64 {
	t.Helper()
	var id int64
	if err := w.f.Store.DB().NewRaw(`INSERT INTO forwarding_rules (org_id, inbox_id, targets, channels, schedule)
		VALUES (?, ?, '[{"email":"matrix@example.test"}]', '{email}', '{"kind":"always"}') RETURNING id`,
		w.f.Demo.Org.ID, w.inboxB).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// exec runs one statement of a row's prep.
func (w *matrixWorld) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := w.f.Store.DB().NewRaw(sql, args...).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// doJSON sends an API request with a JSON body ("": none).
func (c *client) doJSON(method, path, body string, header map[string]string) *http.Response {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = bytes.NewBufferString(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp
}

// TestPolicyMatrixRecipients: the recipients list (page and API) shows a
// limited agent only the recipients with a conversation in its inboxes;
// an agent of every inbox sees both; the rival sees neither.
func TestPolicyMatrixRecipients(t *testing.T) {
	w := newMatrixWorld(t)
	for _, c := range []struct {
		p          int
		seeA, seeB bool
	}{{pLimited, false, true}, {pAgent, true, true}, {pRival, false, false}} {
		for _, r := range []struct {
			id    int64
			phone string
			want  bool
		}{{w.recA, w.recAphone, c.seeA}, {w.recB, w.recBphone, c.seeB}} {
			q := "?q=" + strings.TrimPrefix(r.phone, "+")
			_, page := w.pages[c.p].get("/recipients" + q)
			if got := strings.Contains(page, `href="/recipients/`+itoa(r.id)+`"`); got != r.want {
				t.Errorf("/recipients%s as %s lists recipient %d: %v, want %v", q, principalNames[c.p], r.id, got, r.want)
			}
			_, body := w.f.client(t).do("GET", "/api/v1/recipients"+q, nil, map[string]string{"Authorization": "Bearer " + w.tokens[c.p]})
			if got := strings.Contains(body, `"id":`+itoa(r.id)+`,`); got != r.want {
				t.Errorf("/api/v1/recipients%s as %s lists recipient %d: %v, want %v\n%s", q, principalNames[c.p], r.id, got, r.want, body)
			}
		}
	}
}
