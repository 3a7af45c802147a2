// Package ginverify is gin middleware over package verify: it runs
// verify's net/http middlewares, with the same options, checks and
// answers (RFC 6750 WWW-Authenticate challenges that name the failed
// check), and puts the verified credential in the gin context.
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
//	r.GET("/reports", ginverify.Middleware(v, verify.WithScopes("reports:read"),
//		verify.WithIntrospection(), verify.WithErrorHandler(logAndAnswer)), reports)
//	r.GET("/invoices", ginverify.RequireAPIKey(apiKeys, "invoices:read"), invoices)
//
// Tokens are verified locally unless verify.WithIntrospection is given,
// so revoked tokens pass until they expire; see package verify.
package ginverify
