package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/models"
)

// rawHTMLMail is a sender's mail whose HTML part tries to run script: the
// original must show it as text, never as markup.
const rawHTMLMail = "From: Pat <%s>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\n" +
	"Content-Type: multipart/alternative; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n%s\r\n" +
	"--b1\r\nContent-Type: text/html\r\n\r\n<p>%s</p><script>alert('original')</script><img src=x onerror=alert(2)>\r\n--b1--\r\n"

var mailSeq atomic.Int64

// emailSeed is an email conversation of the demo's inbox: a person's mail
// with a kept file (a non-ASCII name), an HTML file and an omitted one,
// then an automatic reply.
type emailSeed struct {
	conv              int64
	msg, autoMsg      int64
	pdf, html, big    int64
	subject, from, id string
}

// seedEmail stores the seed through ReceiveEmail, as the SMTP listener or
// the inbound webhook would.
func seedEmail(t *testing.T, f *fixture) *emailSeed {
	t.Helper()
	ctx := context.Background()
	n := mailSeq.Add(1)
	s := &emailSeed{subject: "Broken window in room 4", from: fmt.Sprintf("pat-%d-%d@example.com", time.Now().UnixNano(), n),
		id: fmt.Sprintf("m%d-%d@mail.example.com", time.Now().UnixNano(), n)}
	to := *f.Demo.Inbox.EmailAddress
	text := "The window <b>will not</b> close. Photo attached."
	in := models.InboundEmail{To: to, From: s.from, FromName: "Pat Sender", Subject: s.subject, HeaderID: s.id,
		Text: text, FullText: text + "\n\n-- \nPat\n> On Monday you wrote:\n> hello",
		Raw:        []byte(fmt.Sprintf(rawHTMLMail, s.from, to, s.subject, s.id, text, text)),
		ReceivedAt: time.Now(),
		Attachments: []models.AttachmentIn{
			{Filename: "rapport été.pdf", ContentType: "application/pdf", Size: 9, Data: []byte("%PDF-1.4\n")},
			{Filename: "page.html", ContentType: "text/html; charset=utf-8", Size: 30, Data: []byte("<script>alert('file')</script>")},
			{Filename: "walkthrough.mov", ContentType: "video/quicktime", Size: 80 << 20, Omitted: true},
		}}
	r, err := f.Store.ReceiveEmail(ctx, in)
	if err != nil || r.Change == nil {
		t.Fatalf("receive: %+v %v", r, err)
	}
	s.conv = r.Change.Conversation.ID
	for _, ev := range r.Change.Events {
		if m := ev.Message; m != nil {
			s.msg = m.ID
			s.pdf, s.html, s.big = m.Attachments[0].ID, m.Attachments[1].ID, m.Attachments[2].ID
		}
	}
	auto := models.InboundEmail{To: to, From: s.from, Subject: "Automatic reply: " + s.subject, HeaderID: "auto-" + s.id,
		InReplyTo: s.id, Text: "I am out of the office until Monday.", FullText: "I am out of the office until Monday.",
		Automated: "Auto-Submitted: auto-replied", Raw: []byte("Subject: Automatic reply\r\nAuto-Submitted: auto-replied\r\n\r\nI am out of the office until Monday."),
		ReceivedAt: time.Now()}
	r, err = f.Store.ReceiveEmail(ctx, auto)
	if err != nil || r.Change == nil {
		t.Fatalf("receive the automatic reply: %+v %v", r, err)
	}
	if r.Change.Conversation.ID != s.conv {
		t.Fatalf("the automatic reply went to conversation %d, not %d", r.Change.Conversation.ID, s.conv)
	}
	for _, ev := range r.Change.Events {
		if ev.Message != nil {
			s.autoMsg = ev.Message.ID
		}
	}
	return s
}

// checkDownload: a file is served as an attachment that no browser
// renders, under the type wanted.
func checkDownload(t *testing.T, resp *http.Response, body, wantType, wantDisposition, wantBody string) {
	t.Helper()
	h := resp.Header
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("download: %d %s", resp.StatusCode, body)
	}
	if got := h.Get("Content-Type"); got != wantType {
		t.Errorf("Content-Type %q, want %q", got, wantType)
	}
	if got := h.Get("Content-Disposition"); got != wantDisposition {
		t.Errorf("Content-Disposition %q, want %q", got, wantDisposition)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", got)
	}
	if got := h.Get("Content-Security-Policy"); got != "sandbox; default-src 'none'" {
		t.Errorf("Content-Security-Policy %q", got)
	}
	if body != wantBody {
		t.Errorf("body %q, want %q", body, wantBody)
	}
}

