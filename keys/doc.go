// Package keys manages Keyward's API keys: their format (a typed, checksummed
// string), generation, parsing, keyed digests, and policy (scopes, expiry,
// rate limits, roll with grace). It also derives every server-side key from
// the system secret (Secret.Derive).
//
// Verification of a known key is served from memory: the cache (negative
// results too) is invalidated on every instance through Events; usage counts
// are batched (Flush), and rate-limit counts are shared between instances
// through a RateCounter every RateSyncInterval, never written per request.
// Config.Observer is told each verification's code and each cache lookup,
// for metrics, without keys importing a metrics library.
//
// keys imports nothing from this repository but keys/signing.
package keys
