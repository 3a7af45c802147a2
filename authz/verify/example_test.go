package verify_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/keyward/keyward/authz/verify"
	"github.com/keyward/keyward/authz/verify/verifytest"
)

// get sends GET url with one header and prints the answer's status,
// challenge and body.
func get(url, header, value string) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if header != "" {
		req.Header.Set(header, value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%d %s %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	if resp.StatusCode == http.StatusOK {
		fmt.Println()
	}
}

// A resource server protects a route with an access token that must grant
// orders:read (verifytest stands in for Keyward).
func ExampleRequireToken() {
	iss := verifytest.Start()
	defer iss.Close()
	ctx := context.Background()

	v, err := verify.New(ctx, verify.Config{Issuer: iss.URL})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /orders", verify.RequireToken(v, "orders:read")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "orders of %s", verify.ClaimsFromContext(r.Context()).Subject)
		})))
	api := httptest.NewServer(mux)
	defer api.Close()

	get(api.URL+"/orders", "Authorization", "Bearer "+iss.Token(verifytest.Claims{Subject: "alice", Scopes: []string{"orders:read"}}))
	get(api.URL+"/orders", "Authorization", "Bearer "+iss.Token(verifytest.Claims{Scopes: []string{"orders:write"}}))
	get(api.URL+"/orders", "Authorization", "Bearer "+iss.Token(verifytest.Claims{Scopes: []string{"orders:read"}, ExpiresIn: -time.Hour}))
	get(api.URL+"/orders", "", "")
	// Output:
	// 200  orders of alice
	// 403 Bearer error="insufficient_scope", error_description="The access token lacks a required scope.", scope="orders:read" {"error":"insufficient_scope","error_description":"The access token lacks a required scope."}
	// 401 Bearer error="invalid_token", error_description="The access token expired." {"error":"invalid_token","error_description":"The access token expired."}
	// 401 Bearer {"error":"invalid_request","error_description":"Authentication is required."}
}

// The error hook learns which check failed: here a token for another
// audience. It logs and keeps the default answer.
func ExampleWithErrorHandler() {
	iss := verifytest.Start(verifytest.Options{Audience: "https://api.example"})
	defer iss.Close()
	v, err := verify.New(context.Background(), iss.Config())
	if err != nil {
		fmt.Println(err)
		return
	}
	mw := verify.Middleware(v, verify.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
		var te *verify.TokenError
		if errors.As(err, &te) {
			fmt.Println("refused:", te.Check, "| audience:", errors.Is(err, verify.ErrAudience))
		}
		verify.WriteError(w, r, err)
	}))
	api := httptest.NewServer(mw(http.NotFoundHandler()))
	defer api.Close()

	get(api.URL, "Authorization", "Bearer "+iss.Token(verifytest.Claims{Audience: []string{"https://billing.example"}}))
	// Output:
	// refused: verify: wrong audience | audience: true
	// 401 Bearer error="invalid_token", error_description="The access token is meant for another audience." {"error":"invalid_token","error_description":"The access token is meant for another audience."}
}

// API keys are verified at the issuer's /v1/apikeys/verify, with a short
// cache: repeated requests with one key cost one call.
func ExampleRequireAPIKey() {
	iss := verifytest.Start()
	defer iss.Close()
	v, err := verify.New(context.Background(), verify.Config{Issuer: iss.URL,
		ClientID: iss.ClientID, ClientSecret: iss.ClientSecret}) // the resource server's own client
	if err != nil {
		fmt.Println(err)
		return
	}
	keys, err := verify.NewAPIKeys(v, verify.APIKeyConfig{CacheTTL: 30 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	api := httptest.NewServer(verify.RequireAPIKey(keys, "invoices:read")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "hello, key with scope ", verify.APIKeyFromContext(r.Context()).Scope)
		})))
	defer api.Close()

	key := iss.APIKey(verifytest.APIKeyOptions{Scopes: []string{"invoices:read"}})
	for range 3 {
		get(api.URL, "X-API-Key", key.Key)
	}
	iss.Revoke(key.Key)
	get(api.URL, "X-API-Key", "kw_test_made_up")
	fmt.Println("calls to the issuer:", iss.APIKeyVerifications())
	// Output:
	// 200  hello, key with scope invoices:read
	// 200  hello, key with scope invoices:read
	// 200  hello, key with scope invoices:read
	// 401 Bearer error="invalid_token", error_description="The API key is not valid." {"error":"invalid_token","error_description":"The API key is not valid."}
	// calls to the issuer: 1
}

// Introspection sees what a JWT cannot say: that it was revoked.
func ExampleVerifier_IntrospectToken() {
	iss := verifytest.Start()
	defer iss.Close()
	ctx := context.Background()
	v, err := verify.New(ctx, iss.Config())
	if err != nil {
		fmt.Println(err)
		return
	}
	token := iss.Token(verifytest.Claims{Subject: "alice", Scopes: []string{"orders:read"}})
	info, err := v.IntrospectToken(ctx, token)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.Active, info.Subject, info.Scopes, info.TokenType)

	iss.Revoke(token)
	_, err = v.IntrospectAccessToken(ctx, token)
	fmt.Println(errors.Is(err, verify.ErrRevoked))
	// Output:
	// true alice [orders:read] Bearer
	// true
}

// Private claims keep their types.
func ExampleClaims_Claim() {
	iss := verifytest.Start()
	defer iss.Close()
	ctx := context.Background()
	v, err := verify.New(ctx, iss.Config())
	if err != nil {
		fmt.Println(err)
		return
	}
	token := iss.Token(verifytest.Claims{Extra: map[string]any{"tenant": map[string]any{"id": 42, "plan": "pro"}}})
	claims, err := v.VerifyAccessToken(ctx, token)
	if err != nil {
		fmt.Println(err)
		return
	}
	var tenant struct {
		ID   int    `json:"id"`
		Plan string `json:"plan"`
	}
	if err := claims.Claim("tenant", &tenant); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tenant.ID, tenant.Plan)
	// Output: 42 pro
}
