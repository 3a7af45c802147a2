package authz

import "slices"

// amrUpstream marks, in a stored browser session's methods, a sign-in at
// an upstream OpenID provider. It is never put in a token: sessionAMR
// drops it. A URN, so that no registered method name can collide with it.
const amrUpstream = "urn:keyward:amr:upstream"

// registeredAMR are the Authentication Method Reference values of the
// IANA registry that RFC 8176 §7.1 established (§2 defines them).
var registeredAMR = []string{"face", "fpt", "geo", "hwk", "iris", "kba", "mca", "mfa", "otp", "pin",
	"pop", "pwd", "rba", "retina", "sc", "sms", "swk", "tel", "user", "vbm", "wia"}

// upstreamAMR is what a browser session signed in at an upstream
// provider records as its methods: the values of the upstream ID token's
// amr claim that RFC 8176 registered, each once, then amrUpstream.
//
// Keyward did not watch these methods happen; the upstream, whose ID
// token it verified and whom the administrator chose to trust, says it
// used them, and an RP asking Keyward learns what the upstream said. An
// unregistered value means nothing agreed, so it is dropped rather than
// passed on. With none left the ID token carries no amr claim (it is
// OPTIONAL, OIDC Core §2) rather than a "pwd" that no one entered here,
// and the acr is the single-factor class. An upstream amr holding "mfa"
// makes the session's acr the mfa class and so satisfies an MFA policy.
func upstreamAMR(upstream []string) []string {
	out := make([]string, 0, len(upstream)+1)
	for _, m := range upstream {
		if slices.Contains(registeredAMR, m) && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return append(out, amrUpstream)
}
