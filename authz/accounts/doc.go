// Package accounts holds the people who sign in to Keyward: users and
// their validation, argon2id passwords (RFC 9106), the login guard that
// slows password guessing, and the browser sessions of the login pages
// and the console, and second factors: TOTP authenticators (RFC 6238,
// secrets sealed at rest, each time step accepted once) and one-time
// recovery codes (Factors); passkeys are stored here and verified by
// authz. Upstream identities will live here too. It does not import fosite.
//
// # Login throttling
//
// Guessing must get slow, and knowing a username must not be enough to
// lock its owner out. The LoginGuard, modelled on Keycloak's brute-force
// detector, counts failed sign-ins on three keys; after a key's free
// failures each further failure doubles its wait, from one second up to
// 15 minutes, and a key's failures fade an hour after its last one:
//
//   - a username at one client address: 5 free failures. Whoever guesses
//     a password from one address is held back there; the user, signing
//     in from anywhere else, is not. A successful sign-in clears it.
//   - a username from any address: 100 free failures, to slow guessing
//     spread over many addresses. An address the user signed in from
//     within the last 30 days is exempt, so such an attack cannot keep
//     the user out from where they usually sign in.
//   - a client address, whatever the username: 20 free failures, so one
//     address cannot try a password on many usernames.
//
// IPv6 addresses count by their /64. Attempts in flight count as
// failures until they are settled, so parallel requests cannot outrun the
// count. The guard is in memory: each instance keeps its own, and a
// restart forgets it.
package accounts
