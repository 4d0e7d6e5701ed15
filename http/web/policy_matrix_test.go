package web_test

// The role matrix, tested as a table over every route (README "Roles";
// models/policy.go is the one policy the routes ask).
//
// TestPolicyMatrix lists the routes the server registered
// (App().GetRoutes) and FAILS when one has no row in matrixRows below, or
// a row names a route that no longer exists. Each row requests the route
// as seven principals, in this order:
//
//	anonymous, limited agent (inbox B only), agent (all inboxes), manager,
//	admin, operator (an agent with is_operator), rival (an admin of another
//	organization using this organization's ids)
//
// and gives the outcome it expects of each as one letter:
//
//	O  ok: 2xx, or a 3xx that is not a redirect to /login
//	L  login: a redirect to /login, or 401 (the API, HTMX, the socket)
//	N  not found: 404 (never 403: a refusal does not confirm existence)
//	I  invalid: 422, the input was refused and nothing changed
//	S  the same status for every principal (operations, provider callbacks)
//
// To add a route: add one line to matrixRows with the route exactly as
// registered ("METHOD /pattern", e.g. "GET /settings/team/:id<int>"), the
// path to request with placeholders for the seed's ids ({convA} is a
// conversation in inbox A, which the limited agent cannot see; {convB} one
// in inbox B, which it can; {inboxA}, {inboxB}, {numA}, {numB}, {admin},
// {agent}, {limited}, {location}; see matrixWorld.replacer), the form
// values of a POST (nil for a GET) or the JSON body of an API write, and
// the seven letters. The administration pages' and the API resources' rows
// are in policy_matrix_rows_test.go, with more placeholders ({recA},
// {recB}, {loc}, {inboxC}, {target}, {closure}, {link}, {n}: a number new
// to each request, ...; see replacer). Routes under /api/v1 are requested
// with each principal's bearer token, others with its session cookie and
// CSRF token. A route that changes state so a second request would answer
// differently restores it in prep; one that ends the session sets fresh,
// so each principal signs in anew for it. A row the server is known to get
// wrong keeps the policy's letters and says why in bug (logged, not
// failed, until it is fixed).
// Several rows may test one route (say, with an id each principal may or
// may not see).

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/parley-chat/parley/http/simulator"
	"github.com/parley-chat/parley/http/web"
	"github.com/parley-chat/parley/http/webhook"
	"github.com/parley-chat/parley/models"
)

// matrixRow is one request of the matrix: a route, the path and form to
// send, and the outcome expected of each principal.
type matrixRow struct {
	route  string     // "METHOD /pattern" as registered ("USE /prefix" for a mount)
	path   string     // the request's path and query, with {placeholders}
	form   url.Values // a POST's form (nil: none)
	json   string     // an API request's JSON body ("": none), with {placeholders}
	expect string     // one letter per principal, in principals' order
	// prep runs before each principal's request (restores what the last changed).
	prep func(t *testing.T, w *matrixWorld)
	// fresh: each principal signs in anew for this request (it ends the session).
	fresh bool
	// bug: the server is known to disagree with the policy (expect stays the
	// policy's). The disagreement is logged, not failed; once the server
	// agrees the row fails until the marker is removed.
	bug string
}

// The principals, in the order of matrixRow.expect.
const (
	pAnon = iota
	pLimited
	pAgent
	pManager
	pAdmin
	pOperator
	pRival
	nPrincipals
)

var principalNames = [nPrincipals]string{"anonymous", "limited agent", "agent", "manager", "admin", "operator", "rival admin"}

func reopenA(t *testing.T, w *matrixWorld) { w.setStatus(t, w.convA, "open") }
func closeA(t *testing.T, w *matrixWorld)  { w.setStatus(t, w.convA, "closed") }
func reopenB(t *testing.T, w *matrixWorld) { w.setStatus(t, w.convB, "open") }
func closeB(t *testing.T, w *matrixWorld)  { w.setStatus(t, w.convB, "closed") }

