// Package sms owns Parley's SMS channel.
//
// For now it holds the channel's text rules only: which characters fit the
// GSM 03.38 7-bit default alphabet (3GPP TS 23.038), when a message has to go
// out as UCS-2 instead, how many concatenated parts ("segments") a text needs,
// what that costs in chat credits, and which texts are refused before sending.
// The composer's live preview and the outbound sender both call [Count], so the
// number an agent sees is the number that is charged.
//
// The Vonage adapter (outbound sends, inbound and delivery-receipt webhooks)
// will live in this package later, in files of its own; the files here stay
// pure text rules with no I/O and no dependencies beyond the standard library.
package sms
