package web_test

import (
	"context"
	"net/url"
	"testing"
)

// The matrix rows of the administration pages and the API's resources
// (policy_matrix_test.go explains the letters; columns: anonymous,
// limited, agent, manager, admin, operator, rival). The expected letters
// are the policy's (models/policy.go, README "Roles"), not whatever the
// server answers.

// Preps: each puts back what the previous principal's request changed.
func unarchiveLoc(t *testing.T, w *matrixWorld) {
	w.exec(t, "UPDATE locations SET archived_at = NULL WHERE id = ?", w.loc)
}
func unarchiveInboxC(t *testing.T, w *matrixWorld) {
	w.exec(t, "UPDATE inboxes SET archived_at = NULL WHERE id = ?", w.inboxC)
}
func enableTarget(t *testing.T, w *matrixWorld) {
	w.exec(t, "UPDATE users SET disabled_at = NULL WHERE id = ?", w.targetID)
}
func disableTarget(t *testing.T, w *matrixWorld) {
	w.exec(t, "UPDATE users SET disabled_at = now() WHERE id = ?", w.targetID)
}
func inboxBEmail(t *testing.T, w *matrixWorld) {
	w.exec(t, "UPDATE inboxes SET email_address = ? WHERE id = ?", matrixInboxBEmail, w.inboxB)
}
func unrevokeToken(t *testing.T, w *matrixWorld) {
	w.exec(t, "UPDATE api_tokens SET revoked_at = NULL WHERE id = ?", w.tokenID)
}
func optInB(t *testing.T, w *matrixWorld) {
	w.exec(t, "UPDATE recipients SET sms_opted_out_at = NULL, sms_opt_out_source = NULL WHERE id = ?", w.recB)
}
func freshInboxDel(t *testing.T, w *matrixWorld) { w.inboxDel = w.newInbox(t, "Matrix delete") }
func freshClosure(t *testing.T, w *matrixWorld)  { w.closure = w.newClosure(t) }
func freshRule(t *testing.T, w *matrixWorld)     { w.rule = w.newRule(t) }
func freshRecipientDel(t *testing.T, w *matrixWorld) {
	t.Helper()
	if err := w.f.Store.DB().NewRaw("INSERT INTO recipients (org_id, name, email) VALUES (?, ?, ?) RETURNING id",
		w.f.Demo.Org.ID, "Matrix delete "+runID, "matrix-delete-"+itoa(phoneSeq.Add(1))+"-"+runID+"@example.test").Scan(context.Background(), &w.recDel); err != nil {
		t.Fatal(err)
	}
}
func noMatrixClosures(t *testing.T, w *matrixWorld) {
	w.exec(t, "DELETE FROM inbox_closures WHERE inbox_id = ? AND name = 'Matrix added'", w.inboxB)
}