// matrixRows: every route, with what each principal gets.
// Columns: anonymous, limited, agent, manager, admin, operator, rival.
var matrixRows = []matrixRow{
	// Operations: no user involved.
	{route: "GET /healthz", path: "/healthz", expect: "SSSSSSS"},
	{route: "GET /readyz", path: "/readyz", expect: "SSSSSSS"},
	{route: "GET /metrics", path: "/metrics", expect: "SSSSSSS"},
	// Provider callbacks: Vonage signs them; no user involved.
	{route: "GET /webhooks/vonage/inbound", path: "/webhooks/vonage/inbound", expect: "SSSSSSS"},
	{route: "POST /webhooks/vonage/inbound", path: "/webhooks/vonage/inbound", form: url.Values{}, expect: "SSSSSSS"},
	{route: "GET /webhooks/vonage/status", path: "/webhooks/vonage/status", expect: "SSSSSSS"},
	{route: "POST /webhooks/vonage/status", path: "/webhooks/vonage/status", form: url.Values{}, expect: "SSSSSSS"},
	{route: "POST /simulator/vonage/sms/json", path: simulator.Path + "/sms/json", form: url.Values{}, expect: "SSSSSSS"},

	// The API (bearer tokens).
	{route: "GET /api/v1/openapi.json", path: "/api/v1/openapi.json", expect: "OOOOOOO"},
	{route: "GET /api/v1/me", path: "/api/v1/me", expect: "LOOOOOO"},
	{route: "GET /api/v1/audit", path: "/api/v1/audit", expect: "LNNNONO"},
	{route: "GET /api/v1/audit", path: "/api/v1/audit?target_type=inbox&target_id={inboxA}", expect: "LNNNONO"}, // the rival's own (empty) log

	// Signing in and out.
	{route: "GET /login", path: "/login", expect: "OOOOOOO"},
	{route: "POST /login", path: "/login", form: url.Values{"email": {"nobody@demo.parley.test"}, "password": {"wrong password 1"}}, expect: "SSSSSSS", fresh: true}, // 401, whoever asks
	{route: "POST /logout", path: "/logout", form: url.Values{}, expect: "SSSSSSS", fresh: true},                                                                     // to /login; signout_test checks the session ends

	// Pages every signed-in user has.
	{route: "GET /", path: "/", expect: "LOOOOOO"},
	{route: "GET /ws", path: "/ws", expect: "LOOOOOO"}, // dialled as a socket; TestPolicyMatrixSocket checks what it carries
	{route: "GET /chats", path: "/chats", expect: "LOOOOOO"},
	{route: "GET /chats", path: "/chats?inbox={inboxA}", expect: "LOOOOOO"}, // filtering by an inbox outside the scope is no error
	{route: "GET /chats/new", path: "/chats/new", expect: "LOOOOOO"},
	{route: "GET /chats/empty", path: "/chats/empty", expect: "LOOOOOO"},
	{route: "POST /chats/preview", path: "/chats/preview", form: url.Values{"channel": {"sms"}, "body": {"hi"}}, expect: "LOOOOOO"},
	{route: "GET /recipients", path: "/recipients", expect: "LOOOOOO"}, // scoped: TestPolicyMatrixRecipients
	// Broadcasts and credits: broadcasts.send and credits.view (agents: N;
	// the rival sees its own).
	{route: "GET /broadcasts", path: "/broadcasts", expect: "LNNOONO"},
	{route: "GET /credits", path: "/credits", expect: "LNNOONO"},
	{route: "GET /settings/audit", path: "/settings/audit", expect: "LNNNONO"},
	{route: "GET /settings/audit", path: "/settings/audit?target_type=inbox&target_id={inboxA}", expect: "LNNNONO"}, // the rival's own (empty) log

	// Conversations: inbox A's is outside the limited agent's scope and
	// the rival's organization; inbox B's is in the limited agent's.
	{route: "GET /chats/:id<int>", path: "/chats/{convA}", expect: "LNOOOON"},
	{route: "GET /chats/:id<int>", path: "/chats/{convB}", expect: "LOOOOON"},
	{route: "POST /chats", path: "/chats", form: url.Values{"inbox": {"{inboxA}"}, "to": {"+15550107001"}, "body": {"matrix start"}}, expect: "LNOOOON"},
	{route: "POST /chats", path: "/chats", form: url.Values{"inbox": {"{inboxB}"}, "to": {"+15550107002"}, "body": {"matrix start"}}, expect: "LOOOOON"},
	{route: "POST /chats/:id<int>/messages", path: "/chats/{convA}/messages", form: url.Values{"body": {"matrix reply"}}, expect: "LNOOOON"},
	{route: "POST /chats/:id<int>/messages", path: "/chats/{convB}/messages", form: url.Values{"body": {"matrix reply"}}, expect: "LOOOOON"},
	{route: "POST /chats/:id<int>/assign", path: "/chats/{convA}/assign", form: url.Values{"assignee": {"me"}}, expect: "LNOOOON"},
	{route: "POST /chats/:id<int>/assign", path: "/chats/{convB}/assign", form: url.Values{"assignee": {"me"}}, expect: "LOOOOON"},
	{route: "POST /chats/:id<int>/close", path: "/chats/{convA}/close", form: url.Values{}, expect: "LNOOOON", prep: reopenA},
	{route: "POST /chats/:id<int>/close", path: "/chats/{convB}/close", form: url.Values{}, expect: "LOOOOON", prep: reopenB},
	{route: "POST /chats/:id<int>/reopen", path: "/chats/{convA}/reopen", form: url.Values{}, expect: "LNOOOON", prep: closeA},
	{route: "POST /chats/:id<int>/reopen", path: "/chats/{convB}/reopen", form: url.Values{}, expect: "LOOOOON", prep: closeB},

	// The phone simulator (built in when Vonage is not configured): texts
	// to an inbox the user may not see are refused as unknown.
	{route: "GET /simulator/phone", path: "/simulator/phone", expect: "LOOOOOO"},
	{route: "GET /simulator/phone/thread", path: "/simulator/phone/thread?phone=%2B15550107003", expect: "LOOOOOO"},
	{route: "POST /simulator/phone/send", path: "/simulator/phone/send", form: url.Values{"phone": {"+15550107004"}, "inbox": {"{numA}"}, "text": {"matrix text"}}, expect: "LNOOOON"},
	{route: "POST /simulator/phone/send", path: "/simulator/phone/send", form: url.Values{"phone": {"+15550107005"}, "inbox": {"{numB}"}, "text": {"matrix text"}}, expect: "LOOOOON"},

	// Operators' tools: operators alone; an organization's admin (the
	// rival's too) gets a 404.
	{route: "USE /admin/queues", path: "/admin/queues/", expect: "LNNNNON"},
	{route: "USE /static", path: "/static/css/app.css", expect: "SSSSSSS"},
}

