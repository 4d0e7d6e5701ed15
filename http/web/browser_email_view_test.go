package web_test

// An email conversation in a browser, at desktop (1366) and phone (390)
// width: the subject in the header, the files under the mail (a download
// link; "too large, not kept" for an omitted one), the Automated badge
// with its reason, Show original as plain text where the sender's script
// is only text; a mail arriving while the thread is open shows the same
// way, live. Screenshots go to $PARLEY_TEST_OUTPUT/web/desktop-1366/ and
// web/phone-390/ (email-thread.png, email-original.png, email-live.png).

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parley-chat/parley/internal/browsertest"
	"github.com/parley-chat/parley/models"
)

// fetchHeadersJS fetches a URL from the page (with its cookies) and
// returns the status and the headers a download is judged by.
const fetchHeadersJS = `fetch(%s, {credentials: "same-origin"}).then(r => [String(r.status),
  r.headers.get("content-type"), r.headers.get("content-disposition"),
  r.headers.get("x-content-type-options"), r.headers.get("content-security-policy")].join("\n"))`

func TestBrowserEmailView(t *testing.T) {
	f := newFixture(t)
	s := seedEmail(t, f)
	browser := browsertest.NewBrowser(t)
	thread := fmt.Sprintf("%s/chats/%d", f.URL, s.conv)
	for _, size := range []struct {
		w, h   int
		mobile bool
		dir    string
	}{{1366, 768, false, "web/desktop-1366/"}, {390, 844, true, "web/phone-390/"}} {
		t.Run(fmt.Sprintf("%dpx", size.w), func(t *testing.T) {
			tab := browsertest.NewIncognitoTab(t, browser)
			vp := chromedp.EmulateViewport(int64(size.w), int64(size.h))
			if size.mobile {
				vp = chromedp.EmulateViewport(int64(size.w), int64(size.h), chromedp.EmulateMobile)
			}
			browsertest.Do(t, tab, "set the viewport", vp)
			console := browsertest.RecordConsole(t, tab)
			browsertest.SignIn(t, tab, f.URL, "agent", agentEmail, agentPassword)
			browsertest.Do(t, tab, "open the email thread", chromedp.Navigate(thread))
			browsertest.WaitFor(t, tab, "the thread rendered", `document.readyState === "complete" && !!document.querySelector(".thread .msg-attachments")`)
			browsertest.WaitFor(t, tab, "the thread is live", browsertest.LiveCond)

			// The subject, under the recipient.
			if got := browsertest.Get(t, tab, "read the subject", chromedp.Evaluate[string](`document.querySelector(".thread-head .thread-subject").innerText`)); !strings.Contains(got, s.subject) {
				t.Errorf("the header's subject is %q, want %q", got, s.subject)
			}
			if !isVisible(t, tab, ".thread-head .thread-subject") {
				t.Error("the subject is not visible")
			}
			// The first mail's files: links for the kept ones, the omitted one listed.
			atts := browsertest.Get(t, tab, "read the files", chromedp.Evaluate[[]string](
				`[...document.querySelector(".msg-attachments").querySelectorAll(".att")].map(e => e.innerText.replace(/\s+/g, " ").trim() + " | " + (e.querySelector("a") ? e.querySelector("a").getAttribute("href") : "-"))`))
			want := []string{
				fmt.Sprintf("rapport été.pdf 9 bytes | /attachments/%d", s.pdf),
				fmt.Sprintf("page.html 30 bytes | /attachments/%d", s.html),
				"walkthrough.mov 80 MB · too large, not kept | -",
			}
			if strings.Join(atts, "\n") != strings.Join(want, "\n") {
				t.Errorf("the files read\n%s\nwant\n%s", strings.Join(atts, "\n"), strings.Join(want, "\n"))
			}
			// The Automated badge: on the automatic reply alone, its reason as the title.
			badges := browsertest.Get(t, tab, "read the badges", chromedp.Evaluate[[]string](
				`[...document.querySelectorAll(".timeline .badge-automated")].map(b => b.closest(".msg").querySelector(".msg-bubble").innerText + " | " + b.title)`))
			if len(badges) != 1 || badges[0] != "I am out of the office until Monday. | Sent automatically: Auto-Submitted: auto-replied" {
				t.Errorf("Automated badges: %q", badges)
			}
			if !isVisible(t, tab, ".timeline .badge-automated") {
				t.Error("the Automated badge is not visible")
			}
			// The sender's markup is text.
			if got := browsertest.Get(t, tab, "read the mail", chromedp.Evaluate[string](fmt.Sprintf(
				`document.querySelector("#timeline-%d .msg-email .msg-bubble").innerText`, s.conv))); !strings.Contains(got, "<b>will not</b>") {
				t.Errorf("the mail's text reads %q; its markup should show as text", got)
			}
			noSideScroll(t, tab, "the email thread", size.w)
			browsertest.Screenshot(t, tab, size.dir+"email-thread.png")

			// The download link's headers, fetched as the browser would.
			href := browsertest.Get(t, tab, "read the file link", chromedp.Evaluate[string](`document.querySelector(".msg-attachments a.att-name").getAttribute("href")`))
			got := browsertest.Get(t, tab, "fetch the file", chromedp.Evaluate[string](fmt.Sprintf(fetchHeadersJS, browsertest.JSString(href)), chromedp.EvalAwaitPromise))
			wantHeaders := "200\napplication/pdf\nattachment; filename=\"rapport _t_.pdf\"; filename*=UTF-8''rapport%20%C3%A9t%C3%A9.pdf\nnosniff\nsandbox; default-src 'none'"
			if got != wantHeaders {
				t.Errorf("the download's headers\n%s\nwant\n%s", got, wantHeaders)
			}
			if dl := browsertest.Get(t, tab, "read the download attribute", chromedp.Evaluate[bool](`document.querySelector(".msg-attachments a.att-name").hasAttribute("download")`)); !dl {
				t.Error("the file link is not a download")
			}

			// Show original: a new tab of plain text, the sender's script
			// as text (no element, nothing ran).
			orig := browsertest.Get(t, tab, "read Show original", chromedp.Evaluate[[]string](
				`((a) => [a.innerText, a.getAttribute("href"), a.target, a.rel])(document.querySelector(".msg-email .msg-original"))`))
			if len(orig) != 4 || orig[0] != "Show original" || orig[1] != fmt.Sprintf("/messages/%d/original", s.msg) || orig[2] != "_blank" || !strings.Contains(orig[3], "noopener") {
				t.Errorf("Show original: %q", orig)
			}
			if !isVisible(t, tab, ".msg-email .msg-original") {
				t.Error("Show original is not visible")
			}
			browsertest.Do(t, tab, "open the original", chromedp.Navigate(f.URL+orig[1]))
			browsertest.WaitFor(t, tab, "the original shows", `document.readyState === "complete" && document.body && document.body.innerText.includes("raw message")`)
			page := browsertest.Get(t, tab, "read the original", chromedp.Evaluate[[]string](
				`[document.contentType, document.body.innerText, String(document.querySelectorAll("script, img, p").length)]`))
			if page[0] != "text/plain" || !strings.Contains(page[1], "<script>alert('original')</script>") || !strings.Contains(page[1], "> On Monday you wrote:") || page[2] != "0" {
				t.Errorf("the original: type %q, %s elements; text:\n%s", page[0], page[2], page[1])
			}
			browsertest.Screenshot(t, tab, size.dir+"email-original.png")

			// A mail arriving while the thread is open shows the same way.
			browsertest.Do(t, tab, "back to the thread", chromedp.Navigate(thread))
			browsertest.WaitFor(t, tab, "the thread is live again", browsertest.LiveCond)
			name := fmt.Sprintf("plan-%d.png", size.w)
			in := models.InboundEmail{To: *f.Demo.Inbox.EmailAddress, From: s.from, Subject: "Re: " + s.subject,
				HeaderID: fmt.Sprintf("live-%d-%s", size.w, s.id), InReplyTo: s.id, Text: "Here is the floor plan.",
				FullText: "Here is the floor plan.", Raw: []byte("Subject: Re: x\r\n\r\nHere is the floor plan."), ReceivedAt: time.Now(),
				Attachments: []models.AttachmentIn{{Filename: name, ContentType: "image/png", Size: 3, Data: []byte{1, 2, 3}}}}
			r, err := f.Store.ReceiveEmail(context.Background(), in)
			if err != nil || r.Change == nil || r.Change.Conversation.ID != s.conv {
				t.Fatalf("the live mail: %+v %v", r, err)
			}
			f.Pub.Notify(r.Change)
			browsertest.WaitWithin(t, tab, "the live mail shows with its file", fmt.Sprintf(
				`[...document.querySelectorAll("#timeline-%d .msg-email")].some(m => m.innerText.includes("Here is the floor plan.") &&
				   !!m.querySelector('.msg-attachments a.att-name[download=%s]') && !!m.querySelector(".msg-original"))`,
				s.conv, browsertest.JSString(name)), 5*time.Second)
			noSideScroll(t, tab, "the email thread after a live mail", size.w)
			browsertest.Screenshot(t, tab, size.dir+"email-live.png")
			console.CheckErrors(t, tab, "the email thread")
		})
	}
}