// adminRows: settings, team, profile, password links, first run, operators, recipients.
var adminRows = []matrixRow{
	// Inbound email from a provider: a shared secret, no user involved
	// (off without PARLEY_EMAIL_WEBHOOK_SECRET: 404 for everyone).
	{route: "POST /webhooks/email/inbound", path: "/webhooks/email/inbound", form: url.Values{}, expect: "SSSSSSS"},

	// First run: once an organization exists there is nothing to set up.
	{route: "GET /setup", path: "/setup", expect: "NNNNNNN"},
	{route: "POST /setup", path: "/setup", form: url.Values{"name": {"Matrix org"}, "location_name": {"HQ"}, "timezone": {"UTC"},
		"admin_name": {"Matrix"}, "admin_email": {"setup-{n}@matrix.test"}, "admin_password": {"matrix password 1"}}, expect: "NNNNNNN"},

	// Email unsubscribe links: the token is the credential, no session
	// involved; an unknown one is not found, whoever asks (a live one:
	// unsubscribe_test.go).
	{route: "GET /unsubscribe/:token", path: "/unsubscribe/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", expect: "NNNNNNN"},
	{route: "POST /unsubscribe/:token", path: "/unsubscribe/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", form: url.Values{"List-Unsubscribe": {"One-Click"}}, expect: "NNNNNNN"},
	{route: "POST /unsubscribe/:token/resubscribe", path: "/unsubscribe/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/resubscribe", expect: "NNNNNNN"},

	// Password links: an unknown token is not found, whoever asks.
	{route: "GET /password/:token", path: "/password/no-such-token-matrix", expect: "NNNNNNN"},
	{route: "POST /password/:token", path: "/password/no-such-token-matrix", form: url.Values{"password": {"matrix password 2"}}, expect: "NNNNNNN"},
	// A live link is the credential itself: whoever holds it may use it
	// (a too short password: refused, and the link stays usable).
	{route: "GET /password/:token", path: "/password/{link}", expect: "OOOOOOO"},
	{route: "POST /password/:token", path: "/password/{link}", form: url.Values{"password": {"short"}}, expect: "IIIIIII"},

	// Profile: every signed-in user, their own. Invalid input (422) shows
	// the form reached its owner without changing the principals' names.
	{route: "GET /profile", path: "/profile", expect: "LOOOOOO"},
	{route: "POST /profile", path: "/profile", form: url.Values{"name": {"Matrix"}, "timezone": {"Nowhere/Matrix"}}, expect: "LIIIIII"},
	{route: "POST /profile/password", path: "/profile/password", form: url.Values{"current_password": {"not the password"}, "new_password": {"matrix password 2"}}, expect: "LIIIIII"},
	{route: "POST /profile/tokens", path: "/profile/tokens", form: url.Values{"name": {"matrix {n} {run}"}}, expect: "LOOOOOO"},
	// The admin's token: nobody else may revoke it.
	{route: "POST /profile/tokens/:id<int>/revoke", path: "/profile/tokens/{token}/revoke", form: url.Values{}, expect: "LNNNONN", prep: unrevokeToken},

	// Settings: organization (settings.view reads, settings.manage changes).
	// The rival reads and changes its own organization.
	{route: "GET /settings", path: "/settings", expect: "LNNOONO"},
	{route: "POST /settings", path: "/settings", form: url.Values{"name": {"Matrix"}, "default_country": {"ZZ"}}, expect: "LNNNINI"}, // an unknown country: nothing changes
	// The credits banner (usage alerts): who may view credits.
	{route: "GET /credits/banner", path: "/credits/banner", expect: "LNNOONO"},
	{route: "GET /settings/locations", path: "/settings/locations", expect: "LNNOONO"},
	{route: "GET /settings/locations/new", path: "/settings/locations/new", expect: "LNNNONO"},
	{route: "POST /settings/locations", path: "/settings/locations", form: url.Values{"name": {"Matrix loc {n} {run}"}, "timezone": {"UTC"}, "plan_status": {"active"}}, expect: "LNNNONO"},
	{route: "GET /settings/locations/:id<int>", path: "/settings/locations/{loc}", expect: "LNNOONN"},
	{route: "POST /settings/locations/:id<int>", path: "/settings/locations/{loc}", form: url.Values{"name": {"Matrix loc {run}"}, "timezone": {"UTC"}, "plan_status": {"active"}}, expect: "LNNNONN"},
	{route: "POST /settings/locations/:id<int>/archive", path: "/settings/locations/{loc}/archive", form: url.Values{"archived": {"1"}}, expect: "LNNNONN", prep: unarchiveLoc},
	// Chat plan: admins buy credits and change the rate card; managers read it.
	{route: "POST /settings/locations/:id<int>/credits", path: "/settings/locations/{loc}/credits", form: url.Values{"credits": {"1"}, "note": {"matrix"}}, expect: "LNNNONN"},
	{route: "GET /settings/rate-card", path: "/settings/rate-card", expect: "LNNOONO"},
	{route: "POST /settings/rate-card", path: "/settings/rate-card", form: url.Values{"sms_outbound": {"2"}, "sms_inbound": {"2"}, "sms_forwarded": {"2"}, "mms_outbound": {"4"}, "mms_inbound": {"4"}, "mms_forwarded": {"4"}, "email_outbound": {"1"}, "email_inbound": {"1"}, "email_forwarded": {"1"}}, expect: "LNNNONO"},
	{route: "GET /settings/inboxes", path: "/settings/inboxes", expect: "LNNOONO"},
	{route: "GET /settings/inboxes/new", path: "/settings/inboxes/new", expect: "LNNNONO"},
	// The rival names a location of ours: to it that is no location at all.
	{route: "POST /settings/inboxes", path: "/settings/inboxes", form: url.Values{"name": {"Matrix inbox {n} {run}"}, "location_id": {"{location}"}}, expect: "LNNNONI"},
	{route: "GET /settings/inboxes/:id<int>", path: "/settings/inboxes/{inboxA}", expect: "LNNOONN"},
	{route: "GET /settings/inboxes/:id<int>", path: "/settings/inboxes/{inboxB}", expect: "LNNOONN"}, // the limited agent's own inbox: still settings
	{route: "POST /settings/inboxes/:id<int>", path: "/settings/inboxes/{inboxC}", form: url.Values{"name": {"Matrix C {run}"}, "location_id": {"{location}"}, "help_text": {"matrix"}}, expect: "LNNNONN"},
	{route: "POST /settings/inboxes/:id<int>/archive", path: "/settings/inboxes/{inboxC}/archive", form: url.Values{"archived": {"1"}}, expect: "LNNNONN", prep: unarchiveInboxC},
	{route: "POST /settings/inboxes/:id<int>/delete", path: "/settings/inboxes/{inboxDel}/delete", form: url.Values{}, expect: "LNNNONN", prep: freshInboxDel},
	{route: "POST /settings/inboxes/:id<int>/closures", path: "/settings/inboxes/{inboxB}/closures", form: url.Values{"closure_name": {"Matrix added"}, "starts_on": {"2031-01-01"}}, expect: "LNNNONN", prep: noMatrixClosures},
	{route: "POST /settings/inboxes/:id<int>/closures/:cid<int>/delete", path: "/settings/inboxes/{inboxB}/closures/{closure}/delete", form: url.Values{}, expect: "LNNNONN", prep: freshClosure},
	{route: "POST /settings/inboxes/:id<int>/closures/:cid<int>/delete", path: "/settings/inboxes/{inboxA}/closures/{closure}/delete", form: url.Values{}, expect: "LNNNNNN", prep: freshClosure}, // inbox B's closure
	{route: "POST /settings/inboxes/:id<int>/auto-responses", path: "/settings/inboxes/{inboxB}/auto-responses", form: url.Values{"cooldown_minutes": {"1440"}}, expect: "LNNNONN"},
	{route: "POST /settings/inboxes/:id<int>/forwarding", path: "/settings/inboxes/{inboxB}/forwarding", form: url.Values{"contacts": {"matrix-form@example.test"}, "channel": {"email"}, "kind": {"after_hours"}}, expect: "LNNNONN"},
	{route: "POST /settings/inboxes/:id<int>/forwarding/:rid<int>/delete", path: "/settings/inboxes/{inboxB}/forwarding/{rule}/delete", form: url.Values{}, expect: "LNNNONN", prep: freshRule},
	{route: "POST /settings/inboxes/:id<int>/forwarding/:rid<int>/delete", path: "/settings/inboxes/{inboxA}/forwarding/{rule}/delete", form: url.Values{}, expect: "LNNNNNN", prep: freshRule}, // inbox B's rule

	// Team: managers see it, admins change it.
	{route: "GET /settings/team", path: "/settings/team", expect: "LNNOONO"},
	{route: "GET /settings/team/new", path: "/settings/team/new", expect: "LNNNONO"},
	{route: "POST /settings/team", path: "/settings/team", form: url.Values{"name": {"Matrix new"}, "email": {"matrix-new-{n}-{run}@demo.parley.test"}, "role": {"agent"}, "invite": {"1"}}, expect: "LNNNONO"},
	{route: "GET /settings/team/:id<int>", path: "/settings/team/{target}", expect: "LNNOONN"},
	{route: "POST /settings/team/:id<int>", path: "/settings/team/{target}", form: url.Values{"name": {"Matrix target"}, "email": {"{targetEmail}"}, "role": {"agent"}, "access": {"all"}}, expect: "LNNNONN"},
	{route: "POST /settings/team/:id<int>/disable", path: "/settings/team/{target}/disable", form: url.Values{}, expect: "LNNNONN", prep: enableTarget},
	{route: "POST /settings/team/:id<int>/enable", path: "/settings/team/{target}/enable", form: url.Values{}, expect: "LNNNONN", prep: disableTarget},
	{route: "POST /settings/team/:id<int>/reset", path: "/settings/team/{target}/reset", form: url.Values{}, expect: "LNNNONN", prep: enableTarget},

	// Operators only: an organization's admin gets a 404 (the rival too).
	{route: "GET /admin/instance", path: "/admin/instance", expect: "LNNNNON"},

	// Recipients: a limited agent sees (and edits) those with a conversation
	// in its inboxes; consent by hand is admins'.
	{route: "GET /recipients/:id<int>", path: "/recipients/{recA}", expect: "LNOOOON"},
	{route: "GET /recipients/:id<int>", path: "/recipients/{recB}", expect: "LOOOOON"},
	{route: "POST /recipients/:id<int>", path: "/recipients/{recA}", form: url.Values{"name": {"Matrix A"}, "phone": {"{recAphone}"}, "notes": {"matrix"}}, expect: "LNOOOON"},
	{route: "POST /recipients/:id<int>", path: "/recipients/{recB}", form: url.Values{"name": {"Matrix B"}, "phone": {"{recBphone}"}, "notes": {"matrix"}}, expect: "LOOOOON"},
	{route: "POST /recipients/:id<int>/consent", path: "/recipients/{recA}/consent", form: url.Values{"channel": {"sms"}, "action": {"opt_in"}}, expect: "LNNNONN"},
	{route: "POST /recipients/:id<int>/consent", path: "/recipients/{recB}/consent", form: url.Values{"channel": {"sms"}, "action": {"opt_out"}, "reason": {"matrix"}}, expect: "LNNNONN", prep: optInB},
	{route: "POST /settings/team/:id<int>", path: "/settings/team/{target}", form: url.Values{"name": {"Matrix target"}, "email": {"{targetEmail}"}, "role": {"agent"}, "access": {"chosen"}, "inbox_ids": {"{rivalInbox}"}}, expect: "LNNNINN"},
	{route: "GET /recipients/:id<int>/delete", path: "/recipients/{recA}/delete", expect: "LNOOOON"},
	{route: "GET /recipients/:id<int>/delete", path: "/recipients/{recB}/delete", expect: "LOOOOON"},
	{route: "POST /recipients/:id<int>/delete", path: "/recipients/{recDel}/delete", form: url.Values{}, expect: "LNOOOON", prep: freshRecipientDel},
	{route: "GET /recipients/:id<int>/merge", path: "/recipients/{recA}/merge?q=Matrix", expect: "LNOOOON"},
	{route: "POST /recipients/:id<int>/merge", path: "/recipients/{recA}/merge", form: url.Values{"other_id": {"{recA}"}}, expect: "LNIIIIN"},
	{route: "POST /recipients/:id<int>/place", path: "/recipients/{recA}/place", form: url.Values{"timezone": {"Europe/Paris"}}, expect: "LNOOOON"},
	{route: "POST /chats/:id<int>/recipient", path: "/chats/{convA}/recipient", form: url.Values{"name": {"Matrix A"}}, expect: "LNOOOON"},
	{route: "POST /chats/:id<int>/recipient", path: "/chats/{convB}/recipient", form: url.Values{"name": {"Matrix B"}}, expect: "LOOOOON"},

	// The mailbox simulator (built in when no mail relay is set), like the
	// phone: mail to or from an inbox the user may not see is unknown.
	// Mail 1 is from inbox A, mail 2 from inbox B (matrixMailbox).
	{route: "GET /simulator/mailbox", path: "/simulator/mailbox?address=" + matrixPerson + "&open=1", expect: "LOOOOOO"},
	{route: "GET /simulator/mailbox/list", path: "/simulator/mailbox/list?address=" + matrixPerson, expect: "LOOOOOO"},
	{route: "POST /simulator/mailbox/send", path: "/simulator/mailbox/send", form: url.Values{"address": {matrixPerson}, "to": {demoInboxEmail}, "text": {"matrix mail"}}, expect: "LNOOOON"},
	{route: "POST /simulator/mailbox/send", path: "/simulator/mailbox/send", form: url.Values{"address": {matrixPerson}, "to": {matrixInboxBEmail}, "text": {"matrix mail"}}, expect: "LOOOOON", prep: inboxBEmail},
	{route: "POST /simulator/mailbox/reply", path: "/simulator/mailbox/reply", form: url.Values{"address": {matrixPerson}, "id": {"1"}, "text": {"matrix reply"}}, expect: "LNOOOON"},
	{route: "POST /simulator/mailbox/reply", path: "/simulator/mailbox/reply", form: url.Values{"address": {matrixPerson}, "id": {"2"}, "text": {"matrix reply"}}, expect: "LOOOOON", prep: inboxBEmail},
}