// matrixWorld is the seed the matrix runs against: the demo, a second
// inbox, one user per principal, and a conversation in each inbox.
type matrixWorld struct {
	f                    *fixture
	inboxB               int64
	numA, numB           string
	convA, convB         int64
	limitedID, managerID int64
	operatorID, adminID  int64
	pages                [nPrincipals]*client
	csrf                 [nPrincipals]string
	tokens               [nPrincipals]string
	emails, passwords    [nPrincipals]string
	rival                *otherUser
	// Administration's seed: recipients of convA and convB (and their
	// phones), one without conversations, a location and an inbox to change,
	// an inbox and a closure to delete, a user to edit, the admin's token.
	recA, recB, recDel    int64
	imp                   int64 // an import waiting for its mapping (freshImport)
	recAphone, recBphone  string
	loc, inboxC, inboxDel int64
	closure, targetID     int64
	rule                  int64 // a forwarding rule of inbox B (freshRule)
	targetEmail           string
	tokenID               int64
	link                  string // a password link's token (a user's reset)
	// email: the email view's mails and files (policy_matrix_email_test.go).
	email matrixEmail
	// bcast: the broadcast rows' broadcast (policy_matrix_broadcast_test.go).
	bcast matrixBroadcast
	// groups: the groups' seed (policy_matrix_groups_test.go).
	groups matrixGroups
	// seqBefore is the latest event before the conversations were seeded.
	seqBefore int64
	// handlers are the registered routes; all adds the middleware (Use).
	handlers, all []fiber.Route
}

