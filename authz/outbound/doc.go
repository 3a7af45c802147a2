// Package outbound is the one way Keyward fetches from the network (client
// jwks_uri documents, Client ID Metadata Documents, upstream providers):
// a Fetcher that refuses to dial loopback, private, link-local, metadata
// and other non-public addresses (checked on the resolved IP at dial time,
// so DNS rebinding cannot slip past it), allows only https, re-checks each
// redirect hop, caps the body size and the total time, and caches
// responses as their Cache-Control and Expires headers allow (RFC 9111),
// revalidating with If-None-Match when the origin gave an ETag.
//
// Config.AllowPrivate lifts the address guard and allows http, for
// development and tests only.
package outbound
