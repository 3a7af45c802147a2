// Package keys manages Keyward's API keys: their format (a typed, checksummed
// string), generation, parsing, keyed digests, and policy (scopes, expiry,
// rate limits, roll with grace). It also derives every server-side key from
// the system secret (Secret.Derive).
//
// keys imports nothing from this repository but keys/signing.
package keys