// apiRows: the API's resources, each as the page that does the same thing.
var apiRows = []matrixRow{
	{route: "GET /api/v1/users", path: "/api/v1/users", expect: "LNNOONO"},
	{route: "GET /api/v1/users/:id<int>", path: "/api/v1/users/{target}", expect: "LNNOONN"},
	{route: "POST /api/v1/users", path: "/api/v1/users", json: `{"name":"Matrix API","email":"matrix-api-{n}-{run}@demo.parley.test","role":"agent","invite":true}`, expect: "LNNNONO"},
	{route: "PATCH /api/v1/users/:id<int>", path: "/api/v1/users/{target}", json: `{"name":"Matrix target"}`, expect: "LNNNONN"},
	// Another organization's inbox in a body is no inbox of ours: refused, nothing changes.
	{route: "PATCH /api/v1/users/:id<int>", path: "/api/v1/users/{target}", json: `{"inbox_ids":[{rivalInbox}]}`, expect: "LNNNINN"},

	{route: "GET /api/v1/organization", path: "/api/v1/organization", expect: "LNNOONO"},
	{route: "PATCH /api/v1/organization", path: "/api/v1/organization", json: `{"default_country":"ZZ"}`, expect: "LNNNINI"}, // unknown: nothing changes
	{route: "GET /api/v1/locations", path: "/api/v1/locations", expect: "LNNOONO"},
	// Credits (credits.view): managers and admins; the rival reads its own
	// organization's, and another's location is not found.
	{route: "GET /credits/ledger.csv", path: "/credits/ledger.csv?location_id={loc}", expect: "LNNOONN"},
	{route: "GET /api/v1/credits", path: "/api/v1/credits", expect: "LNNOONO"},
	{route: "GET /api/v1/credits/ledger", path: "/api/v1/credits/ledger", expect: "LNNOONO"},
	{route: "GET /api/v1/credits/ledger", path: "/api/v1/credits/ledger?location_id={loc}", expect: "LNNOONN"},
	{route: "GET /api/v1/locations/:id<int>", path: "/api/v1/locations/{loc}", expect: "LNNOONN"},
	{route: "POST /api/v1/locations", path: "/api/v1/locations", json: `{"name":"Matrix API loc {n} {run}"}`, expect: "LNNNONO"},
	{route: "PATCH /api/v1/locations/:id<int>", path: "/api/v1/locations/{loc}", json: `{"archived":false}`, expect: "LNNNONN"},
	{route: "POST /api/v1/locations/:id<int>/credit-purchases", path: "/api/v1/locations/{loc}/credit-purchases", json: `{"credits":1,"note":"matrix"}`, expect: "LNNNONN"},
	{route: "GET /api/v1/rate-card", path: "/api/v1/rate-card", expect: "LNNOONO"},
	{route: "PUT /api/v1/rate-card", path: "/api/v1/rate-card", json: `{"sms":{"outbound":2,"inbound":2,"forwarded":2},"mms":{"outbound":4,"inbound":4,"forwarded":4},"email":{"outbound":1,"inbound":1,"forwarded":1}}`, expect: "LNNNONO"},

	// Every user lists the inboxes it may chat in (by design); changing them is settings.manage.
	{route: "GET /api/v1/inboxes", path: "/api/v1/inboxes", expect: "LOOOOOO"},
	{route: "GET /api/v1/inboxes/:id<int>", path: "/api/v1/inboxes/{inboxA}", expect: "LNOOOON"},
	{route: "GET /api/v1/inboxes/:id<int>", path: "/api/v1/inboxes/{inboxB}", expect: "LOOOOON"},
	{route: "POST /api/v1/inboxes", path: "/api/v1/inboxes", json: `{"name":"Matrix API inbox {n} {run}","location_id":{location}}`, expect: "LNNNONI"},
	{route: "PATCH /api/v1/inboxes/:id<int>", path: "/api/v1/inboxes/{inboxC}", json: `{"help_text":"matrix"}`, expect: "LNNNONN"},
	{route: "DELETE /api/v1/inboxes/:id<int>", path: "/api/v1/inboxes/{inboxDel}", expect: "LNNNONN", prep: freshInboxDel},
	{route: "GET /api/v1/inboxes/:id<int>/closures", path: "/api/v1/inboxes/{inboxB}/closures", expect: "LNNOONN"},
	{route: "POST /api/v1/inboxes/:id<int>/closures", path: "/api/v1/inboxes/{inboxB}/closures", json: `{"name":"Matrix added","starts_on":"2031-01-01"}`, expect: "LNNNONN", prep: noMatrixClosures},
	{route: "DELETE /api/v1/inboxes/:id<int>/closures/:closure_id<int>", path: "/api/v1/inboxes/{inboxB}/closures/{closure}", expect: "LNNNONN", prep: freshClosure},
	{route: "DELETE /api/v1/inboxes/:id<int>/closures/:closure_id<int>", path: "/api/v1/inboxes/{inboxA}/closures/{closure}", expect: "LNNNNNN", prep: freshClosure}, // inbox B's closure
	{route: "GET /api/v1/inboxes/:id<int>/auto-responses", path: "/api/v1/inboxes/{inboxB}/auto-responses", expect: "LNNOONN"},
	{route: "PUT /api/v1/inboxes/:id<int>/auto-responses", path: "/api/v1/inboxes/{inboxB}/auto-responses", json: `{"initial":{"enabled":false,"body":""},"out_of_office":{"enabled":false,"body":""}}`, expect: "LNNNONN"},
	{route: "GET /api/v1/inboxes/:id<int>/forwarding-rules", path: "/api/v1/inboxes/{inboxB}/forwarding-rules", expect: "LNNOONN"},
	{route: "POST /api/v1/inboxes/:id<int>/forwarding-rules", path: "/api/v1/inboxes/{inboxB}/forwarding-rules", json: `{"targets":[{"email":"matrix-added@example.test"}],"channels":["email"],"schedule":{"kind":"after_hours"}}`, expect: "LNNNONN"},
	{route: "DELETE /api/v1/inboxes/:id<int>/forwarding-rules/:rule_id<int>", path: "/api/v1/inboxes/{inboxB}/forwarding-rules/{rule}", expect: "LNNNONN", prep: freshRule},
	{route: "DELETE /api/v1/inboxes/:id<int>/forwarding-rules/:rule_id<int>", path: "/api/v1/inboxes/{inboxA}/forwarding-rules/{rule}", expect: "LNNNNNN", prep: freshRule}, // inbox B's rule

	{route: "GET /api/v1/recipients", path: "/api/v1/recipients", expect: "LOOOOOO"},
	{route: "POST /api/v1/recipients", path: "/api/v1/recipients", json: `{"name":"Matrix API {n}","email":"matrix-rcpt-{n}-{run}@example.test"}`, expect: "LOOOOOO"},
	{route: "GET /api/v1/recipients/:id<int>", path: "/api/v1/recipients/{recA}", expect: "LNOOOON"},
	{route: "GET /api/v1/recipients/:id<int>", path: "/api/v1/recipients/{recB}", expect: "LOOOOON"},
	{route: "PATCH /api/v1/recipients/:id<int>", path: "/api/v1/recipients/{recA}", json: `{"notes":"matrix"}`, expect: "LNOOOON"},
	{route: "PATCH /api/v1/recipients/:id<int>", path: "/api/v1/recipients/{recB}", json: `{"notes":"matrix"}`, expect: "LOOOOON"},
	// A recipient without conversations: outside the limited agent's scope.
	{route: "DELETE /api/v1/recipients/:id<int>", path: "/api/v1/recipients/{recDel}", expect: "LNOOOON", prep: freshRecipientDel},
	{route: "POST /api/v1/recipients/:id<int>/merge", path: "/api/v1/recipients/{recA}/merge", json: `{"other_id":{recA}}`, expect: "LNIIIIN"},
	{route: "GET /api/v1/recipients/:id<int>/timeline", path: "/api/v1/recipients/{recA}/timeline", expect: "LNOOOON"},
	{route: "GET /api/v1/recipients/:id<int>/timeline", path: "/api/v1/recipients/{recB}/timeline?q=matrix", expect: "LOOOOON"},
	{route: "GET /api/v1/recipients/:id<int>/consent", path: "/api/v1/recipients/{recA}/consent", expect: "LNOOOON"},
	{route: "GET /api/v1/recipients/:id<int>/consent", path: "/api/v1/recipients/{recB}/consent", expect: "LOOOOON"},
	{route: "POST /api/v1/recipients/:id<int>/consent", path: "/api/v1/recipients/{recB}/consent", json: `{"channel":"sms","opted_out":true,"reason":"matrix"}`, expect: "LNNNONN", prep: optInB},

	{route: "GET /api/v1/conversations", path: "/api/v1/conversations", expect: "LOOOOOO"},
	{route: "POST /api/v1/conversations", path: "/api/v1/conversations", json: `{"inbox_id":{inboxA},"to":"+15550107011","body":"matrix start"}`, expect: "LNOOOON"},
	{route: "POST /api/v1/conversations", path: "/api/v1/conversations", json: `{"inbox_id":{inboxB},"to":"+15550107012","body":"matrix start"}`, expect: "LOOOOON"},
	{route: "GET /api/v1/conversations/:id<int>", path: "/api/v1/conversations/{convA}", expect: "LNOOOON"},
	{route: "GET /api/v1/conversations/:id<int>", path: "/api/v1/conversations/{convB}", expect: "LOOOOON"},
	{route: "GET /api/v1/conversations/:id<int>/messages", path: "/api/v1/conversations/{convA}/messages", expect: "LNOOOON"},
	{route: "GET /api/v1/conversations/:id<int>/messages", path: "/api/v1/conversations/{convB}/messages", expect: "LOOOOON"},
	{route: "POST /api/v1/conversations/:id<int>/messages", path: "/api/v1/conversations/{convA}/messages", json: `{"body":"matrix reply"}`, expect: "LNOOOON"},
	{route: "POST /api/v1/conversations/:id<int>/messages", path: "/api/v1/conversations/{convB}/messages", json: `{"body":"matrix reply"}`, expect: "LOOOOON"},
	{route: "POST /api/v1/conversations/:id<int>/assign", path: "/api/v1/conversations/{convA}/assign", json: `{"user_id":null}`, expect: "LNOOOON"},
	{route: "POST /api/v1/conversations/:id<int>/assign", path: "/api/v1/conversations/{convB}/assign", json: `{"user_id":null}`, expect: "LOOOOON"},
	// Assigning to another organization's user: no such team member.
	{route: "POST /api/v1/conversations/:id<int>/assign", path: "/api/v1/conversations/{convB}/assign", json: `{"user_id":{rivalUser}}`, expect: "LIIIIIN"},
	{route: "POST /api/v1/conversations/:id<int>/close", path: "/api/v1/conversations/{convA}/close", expect: "LNOOOON", prep: reopenA},
	{route: "POST /api/v1/conversations/:id<int>/close", path: "/api/v1/conversations/{convB}/close", expect: "LOOOOON", prep: reopenB},
	{route: "POST /api/v1/conversations/:id<int>/reopen", path: "/api/v1/conversations/{convA}/reopen", expect: "LNOOOON", prep: closeA},
	{route: "POST /api/v1/conversations/:id<int>/reopen", path: "/api/v1/conversations/{convB}/reopen", expect: "LOOOOON", prep: closeB},

	// An email's files and original (page and API): exactly who may see
	// its conversation ({emailA}/{attA} in inbox A, {emailB}/{attB} in B).
	{route: "GET /attachments/:id<int>", path: "/attachments/{attA}", expect: "LNOOOON"},
	{route: "GET /attachments/:id<int>", path: "/attachments/{attB}", expect: "LOOOOON"},
	{route: "GET /messages/:id<int>/original", path: "/messages/{emailA}/original", expect: "LNOOOON"},
	{route: "GET /messages/:id<int>/original", path: "/messages/{emailB}/original", expect: "LOOOOON"},
	{route: "GET /api/v1/attachments/:id<int>", path: "/api/v1/attachments/{attA}", expect: "LNOOOON"},
	{route: "GET /api/v1/attachments/:id<int>", path: "/api/v1/attachments/{attB}", expect: "LOOOOON"},
	{route: "GET /api/v1/messages/:id<int>/original", path: "/api/v1/messages/{emailA}/original", expect: "LNOOOON"},
	{route: "GET /api/v1/messages/:id<int>/original", path: "/api/v1/messages/{emailB}/original", expect: "LOOOOON"},
}
