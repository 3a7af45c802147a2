// Package clients holds Keyward's OAuth2 client registry: the settings a
// person chooses for a client and their validation (RFC 6749, RFC 8252),
// the one keyed digest under which client secrets are stored, the
// in-process cache the token endpoint reads, and the JSON view the CLI and
// the admin API print. It does not import fosite; authz adapts a
// *store.Client to fosite.Client.
package clients
