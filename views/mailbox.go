package views

import "time"

// MailboxData is the mailbox simulator's page: a person's mailbox, the
// form to write to an inbox and the mail opened.
type MailboxData struct {
	Address, Name string         // the person played
	People        []string       // other mailboxes with mail of the visible inboxes
	Inboxes       []MailboxInbox // inboxes with an address the person may write to
	Mails         []MailboxMail  // oldest first
	Open          *MailboxMail   // the mail shown in full, if any
	Compose       MailboxCompose
	Reply         MailboxReply
	Error         string // about the address typed
	BounceDomain  string
	ListURL       string // the list's refresh
}

// MailboxInbox is an inbox the person may write to.
type MailboxInbox struct{ Name, Address string }

// MailboxCompose is the new-mail form, kept as typed when it fails.
type MailboxCompose struct {
	To, Subject, Text string
	Error, Notice     string
}

// MailboxReply is the reply form under an open mail.
type MailboxReply struct {
	Text          string
	Error, Notice string
}

// MailboxMail is one mail of the mailbox.
type MailboxMail struct {
	ID                                      string
	Href                                    string // the page with this mail open
	Opened                                  bool   // the one shown in full
	At                                      time.Time
	Outgoing                                bool
	From, To, Subject, Date                 string
	MessageID, InReplyTo, References        string
	ReplyTo, AutoSubmitted, ListUnsubscribe string
	MailFrom                                string // the envelope's return path ("" is <>)
	Text, Snippet                           string
	Bounce, ParseError                      string
}
