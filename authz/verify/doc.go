// Package verify is Keyward's resource-server SDK: it verifies Keyward's
// JWT access tokens (RFC 9068) locally against the issuer's JWKS, asks
// the introspection endpoint (RFC 7662) and the API-key verification
// endpoint, and wraps all of it in net/http middleware.
//
// It depends only on the standard library and go-jose, nothing else from
// Keyward, so a resource server can import it alone. Package ginverify
// runs the same middlewares in gin; package verifytest is an in-process
// issuer for tests.
//
//	v, err := verify.New(ctx, verify.Config{
//		Issuer:   "https://auth.example.com",
//		Audience: "https://api.example.com", // optional: tokens must name it in aud
//	})
//	if err != nil {
//		return err
//	}
//	mux.Handle("/orders", verify.RequireToken(v, "orders:read")(orders))
//	// in orders: verify.ClaimsFromContext(r.Context()).Subject
//
// # Errors
//
// Every rejected token is a *TokenError whose Check names the check that
// failed (ErrMalformed, ErrTokenType, ErrSignature, ErrUnknownKey,
// ErrIssuer, ErrAudience, ErrExpired, ErrNotYetValid, ErrRevoked); each
// matches ErrInvalidToken with errors.Is. A missing scope is a
// *ScopeError (ErrInsufficientScope), a refused API key an *APIKeyError;
// ErrUnavailable means the issuer could not be asked. The middlewares
// hand these to WithErrorHandler's hook, and by default answer as RFC
// 6750 §3 says (WriteError), naming the failed check in a fixed
// error_description and nothing more.
//
// # Keys
//
// New reads the discovery document at Issuer + "/.well-known/openid-configuration"
// and fetches the JWKS, which is cached for its Cache-Control max-age
// (between 1 minute and 24 hours; 15 minutes without one). A token signed
// by a key the cache does not hold causes a refetch, at most once per
// RefetchInterval (10 s), so key rotation is picked up without letting
// forged kids make the Verifier hammer the issuer.
//
// # Revocation
//
// A JWT cannot say it was revoked: VerifyAccessToken accepts a revoked
// token until it expires. Where revocation must count at once (sign-out,
// compromised credentials, sensitive operations) give the Verifier the
// resource server's own client (Config.ClientID, ClientSecret) and use
// IntrospectAccessToken, or WithIntrospection on the middleware, which
// ask the issuer about every token (and accept opaque tokens too):
//
//	mux.Handle("/payouts", verify.Middleware(v, verify.WithScopes("payouts:write"), verify.WithIntrospection())(payouts))
//
// # DPoP
//
// A token whose claims carry cnf.jkt is bound to a client's key (RFC 9449
// §6). The middlewares admit it only as "Authorization: DPoP <token>"
// with a DPoP proof by that key for this request (htm, htu, iat within
// WithDPoPWindow, ath, and a jti the ReplayCache has not seen), and answer
// anything else 401 with a DPoP challenge (§7.1): a bound token presented
// as a bearer token, or a bearer token with the DPoP scheme, is
// error="invalid_token"; a missing or bad proof error="invalid_dpop_proof".
// WithBaseURL names the URL clients call when a proxy stands in front;
// WithReplayCache shares accepted proofs between instances.
//
// # API keys
//
// API keys are always checked by the issuer (POST /v1/apikeys/verify).
// APIKeys puts a short cache in front of it: valid keys for 10 s,
// refusals for at most 1 s, one call for concurrent requests with the
// same key, and never a cached answer for a key with a rate limit, whose
// every use must count at the issuer:
//
//	keys, err := verify.NewAPIKeys(v, verify.APIKeyConfig{})
//	mux.Handle("/invoices", verify.RequireAPIKey(keys, "invoices:read")(invoices))
package verify
