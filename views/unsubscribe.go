package views

// UnsubscribeData is the email unsubscribe page (/unsubscribe/:token).
type UnsubscribeData struct {
	Token          string
	Email, OrgName string
	// Missing: no such link; Already: unsubscribed before this visit;
	// Done: unsubscribed by this request; Resubscribed: subscribed again
	// by this request.
	Missing, Already, Done, Resubscribed bool
	// HeldByStaff: the organization opted the address out, which the
	// link cannot undo.
	HeldByStaff bool
}
