// Package sms owns Parley's SMS channel, and it is the one place that
// knows Vonage:
//
//   - text rules (segments.go, gsm.go): which characters fit GSM 03.38
//     (3GPP TS 23.038), when a message goes out as UCS-2, how many parts it
//     needs and what that costs; the composer's preview and the sender use
//     the same Count, so the number an agent sees is the number charged;
//   - the outbound sender (vonage_*.go) over vonage-go-sdk, classifying
//     Vonage's answers as permanent refusals or retryable failures;
//   - the webhooks (webhook_*.go): inbound SMS and delivery receipts, from
//     GET query, form or JSON, parsed into plain values;
//   - signatures (signature.go): Vonage's md5hash and HMAC schemes.
//
// It does no database or HTTP-server work: http/webhook and jobs call it.
package sms
