package ginverify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/verify"
	"github.com/keyward/keyward/authz/verify/ginverify"
	"github.com/keyward/keyward/authz/verify/verifytest"
)

func ExampleRequireToken() {
	iss := verifytest.Start()
	defer iss.Close()
	v, err := verify.New(context.Background(), verify.Config{Issuer: iss.URL})
	if err != nil {
		fmt.Println(err)
		return
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/invoices", ginverify.RequireToken(v, "invoices:read"), func(c *gin.Context) {
		c.String(http.StatusOK, "invoices for %s", ginverify.Claims(c).ClientID)
	})

	for _, scope := range []string{"invoices:read", "invoices:write"} {
		req := httptest.NewRequest(http.MethodGet, "/invoices", nil)
		req.Header.Set("Authorization", "Bearer "+iss.Token(verifytest.Claims{ClientID: "billing", Scopes: []string{scope}}))
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"), w.Body.String())
	}
	// Output:
	// 200  invoices for billing
	// 403 Bearer error="insufficient_scope", error_description="The access token lacks a required scope.", scope="invoices:read" {"error":"insufficient_scope","error_description":"The access token lacks a required scope."}
}
