package clients

import (
	"net"
	"net/url"
	"slices"
)

// ProfileFAPI2 holds a client to the FAPI 2.0 Security Profile (OpenID
// Foundation, final, 2025): pushed authorization requests, PKCE S256,
// DPoP-bound tokens, private_key_jwt, ES256/PS256 only, and authorization
// codes that live at most 60 seconds. authz enforces it on every request.
const ProfileFAPI2 = "fapi2"

// FAPI2IDTokenAlg is the ID-token algorithm a FAPI 2.0 client gets unless
// it chose one. FAPI 2.0 §5.4.1 allows PS256 and ES256 (and EdDSA with
// Ed25519); Keyward's signing keys are ES256, RS256 or EdDSA, so a FAPI 2.0
// client's ID tokens are ES256.
const FAPI2IDTokenAlg = "ES256"

// FAPI2Algs are the JWS algorithms a FAPI 2.0 client may sign with: its
// client assertions (RFC 7523) and DPoP proofs (RFC 9449), FAPI 2.0 §5.4.1.
var FAPI2Algs = []string{"ES256", "PS256"}

// IsFAPI2 reports whether c is held to the FAPI 2.0 Security Profile.
func IsFAPI2(profile string) bool { return profile == ProfileFAPI2 }

// validateProfile reports what keeps p from meeting its profile, each
// problem naming the setting to change and the section it comes from.
func (p Params) validateProfile() []string {
	switch p.Profile {
	case "":
		return nil
	case ProfileFAPI2:
	default:
		return []string{"profile " + quote(p.Profile) + ": not one of \"\" (none) or fapi2"}
	}
	var probs []string
	add := func(s string) { probs = append(probs, "profile fapi2: "+s) }
	if p.Public {
		add("the client must be confidential, not public (FAPI 2.0 §5.3.2.1)")
	}
	if p.AuthMethod != AuthPrivateKeyJWT {
		add("the client must authenticate with private_key_jwt (--auth-method private_key_jwt and --jwks-file or --jwks-uri): " +
			"FAPI 2.0 §5.3.2.1 allows mTLS or private_key_jwt, and Keyward offers private_key_jwt")
	}
	if !slices.Contains(p.GrantTypes, GrantAuthorizationCode) {
		add("the client needs the authorization_code grant (FAPI 2.0 §5.3.2.2)")
	}
	for _, g := range p.GrantTypes {
		if g != GrantAuthorizationCode && g != GrantRefreshToken {
			add("grant type " + quote(g) + " is outside the profile: use authorization_code and refresh_token only")
		}
	}
	if !p.PARRequired {
		add("pushed authorization requests must be required (--par-required; FAPI 2.0 §5.3.2.2, RFC 9126)")
	}
	if !p.DPoPRequired {
		add("DPoP must be required (--dpop-required): FAPI 2.0 §5.3.2.1 issues only sender-constrained tokens, " +
			"by mTLS or DPoP, and Keyward offers DPoP (RFC 9449)")
	}
	if p.PKCEOptional {
		add("PKCE cannot be optional (FAPI 2.0 §5.3.2.2 requires PKCE with S256)")
	}
	switch p.IDTokenAlg {
	case FAPI2IDTokenAlg:
	case "PS256":
		add("ID tokens signed PS256 are not offered (Keyward's signing keys are ES256, RS256 or EdDSA): use --id-token-alg ES256, which FAPI 2.0 §5.4.1 also allows")
	default:
		add("the ID token algorithm must be ES256 (--id-token-alg ES256; FAPI 2.0 §5.4.1 allows PS256 or ES256), not " + quote(p.IDTokenAlg))
	}
	for _, u := range p.RedirectURIs {
		if !fapiRedirectURI(u) {
			add("redirect URI " + quote(u) + " must not use http, except to a loopback address for a native app (FAPI 2.0 §5.3.2.2, RFC 8252 §7.3)")
		}
	}
	return probs
}

// fapiRedirectURI reports whether an authorization response to u never
// crosses the network unencrypted: any scheme but http, and http only to
// a loopback address (a native app, RFC 8252 §7.3).
func fapiRedirectURI(u string) bool {
	v, err := url.Parse(u)
	if err != nil {
		return false
	}
	if v.Scheme != "http" {
		return true
	}
	ip := net.ParseIP(v.Hostname())
	return ip != nil && ip.IsLoopback()
}

func quote(s string) string { return "\"" + s + "\"" }