// newMatrixWorld starts a server with every optional route (the
// simulator, the provider callbacks) and signs each principal in.
func newMatrixWorld(t *testing.T) *matrixWorld {
	t.Helper()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(hook.Close)
	sim := simulator.New(simulator.Config{BaseURL: hook.URL, APIKey: "simkey01", APISecret: "simsecret", Logger: testLogger()})
	var app *fiber.App
	f := newFixtureWith(t, serverOpts{simulator: sim, mailbox: matrixMailbox(t),
		callbacks: func(st *models.Store, pub *web.Publisher) web.ProviderCallbacks {
			return webhook.New(webhook.Config{}, st, pub, nil, testLogger())
		},
		onServer: func(s *web.Server) { app = s.App() }})
	w := &matrixWorld{f: f, numA: "+15550100100"}
	w.handlers, w.all = app.GetRoutes(true), app.GetRoutes(false)
	ctx := context.Background()
	db := f.Store.DB()
	w.numB = uniquePhone()
	if err := db.NewRaw(`INSERT INTO inboxes (org_id, location_id, name, sms_number) VALUES (?, ?, ?, ?) RETURNING id`,
		f.Demo.Org.ID, f.Demo.Location.ID, "Matrix B "+runID, w.numB).Scan(ctx, &w.inboxB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.NewRaw("DELETE FROM inboxes WHERE id = ?", w.inboxB).Exec(ctx) })
	mk := func(role string, operator bool, inboxes ...int64) (int64, string, string) {
		t.Helper()
		email := fmt.Sprintf("matrix-%s-%s-%d@demo.parley.test", role, runID, phoneSeq.Add(1))
		const password = "matrix password 1"
		hash, err := models.HashPassword(password)
		if err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := db.NewRaw(`INSERT INTO users (org_id, email, name, role, password_hash, all_inboxes, is_operator)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, f.Demo.Org.ID, email, "Matrix "+role, role, hash, len(inboxes) == 0, operator).Scan(ctx, &id); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.NewRaw("DELETE FROM users WHERE id = ?", id).Exec(ctx) })
		for _, in := range inboxes {
			if _, err := db.NewRaw("INSERT INTO user_inboxes (org_id, user_id, inbox_id) VALUES (?, ?, ?)", f.Demo.Org.ID, id, in).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		return id, email, password
	}
	w.limitedID, w.emails[pLimited], w.passwords[pLimited] = mk(models.RoleAgent, false, w.inboxB)
	w.managerID, w.emails[pManager], w.passwords[pManager] = mk(models.RoleManager, false)
	w.operatorID, w.emails[pOperator], w.passwords[pOperator] = mk(models.RoleAgent, true)
	w.emails[pAgent], w.passwords[pAgent] = agentEmail, agentPassword
	// The demo's admin is an operator too: the admin principal is one that is not.
	w.adminID, w.emails[pAdmin], w.passwords[pAdmin] = mk(models.RoleAdmin, false)

	admin := w.scope(pAdmin)
	seq, err := f.Store.LatestSeq(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	w.seqBefore = seq
	start := func(inbox int64, to string) int64 {
		ch, err := f.Store.StartConversation(ctx, admin, models.StartInput{InboxID: inbox, To: to, Body: "matrix seed"})
		if err != nil {
			t.Fatal(err)
		}
		return ch.Conversation.ID
	}
	w.convA, w.convB = start(f.Demo.Inbox.ID, uniquePhone()), start(w.inboxB, uniquePhone())
	w.seedAdministration(t, mk)
	w.seedEmailView(t)
	w.seedBroadcast(t)
	w.seedGroups(t)

	w.rival = otherOrgUser(t, f)
	w.emails[pRival], w.passwords[pRival] = "boss@rival.test", "rival password 1"
	for p := range nPrincipals {
		w.pages[p], w.csrf[p] = w.signIn(t, p)
		if p == pAnon {
			continue
		}
		tok, _, err := f.Store.CreateAPIToken(ctx, w.scope(p), "matrix")
		if err != nil {
			t.Fatal(err)
		}
		w.tokens[p] = tok
	}
	return w
}

// scope is a principal's scope, as its session would carry it.
func (w *matrixWorld) scope(p int) models.Scope {
	d := w.f.Demo
	switch p {
	case pLimited:
		return models.Scope{OrgID: d.Org.ID, UserID: w.limitedID, Role: models.RoleAgent, InboxIDs: []int64{w.inboxB}}
	case pAgent:
		return models.Scope{OrgID: d.Org.ID, UserID: d.Agent.ID, Role: models.RoleAgent}
	case pManager:
		return models.Scope{OrgID: d.Org.ID, UserID: w.managerID, Role: models.RoleManager}
	case pAdmin:
		return models.Scope{OrgID: d.Org.ID, UserID: w.adminID, Role: models.RoleAdmin}
	case pOperator:
		return models.Scope{OrgID: d.Org.ID, UserID: w.operatorID, Role: models.RoleAgent}
	case pRival:
		return models.Scope{OrgID: w.rival.orgID, UserID: w.rival.userID, Role: models.RoleAdmin}
	}
	return models.Scope{}
}

// signIn gives the principal a new browser session and its CSRF token.
func (w *matrixWorld) signIn(t *testing.T, p int) (*client, string) {
	t.Helper()
	c := w.f.client(t)
	if p == pAnon {
		return c, c.csrf("/login")
	}
	c.login(w.emails[p], w.passwords[p])
	return c, c.csrf("/chats")
}

// setStatus puts a conversation in a status directly (prep for a row).
func (w *matrixWorld) setStatus(t *testing.T, id int64, status string) {
	t.Helper()
	if _, err := w.f.Store.DB().NewRaw("UPDATE conversations SET status = ? WHERE id = ?", status, id).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// replacer fills a row's placeholders with the seed's ids.
func (w *matrixWorld) replacer() *strings.Replacer {
	d := w.f.Demo
	return strings.NewReplacer(append(append(append(w.email.placeholders(), w.bcast.placeholders()...), w.groups.placeholders()...), "{convA}", itoa(w.convA), "{convB}", itoa(w.convB),
		"{inboxA}", itoa(d.Inbox.ID), "{inboxB}", itoa(w.inboxB), "{numA}", w.numA, "{numB}", w.numB,
		"{admin}", itoa(d.Admin.ID), "{agent}", itoa(d.Agent.ID), "{limited}", itoa(w.limitedID),
		"{location}", itoa(d.Location.ID),
		"{recA}", itoa(w.recA), "{recB}", itoa(w.recB), "{recDel}", itoa(w.recDel), "{import}", itoa(w.imp),
		"{recAphone}", w.recAphone, "{recBphone}", w.recBphone,
		"{loc}", itoa(w.loc), "{inboxC}", itoa(w.inboxC), "{inboxDel}", itoa(w.inboxDel),
		"{closure}", itoa(w.closure), "{rule}", itoa(w.rule), "{target}", itoa(w.targetID), "{targetEmail}", w.targetEmail,
		"{token}", itoa(w.tokenID), "{link}", w.link, "{run}", runID, "{rivalInbox}", itoa(w.rival.inboxID), "{rivalUser}", itoa(w.rival.userID), "{n}", itoa(phoneSeq.Add(1)))...)
}

// outcome classifies a response as the matrix's letters do.
func outcome(resp *http.Response) string {
	loc := resp.Header.Get("Location")
	switch {
	case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode >= 300 && resp.StatusCode < 400 && strings.HasPrefix(loc, "/login"):
		return "L"
	case resp.StatusCode == http.StatusNotFound:
		return "N"
	case resp.StatusCode == http.StatusUnprocessableEntity:
		return "I"
	case resp.StatusCode >= 200 && resp.StatusCode < 400, resp.StatusCode == http.StatusSwitchingProtocols:
		return "O"
	}
	return fmt.Sprintf("[%d]", resp.StatusCode)
}

// request sends a row's request as principal p and returns the response.
func (w *matrixWorld) request(t *testing.T, row matrixRow, p int) *http.Response {
	t.Helper()
	r := w.replacer()
	path := r.Replace(row.path)
	var form url.Values
	if row.form != nil {
		form = url.Values{}
		for k, vs := range row.form {
			for _, v := range vs {
				form.Add(k, r.Replace(v))
			}
		}
	}
	method, _, _ := strings.Cut(row.route, " ")
	if method == "USE" {
		method = http.MethodGet
	}
	c, csrf := w.pages[p], w.csrf[p]
	if row.fresh {
		c, csrf = w.signIn(t, p)
	}
	h := map[string]string{}
	if strings.HasPrefix(path, "/api/") {
		c = w.f.client(t) // no cookies: the API does not take them
		if w.tokens[p] != "" {
			h["Authorization"] = "Bearer " + w.tokens[p]
		}
		if method != http.MethodGet {
			return c.doJSON(method, path, r.Replace(row.json), h)
		}
	} else if form != nil {
		form.Set("_csrf", csrf)
	}
	if path == "/ws" {
		_, resp, err := c.dial(t, w.f.URL)
		if err == nil {
			return &http.Response{StatusCode: http.StatusSwitchingProtocols, Header: http.Header{}}
		}
		if resp == nil {
			t.Fatalf("dial /ws as %s: %v", principalNames[p], err)
		}
		return resp
	}
	resp, _ := c.do(method, path, form, h)
	return resp
}

// TestPolicyMatrix requests every route as every principal and compares
// the outcomes with matrixRows; a route without a row fails the test.
func TestPolicyMatrix(t *testing.T) {
	w := newMatrixWorld(t)
	observe := os.Getenv("PARLEY_MATRIX_OBSERVE") == "1"

	t.Run("every route has a row", func(t *testing.T) {
		have := map[string]bool{}
		for _, row := range matrixTable() {
			have[row.route] = true
		}
		registered := map[string]bool{}
		// Mounts: Use with a prefix of its own (middleware is at / or the API's group).
		handler := map[string]bool{}
		for _, r := range w.handlers {
			handler[r.Method+" "+r.Path] = true
		}
		for _, r := range w.all {
			if !handler[r.Method+" "+r.Path] && r.Path != "/" && r.Path != "/api/v1" && !registered["USE "+r.Path] {
				registered["USE "+r.Path] = true
				if !have["USE "+r.Path] {
					t.Errorf("mount %s has no row in matrixRows (policy_matrix_test.go): add one line with method USE", r.Path)
				}
			}
		}
		for _, r := range w.handlers {
			key := r.Method + " " + r.Path
			if r.Method == http.MethodHead || registered[key] {
				continue // HEAD is answered as GET
			}
			registered[key] = true
			if !have[key] {
				t.Errorf("route %s has no row in matrixRows (policy_matrix_test.go): add one line saying what each principal gets", key)
			}
		}
		for k := range have {
			if !registered[k] {
				t.Errorf("matrixRows tests %s, which the server does not register", k)
			}
		}
	})

	var observed []string
	for _, row := range matrixTable() {
		if len(row.expect) != nPrincipals {
			t.Fatalf("%s %s: expect %q has %d letters, want %d", row.route, row.path, row.expect, len(row.expect), nPrincipals)
		}
		var got [nPrincipals]string
		var statuses [nPrincipals]int
		for p := range nPrincipals {
			if row.prep != nil {
				row.prep(t, w)
			}
			resp := w.request(t, row, p)
			got[p], statuses[p] = outcome(resp), resp.StatusCode
			if resp.StatusCode == http.StatusForbidden {
				t.Errorf("%s %s as %s: 403 confirms the thing exists; answer 404", row.route, row.path, principalNames[p])
			}
		}
		observed = append(observed, fmt.Sprintf("%-40s %-60s %s %v", row.route, row.path, strings.Join(got[:], ""), statuses))
		if row.bug != "" {
			if strings.Join(got[:], "") == row.expect {
				t.Errorf("%s %s now answers as the policy says: remove its bug marker (%s)", row.route, row.path, row.bug)
			} else {
				t.Logf("BUG %s %s: got %s, policy %s: %s", row.route, row.path, strings.Join(got[:], ""), row.expect, row.bug)
			}
			continue
		}
		for p := range nPrincipals {
			want := string(row.expect[p])
			switch {
			case want == "S":
				if statuses[p] != statuses[0] {
					t.Errorf("%s %s: %s got %d, anonymous %d: want the same for everyone", row.route, row.path, principalNames[p], statuses[p], statuses[0])
				}
			case got[p] != want && !observe:
				t.Errorf("%s %s as %s: got %s (%d), want %s", row.route, row.path, principalNames[p], got[p], statuses[p], want)
			}
		}
	}
	if observe {
		sort.Strings(observed)
		t.Log("observed:\n" + strings.Join(observed, "\n"))
	}
}

// TestPolicyMatrixSocket: the live socket subscribes a limited agent to
// its own inboxes only. Asking to view a conversation of another inbox
// joins nothing; a catch-up carries only its inboxes' rows; a reply in the
// other inbox never reaches it, while one in its own does.
func TestPolicyMatrixSocket(t *testing.T) {
	w := newMatrixWorld(t)
	ctx := context.Background()
	ls, _, err := w.pages[pLimited].dial(t, w.f.URL)
	if err != nil {
		t.Fatal(err)
	}
	// view runs before the catch-up it comes with: the catch-up's frame
	// arrives after the view was refused or joined.
	ls.send(t, map[string]any{"view": w.convA, "resume": w.seqBefore})
	frame := ls.await(t, `id="conv-`+itoa(w.convB)+`"`)
	if strings.Contains(frame, `conv-`+itoa(w.convA)+`"`) || strings.Contains(frame, "timeline-"+itoa(w.convA)) {
		t.Fatalf("the limited agent's catch-up carries inbox A's conversation:\n%s", frame)
	}
	member := func(topic string) bool {
		ms, err := w.f.Hub.Members(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.UserID == w.limitedID {
				return true
			}
		}
		return false
	}
	if !member("inbox:" + itoa(w.inboxB)) {
		t.Error("the limited agent's socket is not subscribed to its own inbox")
	}
	if member("inbox:"+itoa(w.f.Demo.Inbox.ID)) || member("conv:"+itoa(w.convA)) {
		t.Error("the limited agent's socket is subscribed to inbox A or its conversation")
	}
	// Replies through the pages (which publish): A's never arrives, B's does.
	admin := w.pages[pAdmin]
	for _, r := range []struct {
		conv int64
		body string
	}{{w.convA, "matrix secret in A"}, {w.convB, "matrix marker in B"}} {
		if resp, body := admin.do("POST", "/chats/"+itoa(r.conv)+"/messages", url.Values{"_csrf": {w.csrf[pAdmin]}, "body": {r.body}}, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("admin's reply: %d %s", resp.StatusCode, body)
		}
	}
	ls.quietUntil(t, "matrix secret in A", "matrix marker in B")
}
