// Package webhooks delivers Keyward's audit events to the webhooks that
// admins register through the admin API, each signed with the webhook's
// own secret as Standard Webhooks 1.0 (standardwebhooks.com) specifies,
// so that its official verifiers check Keyward's deliveries.
//
// A Dispatcher gets each audit event this instance records
// (store.Auditor.OnEvent → OnAuditEvent) and POSTs it as JSON (Event) to
// every enabled webhook whose event_types select it, with the headers
//
//	webhook-id:        <event id, the same in every retry of the event>
//	webhook-timestamp: <Unix seconds of this attempt>
//	webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>
//	Keyward-Event:     <event type, also the body's "type">
//
// where key is the webhook's secret, "whsec_" and 32 random bytes in
// standard base64, decoded (secrets made before Keyward followed the
// standard are base64url without padding; they still sign, but the
// official verifiers need them rotated). Receivers check a delivery with
// Verify or any Standard Webhooks library, and drop a webhook-id they
// have already processed.
//
// Delivery is asynchronous and at least once: a bounded queue (an event
// that finds it full is dropped and logged, never blocking the request
// that caused it), and a failed attempt (no 2xx within 10s) is retried
// after 1s, 10s and 1m. Events recorded by the CLI or another instance
// are delivered by whoever recorded them (the CLI: never).
//
// Signing secrets are kept sealed (AES-256-GCM, key derived from the
// system secret); NewSecret makes one for the API to store.
package webhooks
