package models

// The role matrix: what each role may do, in one place. Pages, the API and
// socket subscriptions ask Scope.Can; store methods that make a change ask
// it again, so a route that forgot to ask still cannot do it. The README's
// role matrix is this table in words, and a test walks every route with
// every role against it.

// Permission is one thing a user may be allowed to do.
type Permission string

// Permissions. Chatting (reading and answering conversations in the
// inboxes the scope covers) needs none: every signed-in user may.
const (
	// PermEditRecipients: name a recipient, edit phone, email and notes.
	PermEditRecipients Permission = "recipients.edit"
	// PermRecipientConsent: opt a recipient out or back in by hand.
	PermRecipientConsent Permission = "recipients.consent"
	// PermViewSettings: see the organization's settings, locations,
	// inboxes and team (read only).
	PermViewSettings Permission = "settings.view"
	// PermManageSettings: change the organization, locations and inboxes.
	PermManageSettings Permission = "settings.manage"
	// PermManageTeam: invite, edit, disable users; reset passwords.
	PermManageTeam Permission = "team.manage"
	// PermViewAudit: read the audit log.
	PermViewAudit Permission = "audit.view"
	// PermViewCredits: see plans, balances and usage.
	PermViewCredits Permission = "credits.view"
	// PermManageCredits: change plans and rate cards.
	PermManageCredits Permission = "credits.manage"
	// PermBroadcast: compose and send broadcasts.
	PermBroadcast Permission = "broadcasts.send"
)

// rolePerms is the matrix. An agent limited to chosen inboxes has the
// agent's permissions within those inboxes (Scope.InboxIDs).
var rolePerms = map[string]map[Permission]bool{
	RoleAdmin: {
		PermEditRecipients: true, PermRecipientConsent: true,
		PermViewSettings: true, PermManageSettings: true, PermManageTeam: true,
		PermViewAudit: true, PermViewCredits: true, PermManageCredits: true,
		PermBroadcast: true,
	},
	RoleManager: {
		PermEditRecipients: true,
		PermViewSettings:   true, PermViewCredits: true, PermBroadcast: true,
	},
	RoleAgent: {
		PermEditRecipients: true,
	},
}

// Can reports whether the scope's role grants p.
func (s Scope) Can(p Permission) bool { return rolePerms[s.Role][p] }

// Permissions lists every permission, in the order the README's matrix shows them.
func Permissions() []Permission {
	return []Permission{
		PermEditRecipients, PermRecipientConsent, PermViewSettings, PermManageSettings,
		PermManageTeam, PermViewAudit, PermViewCredits, PermManageCredits, PermBroadcast,
	}
}

// ErrForbidden: the scope's role does not allow the change. Handlers answer
// it as 404 (R9: never confirm that something exists to someone who may
// not touch it).
var ErrForbidden = errNotAllowed{}

type errNotAllowed struct{}

func (errNotAllowed) Error() string { return "not allowed" }

// Is makes errors.Is(ErrForbidden, ErrNotFound) true, so every handler that
// answers ErrNotFound as 404 answers a refused permission the same way.
func (errNotAllowed) Is(target error) bool { return target == ErrNotFound }

// require returns ErrForbidden unless the scope may do p.
func require(sc Scope, p Permission) error {
	if !sc.Can(p) {
		return ErrForbidden
	}
	return nil
}
