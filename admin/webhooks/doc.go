// Package webhooks delivers Keyward's audit events to the webhooks that
// admins register through the admin API, each signed with the webhook's
// own secret as Standard Webhooks 1.0 (standardwebhooks.com) specifies,
// so that its official verifiers check Keyward's deliveries.
//
// Delivery is durable and at least once, through an outbox in the
// database: store.AuditStore.AppendAudit writes one pending delivery per
// enabled webhook that selects the event, in the transaction of the change
// the event records (store.Auditor.Atomic), whoever makes it: the server,
// or a management command with no server running. A Dispatcher on every
// instance polls the outbox (and is woken at once by its own events and,
// through store.Events, by the other instances'); it takes a lease on a
// webhook before delivering to it, so that one instance at a time delivers
// a webhook's deliveries, one by one, in order. The body is the event's
// JSON (Event), with the headers
//
//	webhook-id:        <event id, the same in every retry of the event>
//	webhook-timestamp: <Unix seconds of this attempt>
//	webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>
//	Keyward-Event:     <event type, also the body's "type">
//
// where key is the webhook's secret, "whsec_" and 32 random bytes in
// standard base64, decoded (secrets made before Keyward followed the
// standard are base64url without padding; they still sign, but the
// official verifiers need them rotated). After a rotation with an overlap
// the previous secret signs too: webhook-signature holds both. Receivers
// check a delivery with Verify or any Standard Webhooks library, and drop
// a webhook-id they have already processed.
//
// Each attempt (no 2xx within Config.Timeout fails) is recorded in the
// delivery log; a failed one waits, with exponential backoff and jitter,
// and the webhook's later deliveries wait behind it. A delivery retried
// for Config.RetryFor is marked failed and the next one goes; a webhook
// whose attempts have all failed for Config.DisableAfter is disabled, with
// a webhook.disabled audit event.
//
// The Dispatcher also delivers the back-channel logout outbox when
// Config.Logouts is set (backchannel.go): OpenID Connect logout tokens
// that authz queues when a session ends, each POSTed as logout_token to a
// client's backchannel_logout_uri, signed at each attempt, retried with
// the same backoff, each row under its own lease.
//
// Signing secrets are kept sealed (AES-256-GCM, key derived from the
// system secret); NewSecret makes one for the API to store.
package webhooks
