// Package verify is Keyward's resource-server SDK: it verifies Keyward's
// JWT access tokens (RFC 9068) locally against the issuer's JWKS, and calls
// the API-key verification and token introspection (RFC 7662) endpoints.
//
// It depends only on the standard library and go-jose, nothing else from
// Keyward, so a resource server can import it alone.
//
//	v, err := verify.New(ctx, verify.Config{
//		Issuer:   "https://auth.example.com",
//		Audience: "https://api.example.com", // optional
//	})
//	if err != nil {
//		return err
//	}
//	claims, err := v.VerifyAccessToken(ctx, bearerToken)
//	switch {
//	case errors.Is(err, verify.ErrInvalidToken):
//		// 401: expired, forged, wrong issuer or audience, ...
//	case err != nil:
//		// 503: the issuer's JWKS could not be fetched (verify.ErrUnavailable)
//	case !claims.HasScope("orders:read"):
//		// 403
//	}
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
// token until it expires. Callers that must honour revocation promptly
// (sign-out, compromised credentials, sensitive operations) call
// Introspect, which asks the issuer:
//
//	info, err := v.Introspect(ctx, clientID, clientSecret, bearerToken)
//	if err == nil && info["active"] == true { ... }
//
// API keys are always checked by the issuer:
//
//	res, err := v.VerifyAPIKey(ctx, clientID, clientSecret, apiKey, "orders:read")
//	if err == nil && res.Valid { ... }
package verify
