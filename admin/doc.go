// Package admin is Keyward's admin REST API under /admin/v1 on the admin
// listener, described by an OpenAPI 3.1 document.
//
// Callers authenticate with this server's own access tokens carrying the
// keyward:admin scope, or with the cookie of an admin user's console
// session (Config.Sessions: package console owns the sessions, and
// neither package imports the other). Errors are application/problem+json
// (RFC 9457) from one table; lists page with ?limit&cursor and a
// Link: rel="next" header; every POST honours an Idempotency-Key (the
// stored answer is replayed for 24h). The webhooks resource registers the
// endpoints that package webhooks delivers every audit event to.
package admin
