// Package webhooks delivers Keyward's audit events to the webhooks that
// admins register through the admin API, each signed with the webhook's
// own secret.
//
// A Dispatcher gets each audit event this instance records
// (store.Auditor.OnEvent → OnAuditEvent) and POSTs it as JSON (Event) to
// every enabled webhook whose event_types select it, signed with
// HMAC-SHA256:
//
//	Keyward-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// Receivers check it with Verify. Delivery is asynchronous and at least
// once: a bounded queue (an event that finds it full is dropped and
// logged, never blocking the request that caused it), and a failed
// attempt (no 2xx within 10s) is retried after 1s, 10s and 1m. Events
// recorded by the CLI or another instance are delivered by whoever
// recorded them (the CLI: never).
//
// Signing secrets are kept sealed (AES-256-GCM, key derived from the
// system secret); NewSecret makes one for the API to store.
package webhooks