// TestEmailViewPage: the thread shows the subject, the files (a download
// link for a kept one, "too large, not kept" for an omitted one), the
// Automated badge with its reason, and Show original; the sender's markup
// is text everywhere. Downloads and the original are served safely, to
// who may see the conversation alone.
func TestEmailViewPage(t *testing.T) {
	f := newFixture(t)
	s := seedEmail(t, f)
	agent := f.client(t)
	agent.login(agentEmail, agentPassword)

	resp, page := agent.get(fmt.Sprintf("/chats/%d", s.conv))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("thread: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`<p class="thread-subject" title="Subject: Broken window in room 4">`,
		fmt.Sprintf(`href="/attachments/%d" download="rapport été.pdf"`, s.pdf),
		fmt.Sprintf(`href="/attachments/%d" download="page.html"`, s.html),
		`<span class="att-name">walkthrough.mov</span>`,
		`80 MB · too large, not kept`,
		`<span class="att-size">9 bytes</span>`,
		`title="Sent automatically: Auto-Submitted: auto-replied">Automated</span>`,
		fmt.Sprintf(`href="/messages/%d/original" target="_blank" rel="noopener" hx-boost="false">Show original</a>`, s.msg),
		`The window &lt;b&gt;will not&lt;/b&gt; close.`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the thread lacks %s", want)
		}
	}
	if strings.Contains(page, fmt.Sprintf(`/attachments/%d"`, s.big)) {
		t.Error("the omitted file has a download link")
	}
	if strings.Contains(page, "<b>will not</b>") || strings.Contains(page, "alert(") {
		t.Error("the sender's markup reached the page as markup")
	}
	if n := strings.Count(page, ">Automated</span>"); n != 1 {
		t.Errorf("%d Automated badges, want 1 (the automatic reply's)", n)
	}

	resp, body := agent.get(fmt.Sprintf("/attachments/%d", s.pdf))
	checkDownload(t, resp, body, "application/pdf", `attachment; filename="rapport _t_.pdf"; filename*=UTF-8''rapport%20%C3%A9t%C3%A9.pdf`, "%PDF-1.4\n")
	resp, body = agent.get(fmt.Sprintf("/attachments/%d", s.html))
	checkDownload(t, resp, body, "application/octet-stream", `attachment; filename="page.html"; filename*=UTF-8''page.html`, "<script>alert('file')</script>")
	if resp, _ := agent.get(fmt.Sprintf("/attachments/%d", s.big)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the omitted file: %d, want 404", resp.StatusCode)
	}

	resp, body = agent.get(fmt.Sprintf("/messages/%d/original", s.msg))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" ||
		resp.Header.Get("Content-Security-Policy") != "sandbox; default-src 'none'" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("original: %d %v", resp.StatusCode, resp.Header)
	}
	for _, want := range []string{"> On Monday you wrote:", "<script>alert('original')</script>", "Message-ID: <" + s.id + ">"} {
		if !strings.Contains(body, want) {
			t.Errorf("the original lacks %q:\n%s", want, body)
		}
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline;") {
		t.Errorf("original: Content-Disposition %q", resp.Header.Get("Content-Disposition"))
	}
	// An SMS message has no original.
	ch, err := f.Store.StartConversation(context.Background(), models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Agent.ID, Role: models.RoleAgent},
		models.StartInput{InboxID: f.Demo.Inbox.ID, To: uniquePhone(), Body: "an SMS"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range ch.Events {
		if ev.Message != nil {
			if resp, _ := agent.get(fmt.Sprintf("/messages/%d/original", ev.Message.ID)); resp.StatusCode != http.StatusNotFound {
				t.Errorf("an SMS message's original: %d, want 404", resp.StatusCode)
			}
		}
	}

	// Someone who may not see the conversation: not found, never a file.
	rival := otherOrgUser(t, f)
	for _, p := range []string{fmt.Sprintf("/attachments/%d", s.pdf), fmt.Sprintf("/messages/%d/original", s.msg)} {
		resp, body := rival.client.get(p)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "PDF-1.4") || strings.Contains(body, "On Monday") {
			t.Errorf("rival: %s: %d", p, resp.StatusCode)
		}
		if resp, _ := f.client(t).get(p); resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
			t.Errorf("anonymous: %s: %d, want a redirect to sign in", p, resp.StatusCode)
		}
	}
}

