// Package ginverify is gin middleware over package verify: it admits
// requests bearing a valid Keyward access token with the required scopes
// and answers 401 or 403 with an RFC 6750 WWW-Authenticate header
// otherwise.
//
//	v, err := verify.New(ctx, verify.Config{Issuer: "https://auth.example.com"})
//	if err != nil {
//		return err
//	}
//	r := gin.New()
//	r.GET("/orders", ginverify.RequireToken(v, "orders:read"), func(c *gin.Context) {
//		claims := ginverify.Claims(c)
//		c.JSON(200, gin.H{"client": claims.ClientID})
//	})
//
// Tokens are verified locally, so revoked tokens pass until they expire;
// see package verify on introspection.
package ginverify
