// Package signing manages Keyward's token-signing keys: their life cycle,
// encryption at rest, the published JSON Web Key Set, signing and
// verifying JWS compact tokens (RFC 7515) with go-jose v4, and scheduled
// rotation.
//
// # Life cycle
//
// A key is published before it signs and keeps being published after it
// stops signing, so that a verifier holding a cached JWKS (RFC 7517) never
// meets an unknown kid:
//
//	next      published in the JWKS, not signing yet; it waits at least
//	          Config.NextDwell (≥ the JWKS max-age) before scheduled promotion
//	active    signs; exactly one per algorithm
//	retiring  verifies only; published until RetireAfter, that is until the
//	          longest-lived token it may have signed has expired
//	retired   unpublished, kept for audit
//
// Rotate, the on-demand rotation, promotes the next key only once it has
// been published for Config.JWKSMaxAge (or if it was published with the
// algorithm's first key); otherwise it answers a *TooEarlyError saying when
// the key is ready, unless RotateOptions.Force is set (audited as forced).
// Rotations asked for at once make a single rotation that answers them all.
//
// Revoke is the emergency path: the key goes straight to retired (with
// RevokedAt set), leaves the JWKS at once, and when it was active the next
// key (or a fresh one) replaces it immediately.
//
// Every transition runs in one database transaction holding a per-algorithm
// lock (Store.UpdateSigningKeys), and the engines keep a partial unique index
// on the active key of each algorithm, so concurrent rotations and a process
// killed mid-rotation never leave zero or two active keys.
//
// # Serving
//
// A Service keeps the published keys in memory (decrypted once, with a
// go-jose signer per key), so Sign, Verify and the JWKS never touch the
// database. After a transition it notifies the "keyward_signing_keys"
// channel (Events) so every instance reloads; Run also reloads periodically
// as a safety net.
//
// signing imports only the standard library, go-jose v4 and
// github.com/keyward/keyward/keys; the store engines implement Store.
package signing
