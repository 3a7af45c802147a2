package verify_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/verify"
	"github.com/keyward/keyward/authz/verify/ginverify"
	"github.com/keyward/keyward/authz/verify/verifytest"
)

// dpopCase is one request to a protected resource and what it must answer.
type dpopCase struct {
	name   string
	auth   string   // Authorization header
	proofs []string // DPoP headers
	status int
	code   string // error of the JSON body and of the DPoP challenge
}

// dpopCases covers RFC 9449 §7.1 at a resource whose URL is url: a
// bound token with its proof is admitted once; a replayed proof, a proof
// for another URL or method, a stale one, one without the token's hash or
// by another key, the token without its proof or as a bearer token, and a
// bearer token with the DPoP scheme are refused.
func dpopCases(iss *verifytest.Issuer, url string) []dpopCase {
	k, other := verifytest.NewDPoPKey(), verifytest.NewDPoPKey()
	bound := iss.Token(verifytest.Claims{Subject: "alice", DPoP: k})
	bearer := iss.Token(verifytest.Claims{Subject: "bob"})
	good := k.Proof("GET", url, bound, nil)
	return []dpopCase{
		{"bound token with its proof", "DPoP " + bound, []string{good}, 200, ""},
		{"replayed proof", "DPoP " + bound, []string{good}, 401, "invalid_dpop_proof"},
		{"proof for another URL", "DPoP " + bound, []string{k.Proof("GET", url+"/other", bound, nil)}, 401, "invalid_dpop_proof"},
		{"proof for another method", "DPoP " + bound, []string{k.Proof("POST", url, bound, nil)}, 401, "invalid_dpop_proof"},
		{"stale proof", "DPoP " + bound, []string{k.Proof("GET", url, bound, map[string]any{"iat": time.Now().Add(-10 * time.Minute).Unix()})}, 401, "invalid_dpop_proof"},
		{"proof without ath", "DPoP " + bound, []string{k.Proof("GET", url, "", nil)}, 401, "invalid_dpop_proof"},
		{"proof by another key", "DPoP " + bound, []string{other.Proof("GET", url, bound, nil)}, 401, "invalid_dpop_proof"},
		{"two proofs", "DPoP " + bound, []string{k.Proof("GET", url, bound, nil), k.Proof("GET", url, bound, nil)}, 401, "invalid_dpop_proof"},
		{"token without its proof", "DPoP " + bound, nil, 401, "invalid_dpop_proof"},
		{"bound token as bearer", "Bearer " + bound, []string{k.Proof("GET", url, bound, nil)}, 401, "invalid_token"},
		{"bearer token with the DPoP scheme", "DPoP " + bearer, []string{k.Proof("GET", url, bearer, nil)}, 401, "invalid_token"},
		{"bearer token as bearer", "Bearer " + bearer, nil, 200, ""},
	}
}

func runDPoPCases(t *testing.T, url string, cases []dpopCase) {
	t.Helper()
	for _, tc := range cases {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", tc.auth)
		for _, p := range tc.proofs {
			req.Header.Add("DPoP", p)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || body["error"] != tc.code {
			t.Errorf("%s: %d %v, want %d %q", tc.name, resp.StatusCode, body, tc.status, tc.code)
			continue
		}
		if tc.status == 401 {
			ch := resp.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="`+tc.code+`"`) ||
				!strings.Contains(ch, `algs="ES256 ES384 PS256 RS256 EdDSA"`) {
				t.Errorf("%s: challenge %q", tc.name, ch)
			}
		}
	}
}

// TestMiddlewareDPoP: the net/http middleware, verifying locally and
// with introspection.
func TestMiddlewareDPoP(t *testing.T) {
	t.Parallel()
	iss := verifytest.New(t)
	for _, introspect := range []bool{false, true} {
		opts := []verify.Option{}
		if introspect {
			opts = append(opts, verify.WithIntrospection())
		}
		srv := httptest.NewServer(verify.Middleware(iss.Verifier(t), opts...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{}`))
		})))
		runDPoPCases(t, srv.URL+"/orders", dpopCases(iss, srv.URL+"/orders"))
		srv.Close()
	}
}

// TestGinMiddlewareDPoP: ginverify answers the same, behind a proxy that
// WithBaseURL names.
func TestGinMiddlewareDPoP(t *testing.T) {
	t.Parallel()
	iss := verifytest.New(t)
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/orders", ginverify.Middleware(iss.Verifier(t), verify.WithBaseURL("https://api.example")), func(c *gin.Context) {
		c.JSON(200, gin.H{"sub": ginverify.Claims(c).Subject})
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	cases := dpopCases(iss, "https://api.example/orders")
	runDPoPCases(t, srv.URL+"/orders", cases)
}

// TestMemoryReplayCache: a key is fresh once until it expires, and the
// cache stays within its bound.
func TestMemoryReplayCache(t *testing.T) {
	c := verify.NewMemoryReplayCache(3)
	ctx := context.Background()
	exp := time.Now().Add(time.Minute)
	if fresh, _ := c.Use(ctx, "a", exp); !fresh {
		t.Fatal("first use not fresh")
	}
	if fresh, _ := c.Use(ctx, "a", exp); fresh {
		t.Fatal("replay fresh")
	}
	if fresh, _ := c.Use(ctx, "old", time.Now().Add(-time.Second)); !fresh {
		t.Fatal("expired key not fresh")
	}
	for _, k := range []string{"b", "c", "d", "e"} {
		c.Use(ctx, k, exp.Add(time.Second))
	}
	if fresh, _ := c.Use(ctx, "e", exp); fresh {
		t.Fatal("the newest key was forgotten")
	}
}

// TestVerifyDPoPProofErrors: a refused proof matches ErrDPoPProof and
// ErrInvalidToken.
func TestVerifyDPoPProofErrors(t *testing.T) {
	k := verifytest.NewDPoPKey()
	p := k.Proof("GET", "https://api.example/x", "tok", nil)
	if got, err := verify.VerifyDPoPProof(p, "GET", "HTTPS://API.example:443/x?q=1", "tok", k.Thumbprint(), time.Now(), time.Minute); err != nil || got.JKT != k.Thumbprint() {
		t.Fatalf("good proof: %v %+v", err, got)
	}
	_, err := verify.VerifyDPoPProof(p, "GET", "https://api.example/y", "tok", "", time.Now(), time.Minute)
	if !errors.Is(err, verify.ErrDPoPProof) || !errors.Is(err, verify.ErrInvalidToken) {
		t.Fatalf("htu mismatch: %v", err)
	}
}
