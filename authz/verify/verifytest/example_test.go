package verifytest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/keyward/keyward/authz/verify"
	"github.com/keyward/keyward/authz/verify/verifytest"
)

// In a test, three lines: an issuer, a Verifier for it, a token.
//
//	func TestOrders(t *testing.T) {
//		iss := verifytest.New(t)
//		h := verify.RequireToken(iss.Verifier(t), "orders:read")(ordersHandler)
//		token := iss.Token(verifytest.Claims{Scopes: []string{"orders:read"}})
//		...
//	}
//
// Start and Close do the same without a testing.TB.
func Example() {
	iss := verifytest.Start()
	defer iss.Close()
	ctx := context.Background()
	v, err := verify.New(ctx, iss.Config())
	if err != nil {
		fmt.Println(err)
		return
	}
	claims, err := v.VerifyAccessToken(ctx, iss.Token(verifytest.Claims{Subject: "alice", Scopes: []string{"orders:read"}}))
	fmt.Println(claims.Subject, claims.Scopes, err)
	// Output: alice [orders:read] <nil>
}

// Rotation: the new key signs, the old one stays published until it is
// unpublished; a Verifier fetches the JWKS again for a kid it does not
// know.
func ExampleIssuer_Rotate() {
	iss := verifytest.Start()
	defer iss.Close()
	ctx := context.Background()
	v, err := verify.New(ctx, iss.Config())
	if err != nil {
		fmt.Println(err)
		return
	}
	old := iss.Token(verifytest.Claims{})
	first := iss.KeyIDs()[0]
	iss.Rotate()
	fresh := iss.Token(verifytest.Claims{})
	_, err = v.VerifyAccessToken(ctx, fresh)
	// Refused: a refetch for an unknown kid waits verify.RefetchInterval
	// after the last one (New's), so forged kids cannot flood the issuer.
	fmt.Println(errors.Is(err, verify.ErrUnknownKey))

	iss.Unpublish(first)
	_, err = v.VerifyAccessToken(ctx, old) // still in the Verifier's cached JWKS
	fmt.Println(err, len(iss.KeyIDs()))
	// Output:
	// true
	// <nil> 1
}

// API keys with scopes, expiry and a rate limit, verified like at Keyward.
func ExampleIssuer_APIKey() {
	iss := verifytest.Start()
	defer iss.Close()
	ctx := context.Background()
	v, err := verify.New(ctx, iss.Config())
	if err != nil {
		fmt.Println(err)
		return
	}
	key := iss.APIKey(verifytest.APIKeyOptions{Scopes: []string{"invoices:read"}, RateLimit: 2})
	for range 3 {
		res, err := v.VerifyAPIKey(ctx, iss.ClientID, iss.ClientSecret, key.Key, "invoices:read")
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(res.Valid, res.Code, res.RateLimit.Remaining)
	}
	// Output:
	// true VALID 1
	// true VALID 0
	// false RATE_LIMITED 0
}
