// Package email owns the pure layer of Parley's email channel: what can be
// said about a message without a network, a database or a clock of its own.
//
//   - parsing (parse.go, limits.go): raw RFC 5322 bytes, through enmime,
//     into a plain Inbound value, refusing oversized messages, MIME bombs and
//     broken MIME with typed errors; a sender's HTML is only ever converted
//     to plain text, never kept;
//   - loop protection (automated.go): RFC 3834's signs of automated mail;
//   - quote stripping (quoted.go): the new text of a reply, without the
//     quoted history and signatures of Gmail, Outlook, Apple Mail and
//     Thunderbird;
//   - reply addresses (address.go): <inbox-local>+<token>@<domain>;
//   - building (build.go): an outbound message, through go-mail, rendered to
//     bytes without sending.
//
// The SMTP listener, the webhook, threading against stored messages and the
// sender live elsewhere and call this package.
package email
