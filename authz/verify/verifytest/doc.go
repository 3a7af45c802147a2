// Package verifytest is an in-process OAuth2 issuer for the tests of
// resource servers that use package verify, ginverify or any other client
// of Keyward's public endpoints. It serves, on a loopback httptest.Server,
// what a resource server reaches at a real Keyward: the discovery
// document, the JWKS (with Cache-Control and ETag), token introspection
// (RFC 7662) and API-key verification (POST /v1/apikeys/verify), with the
// same wire formats. The test mints tokens and keys directly, with the
// claims, scopes, audience and lifetime it wants:
//
//	iss := verifytest.New(t)
//	handler := verify.RequireToken(iss.Verifier(t), "orders:read")(ordersHandler)
//	token := iss.Token(t, verifytest.Claims{Scopes: []string{"orders:read"}})
//
// Rotate and Unpublish change the signing keys (a Verifier refetches the
// JWKS for a kid it does not know); Revoke makes introspection and the
// API-key endpoint answer inactive; APIKey creates keys of Keyward's
// format, with scopes, expiry and a rate limit.
//
// It imports nothing from Keyward's server, only package verify, the
// standard library and go-jose. Its defaults follow Keyward's: ES256
// keys, access tokens with typ at+jwt and the client's own id as aud when
// no audience is asked for, a JWKS max-age of 15 minutes.
package verifytest
