package web_test

// The administration journey of issue 10, in one browser, from an empty
// database: the first-run page creates an organization; its admin adds a
// location, two inboxes and an agent limited to one of them; the agent
// signs in (a second, separate browser context) and sees only that inbox's
// conversations; the admin disables the agent, and the agent's open Chats
// page goes to the login page by itself.

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

func TestBrowserAdminJourney(t *testing.T) {
	st := emptyStore(t) // the server's database (f.Store is the demo's)
	f := newFixtureWith(t, serverOpts{db: st})
	admin := browsertest.NewBrowser(t)
	console := browsertest.RecordConsole(t, admin)
	fill := func(sel, value string) chromedp.Action[chromedp.Void] {
		return chromedp.SetValue(chromedp.CSS(sel), value)
	}
	save := func(formSel string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%s).requestSubmit()`, browsertest.JSString(formSel)))
	}

	// First run.
	browsertest.Do(t, admin, "open / on an empty instance",
		chromedp.Navigate(f.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`input[name=timezone]`)))
	browsertest.Do(t, admin, "create the organization",
		fill(`input[name=name]`, "Harbor Health"), fill(`input[name=location_name]`, "Harbor Main"),
		fill(`input[name=timezone]`, "America/Chicago"), fill(`input[name=admin_name]`, "Hana Admin"),
		fill(`input[name=admin_email]`, "hana@harbor.test"), fill(`input[name=admin_password]`, "hana password 1"),
		save(`main form`))
	browsertest.WaitAcrossLoad(t, admin, "signed in after first run", `!!document.querySelector("aside.sidebar") && location.pathname === "/"`)

	// A location with an active plan.
	browsertest.Do(t, admin, "add a location",
		chromedp.Navigate(f.URL+"/settings/locations/new"), chromedp.WaitVisible(chromedp.CSS(`form.settings-form input[name=name]`)),
		fill(`form.settings-form input[name=name]`, "Harbor North"), fill(`form.settings-form input[name=timezone]`, "America/Denver"),
		chromedp.SetValue(chromedp.CSS(`form.settings-form select[name=plan_status]`), "active"),
		save(`form.settings-form`))
	browsertest.WaitAcrossLoad(t, admin, "the location saved", `/^\/settings\/locations\/\d+$/.test(location.pathname) && !!document.querySelector(".alert-ok")`)

	// Two inboxes at it.
	addInbox := func(name, number string) {
		browsertest.Do(t, admin, "add inbox "+name,
			chromedp.Navigate(f.URL+"/settings/inboxes/new"), chromedp.WaitVisible(chromedp.CSS(`#inbox-form input[name=name]`)),
			fill(`#inbox-form input[name=name]`, name), fill(`#inbox-form input[name=sms_number]`, number),
			chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("#inbox-form select[name=location_id]");
				s.value = [...s.options].find((o) => o.text.startsWith("Harbor North")).value; })()`),
			save(`#inbox-form`))
		browsertest.WaitAcrossLoad(t, admin, "inbox "+name+" saved", `/^\/settings\/inboxes\/\d+$/.test(location.pathname) && !!document.querySelector(".alert-ok")`)
	}
	addInbox("North Desk", "+15550177001")
	addInbox("Billing", "+15550177002")

	// An agent limited to North Desk.
	browsertest.Do(t, admin, "add an agent limited to North Desk",
		chromedp.Navigate(f.URL+"/settings/team/new"), chromedp.WaitVisible(chromedp.CSS(`main form input[name=email]`)),
		fill(`main form input[name=name]`, "Nico Agent"), fill(`main form input[name=email]`, "nico@harbor.test"),
		chromedp.Click(chromedp.CSS(`main form input[name=role][value=agent]`)),
		chromedp.Click(chromedp.CSS(`main form input[name=access][value=chosen]`)),
		chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("main form input[name=inbox_ids]")].forEach((c) =>
			{ c.checked = c.closest("label").textContent.includes("North Desk"); })`),
		chromedp.Click(chromedp.CSS(`main form input[name=invite][value="0"]`)),
		fill(`main form input[name=password]`, "nico password 1"),
		save(`main form`))
	browsertest.WaitAcrossLoad(t, admin, "the agent is created", `/^\/settings\/team\/\d+$/.test(location.pathname)`)
	agentPath := browsertest.Get(t, admin, "the agent's page", chromedp.Evaluate[string](`location.pathname`))

	// A text to each inbox, as the webhook stores them.
	ctx := context.Background()
	received := map[string]int64{}
	for _, in := range []struct{ to, body string }{{"+15550177001", "Hello North Desk"}, {"+15550177002", "A billing question"}} {
		res, err := st.ReceiveSMS(ctx, models.InboundSMS{Provider: "vonage", ProviderMessageID: "journey-" + in.to + "-" + runID,
			From: uniquePhone(), To: in.to, Body: in.body, ReceivedAt: time.Now()})
		if err != nil || res.Change == nil {
			var numbers []string
			_ = st.DB().NewRaw("SELECT name || ' ' || coalesce(sms_number, '-') FROM inboxes").Scan(ctx, &numbers)
			t.Fatalf("inbound to %s: %+v %v (inboxes: %q)", in.to, res, err, numbers)
		}
		f.Pub.Notify(res.Change)
		received[in.to] = res.Change.Conversation.ID
	}

	// The agent signs in, in a browser context of its own.
	agent := browsertest.NewIncognitoTab(t, admin)
	browsertest.SignIn(t, agent, f.URL, "the agent", "nico@harbor.test", "nico password 1")
	browsertest.Do(t, agent, "the agent opens Chats", chromedp.Navigate(f.URL+"/chats?status=all"), chromedp.WaitVisible(chromedp.CSS(`#conv-list`)))
	browsertest.WaitFor(t, agent, "the agent goes live", browsertest.LiveCond)
	north, billing := received["+15550177001"], received["+15550177002"]
	if !browsertest.WaitOK(agent, fmt.Sprintf(`!!document.getElementById("conv-%d")`, north)) {
		t.Fatalf("the agent does not see North Desk's conversation: %s", browsertest.PageState(agent))
	}
	list := browsertest.Get(t, agent, "read the list", chromedp.Text(chromedp.CSS(`#conv-list`)))
	if browsertest.Get(t, agent, "look for Billing's row", chromedp.Evaluate[bool](fmt.Sprintf(`!!document.getElementById("conv-%d")`, billing))) ||
		strings.Contains(list, "billing question") {
		t.Fatalf("the limited agent sees Billing's conversation: %q", list)
	}
	browsertest.Do(t, agent, "the agent opens Billing's conversation by its address", chromedp.Navigate(fmt.Sprintf("%s/chats/%d", f.URL, billing)))
	if body := browsertest.Get(t, agent, "read the page", chromedp.Text(chromedp.CSS(`body`))); strings.Contains(body, "billing question") {
		t.Fatalf("the limited agent read Billing's conversation at its address")
	}
	browsertest.Do(t, agent, "back to Chats", chromedp.Navigate(f.URL+"/chats"), chromedp.WaitVisible(chromedp.CSS(`#conv-list`)))
	browsertest.WaitFor(t, agent, "the agent is live again", browsertest.LiveCond)

	// The admin disables the agent: the agent's open page goes to /login.
	browsertest.Do(t, admin, "disable the agent",
		chromedp.Navigate(f.URL+agentPath), chromedp.WaitVisible(chromedp.CSS(`form[action$="/disable"]`)),
		save(`form[action$="/disable"]`))
	browsertest.WaitAcrossLoad(t, agent, "the agent's page goes to the login page", `location.pathname === "/login"`)
	console.Check(t, admin, "the admin's journey")
}