// TestEmailViewAPI: the message JSON carries email and attachments, the
// conversation's its subject; the API serves the files and the original
// to who may see the conversation, and 404 to anyone else.
func TestEmailViewAPI(t *testing.T) {
	f := newFixture(t)
	s := seedEmail(t, f)
	ctx := context.Background()
	tok, _, err := f.Store.CreateAPIToken(ctx, models.Scope{OrgID: f.Demo.Org.ID, UserID: f.Demo.Agent.ID, Role: models.RoleAgent}, "email view")
	if err != nil {
		t.Fatal(err)
	}
	c := f.client(t)
	bearer := map[string]string{"Authorization": "Bearer " + tok}
	get := func(path string, h map[string]string) (*http.Response, string) { return c.do("GET", path, nil, h) }

	_, body := get(fmt.Sprintf("/api/v1/conversations/%d", s.conv), bearer)
	var conv struct {
		Subject string `json:"subject"`
	}
	if err := json.Unmarshal([]byte(body), &conv); err != nil || conv.Subject != s.subject {
		t.Errorf("conversation: %v %s", err, body)
	}

	_, body = get(fmt.Sprintf("/api/v1/conversations/%d/messages", s.conv), bearer)
	var list struct {
		Data []struct {
			ID        int64 `json:"id"`
			Automated bool  `json:"automated"`
			Email     *struct {
				Subject    string   `json:"subject"`
				From       string   `json:"from"`
				To         string   `json:"to"`
				MessageID  string   `json:"message_id"`
				InReplyTo  string   `json:"in_reply_to"`
				References []string `json:"references"`
				Automated  string   `json:"automated"`
			} `json:"email"`
			Attachments []struct {
				ID          int64  `json:"id"`
				Filename    string `json:"filename"`
				ContentType string `json:"content_type"`
				Size        int64  `json:"size"`
				Omitted     bool   `json:"omitted"`
				URL         string `json:"url"`
			} `json:"attachments"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.Data) != 2 {
		t.Fatalf("messages: %v %s", err, body)
	}
	auto, m := list.Data[0], list.Data[1] // newest first
	if m.ID != s.msg || m.Email == nil || m.Email.Subject != s.subject || m.Email.From != s.from ||
		m.Email.To != *f.Demo.Inbox.EmailAddress || m.Email.MessageID != s.id || m.Email.References == nil || m.Automated {
		t.Errorf("the mail: %s", body)
	}
	if len(m.Attachments) != 3 || m.Attachments[0].Filename != "rapport été.pdf" || m.Attachments[0].Size != 9 ||
		m.Attachments[0].URL != fmt.Sprintf("/api/v1/attachments/%d", s.pdf) || !m.Attachments[2].Omitted || m.Attachments[2].URL != "" {
		t.Errorf("the mail's attachments: %+v", m.Attachments)
	}
	if auto.ID != s.autoMsg || !auto.Automated || auto.Email == nil || auto.Email.Automated != "Auto-Submitted: auto-replied" || auto.Attachments == nil {
		t.Errorf("the automatic reply: %+v", auto)
	}

	resp, body := get(m.Attachments[0].URL, bearer)
	checkDownload(t, resp, body, "application/pdf", `attachment; filename="rapport _t_.pdf"; filename*=UTF-8''rapport%20%C3%A9t%C3%A9.pdf`, "%PDF-1.4\n")
	if resp, _ := get(fmt.Sprintf("/api/v1/attachments/%d", s.big), bearer); resp.StatusCode != http.StatusNotFound {
		t.Errorf("API: the omitted file: %d", resp.StatusCode)
	}
	resp, body = get(fmt.Sprintf("/api/v1/messages/%d/original", s.msg), bearer)
	var orig struct {
		MessageID int64  `json:"message_id"`
		FullText  string `json:"full_text"`
		Raw       []byte `json:"raw"`
	}
	if err := json.Unmarshal([]byte(body), &orig); err != nil || resp.StatusCode != http.StatusOK || orig.MessageID != s.msg ||
		!strings.Contains(orig.FullText, "On Monday") || !strings.Contains(string(orig.Raw), "Message-ID: <"+s.id+">") {
		t.Errorf("API original: %d %v %s", resp.StatusCode, err, body)
	}

	rival := otherOrgUser(t, f)
	rtok, _, err := f.Store.CreateAPIToken(ctx, models.Scope{OrgID: rival.orgID, UserID: rival.userID, Role: models.RoleAdmin}, "rival")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fmt.Sprintf("/api/v1/attachments/%d", s.pdf), fmt.Sprintf("/api/v1/messages/%d/original", s.msg)} {
		resp, body := get(p, map[string]string{"Authorization": "Bearer " + rtok})
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("rival: %s: %d %s", p, resp.StatusCode, body)
		}
		if resp, _ := get(p, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("no token: %s: %d", p, resp.StatusCode)
		}
	}
}
