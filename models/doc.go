// Package models owns Parley's system of record: the bun models, the
// embedded migrations, and the Store through which every query and every
// transaction runs. It knows nothing about HTTP or websockets, and of the
// job queue only the catalogue's task specs (jobs/task), which it writes
// as outbox rows in the transaction that caused them.
//
// # Layout
//
// One file per aggregate holds its types and queries: recipients.go,
// conversations.go, messages.go, events.go, outbox.go, sessions.go,
// tenants.go (organizations, locations, inboxes), users.go. Transactions
// that span aggregates are named for what they do:
// conversation_actions.go (start, reply, assign, close), inbound.go with
// the inbound_*.go steps of its core (every received message, any
// channel), outbound.go (the worker's claim and record), receipt.go,
// keywords.go (STOP, START, HELP). Rules several of them apply are
// defined once: send_gate.go (who may be sent to, and the delivery-status
// order), conversation_row.go (the one way a conversation's list row is
// read), visibleInboxes in users.go (the one inbox-scope filter, R9).
//
// # Builder or prepared statement
//
// Queries use bun's builder (or NewRaw with ? placeholders) by default:
// readable, and filters compose. bun inlines its arguments, so PostgreSQL
// parses and plans every call afresh; that is fine off the hot paths. A
// statement becomes a cached prepared statement (queryCached/execCached in
// prepared.go: $n parameters, lists passed as arrays so the text never
// varies) only on a path a benchmark measures and a profile shows planning
// to matter: the inbound core (B2), the send worker's claim, record and
// done mark (B3), and the chats list and its search (B6, B5:
// conversation_list.go, search.go), where planning cost several times the
// execution.
package models
