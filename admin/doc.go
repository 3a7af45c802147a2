// Package admin is Keyward's admin surface on the admin listener: the REST
// API under /admin/v1 (described by an OpenAPI 3.1 document), authenticated
// by this server's own access tokens carrying the keyward:admin scope or
// by a console session, and the web console under /console/.
//
// Errors are application/problem+json (RFC 9457) from one table; lists
// page with ?limit&cursor and a Link: rel="next" header; every POST honours
// an Idempotency-Key (the stored answer is replayed for 24h). The webhooks
// resource registers the endpoints that package webhooks delivers every
// audit event to.
package admin
