package authz_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys/clocktest"
)

const dpopIssuer = "http://127.0.0.1:8080"

// dpopKey is a client's DPoP key (ES256).
type dpopKey struct {
	priv *ecdsa.PrivateKey
	jkt  string
}

func newDPoPKey(t testing.TB) *dpopKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: priv.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return &dpopKey{priv: priv, jkt: base64.RawURLEncoding.EncodeToString(tp)}
}

// proof signs a DPoP proof for htm and htu at iat; edit may change the
// claims, and typ the header's typ.
func (k *dpopKey) proof(t testing.TB, htm, htu string, iat time.Time, edit func(map[string]any)) string {
	t.Helper()
	return k.proofTyp(t, "dpop+jwt", htm, htu, iat, edit)
}

func (k *dpopKey) proofTyp(t testing.TB, typ, htm, htu string, iat time.Time, edit func(map[string]any)) string {
	t.Helper()
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType(jose.ContentType(typ))
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	var b [12]byte
	rand.Read(b[:])
	claims := map[string]any{"jti": base64.RawURLEncoding.EncodeToString(b[:]), "htm": htm, "htu": htu, "iat": iat.Unix()}
	if edit != nil {
		edit(claims)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ath is RFC 9449 §4.2's hash of an access token.
func ath(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func newDPoPEnv(t *testing.T, nonce bool) *parEnv {
	t.Helper()
	return newDPoPEnvWith(t, authztest.Options{DPoPNonce: nonce})
}

// newDPoPEnvWith is newDPoPEnv with more options (issuer, rate limit and
// clock are set here).
func newDPoPEnvWith(t *testing.T, o authztest.Options) *parEnv {
	t.Helper()
	e := &parEnv{clock: clocktest.At(time.Now())}
	o.Issuer, o.TokenRate, o.Now = dpopIssuer, -1, e.clock.Now
	e.st = authztest.New(t, o)
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	e.st.Provider.Mount(engine)
	e.srv = httptest.NewServer(engine)
	t.Cleanup(e.srv.Close)
	if _, err := e.st.Users.Create(context.Background(), accounts.UserParams{Username: "alice", Password: "alice-password-1"}); err != nil {
		t.Fatal(err)
	}
	return e
}

// call sends a request to path with form (POST) or none (GET), the DPoP
// headers given and the Authorization header auth, and returns status,
// headers and JSON body.
func (e *parEnv) call(t *testing.T, method, path string, form url.Values, auth string, proofs ...string) (int, http.Header, map[string]any) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, resp.Header, out
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// wantError fails unless the answer is status with error code.
func wantError(t *testing.T, what string, status int, out map[string]any, wantStatus int, code string) {
	t.Helper()
	if status != wantStatus || out["error"] != code {
		t.Fatalf("%s: %d %v, want %d %s", what, status, out, wantStatus, code)
	}
}

// jwtClaims decodes a JWT's payload without checking it.
func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func cnfJKT(m map[string]any) string {
	cnf, _ := m["cnf"].(map[string]any)
	s, _ := cnf["jkt"].(string)
	return s
}

// TestDPoPClientCredentials: a proof binds a client-credentials token
// (token_type DPoP, cnf.jkt in the JWT and in introspection, RFC 9449
// §5, §6); every broken proof is 400 invalid_dpop_proof (§4.3, §5).
func TestDPoPClientCredentials(t *testing.T) {
	e := newDPoPEnv(t, false)
	id, secret := e.client(t, clients.Params{Name: "svc", GrantTypes: []string{clients.GrantClientCredentials}, Scopes: []string{"read"}})
	opaqueID, opaqueSecret := e.client(t, clients.Params{Name: "svc2", GrantTypes: []string{clients.GrantClientCredentials},
		Scopes: []string{"read"}, AccessTokenFormat: "opaque"})
	k := newDPoPKey(t)
	htu := dpopIssuer + authz.PathToken
	form := url.Values{"grant_type": {"client_credentials"}}

	proof := k.proof(t, "POST", htu, e.clock.Now(), nil)
	status, _, out := e.call(t, "POST", authz.PathToken, form, basic(id, secret), proof)
	if status != 200 || out["token_type"] != "DPoP" {
		t.Fatalf("token: %d %v, want token_type DPoP", status, out)
	}
	at := out["access_token"].(string)
	if got := cnfJKT(jwtClaims(t, at)); got != k.jkt {
		t.Fatalf("cnf.jkt %q, want %q", got, k.jkt)
	}
	status, _, in := e.call(t, "POST", authz.PathIntrospect, url.Values{"token": {at}}, basic(id, secret))
	if status != 200 || in["active"] != true || in["token_type"] != "DPoP" || cnfJKT(in) != k.jkt {
		t.Fatalf("introspection: %d %v", status, in)
	}

	// Opaque tokens carry the binding in their session.
	status, _, out = e.call(t, "POST", authz.PathToken, form, basic(opaqueID, opaqueSecret), k.proof(t, "POST", htu, e.clock.Now(), nil))
	if status != 200 || out["token_type"] != "DPoP" {
		t.Fatalf("opaque token: %d %v", status, out)
	}
	_, _, in = e.call(t, "POST", authz.PathIntrospect, url.Values{"token": {out["access_token"].(string)}}, basic(id, secret))
	if in["active"] != true || in["token_type"] != "DPoP" || cnfJKT(in) != k.jkt {
		t.Fatalf("opaque introspection: %v", in)
	}

	// Without a proof: a bearer token.
	_, _, out = e.call(t, "POST", authz.PathToken, form, basic(id, secret))
	if tt, _ := out["token_type"].(string); !strings.EqualFold(tt, "bearer") || cnfJKT(jwtClaims(t, out["access_token"].(string))) != "" {
		t.Fatalf("no proof: %v, want a bearer token without cnf", out)
	}

	now := e.clock.Now()
	for _, tc := range []struct {
		name   string
		proofs []string
	}{
		{"replayed proof", []string{proof}},
		{"another URL (htu)", []string{k.proof(t, "POST", dpopIssuer+authz.PathPAR, now, nil)}},
		{"another host (htu)", []string{k.proof(t, "POST", "https://evil.example/oauth2/token", now, nil)}},
		{"wrong htm", []string{k.proof(t, "GET", htu, now, nil)}},
		{"old iat", []string{k.proof(t, "POST", htu, now.Add(-5*time.Minute), nil)}},
		{"future iat", []string{k.proof(t, "POST", htu, now.Add(5*time.Minute), nil)}},
		{"no jti", []string{k.proof(t, "POST", htu, now, func(c map[string]any) { delete(c, "jti") })}},
		{"wrong typ", []string{k.proofTyp(t, "JWT", "POST", htu, now, nil)}},
		{"two headers", []string{k.proof(t, "POST", htu, now, nil), k.proof(t, "POST", htu, now, nil)}},
		{"not a JWT", []string{"garbage"}},
		{"HMAC-signed", []string{hmacProof(t, htu, now)}},
		{"tampered signature", []string{tamper(k.proof(t, "POST", htu, now, nil))}},
	} {
		status, hdr, out := e.call(t, "POST", authz.PathToken, form, basic(id, secret), tc.proofs...)
		wantError(t, tc.name, status, out, 400, "invalid_dpop_proof")
		if hdr.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", tc.name, hdr.Get("Cache-Control"))
		}
	}
	// A normalised htu (host case, default port) is the same endpoint.
	status, _, out = e.call(t, "POST", authz.PathToken, form, basic(id, secret),
		k.proof(t, "POST", "HTTP://127.0.0.1:8080/oauth2/token?x=1#f", now, nil))
	if status != 200 {
		t.Fatalf("normalised htu: %d %v", status, out)
	}
}

// hmacProof is a proof signed with a symmetric key (RFC 9449 §4.3: MUST
// be refused).
func hmacProof(t *testing.T, htu string, iat time.Time) string {
	key := []byte("0123456789abcdef0123456789abcdef")
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: key}, (&jose.SignerOptions{}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]any{"jti": "x1", "htm": "POST", "htu": htu, "iat": iat.Unix()})
	jws, _ := s.Sign(payload)
	out, _ := jws.CompactSerialize()
	return out
}

func tamper(jwt string) string {
	i := strings.LastIndexByte(jwt, '.')
	sig := []byte(jwt[i+1:])
	if sig[5] == 'A' {
		sig[5] = 'B'
	} else {
		sig[5] = 'A'
	}
	return jwt[:i+1] + string(sig)
}

// TestDPoPRequiredClient: a client registered with DPoPRequired gets no
// token without a proof.
func TestDPoPRequiredClient(t *testing.T) {
	e := newDPoPEnv(t, false)
	id, secret := e.client(t, clients.Params{Name: "svc", GrantTypes: []string{clients.GrantClientCredentials}, DPoPRequired: true})
	form := url.Values{"grant_type": {"client_credentials"}}
	status, _, out := e.call(t, "POST", authz.PathToken, form, basic(id, secret))
	wantError(t, "no proof", status, out, 400, "invalid_request")
	status, _, out = e.call(t, "POST", authz.PathToken, form, basic(id, secret), newDPoPKey(t).proof(t, "POST", dpopIssuer+authz.PathToken, e.clock.Now(), nil))
	if status != 200 || out["token_type"] != "DPoP" {
		t.Fatalf("with a proof: %d %v", status, out)
	}
}

// TestDPoPNonce: with server nonces, a proof without one is answered 400
// use_dpop_nonce with a DPoP-Nonce header (RFC 9449 §8); the nonce works
// until two periods have passed, and on another instance (stateless).
func TestDPoPNonce(t *testing.T) {
	e := newDPoPEnv(t, true)
	id, secret := e.client(t, clients.Params{Name: "svc", GrantTypes: []string{clients.GrantClientCredentials}})
	k := newDPoPKey(t)
	htu := dpopIssuer + authz.PathToken
	form := url.Values{"grant_type": {"client_credentials"}}
	status, hdr, out := e.call(t, "POST", authz.PathToken, form, basic(id, secret), k.proof(t, "POST", htu, e.clock.Now(), nil))
	wantError(t, "no nonce", status, out, 400, "use_dpop_nonce")
	nonce := hdr.Get("DPoP-Nonce")
	if nonce == "" {
		t.Fatal("no DPoP-Nonce header with use_dpop_nonce")
	}
	withNonce := func(n string) func(map[string]any) { return func(c map[string]any) { c["nonce"] = n } }
	status, hdr, out = e.call(t, "POST", authz.PathToken, form, basic(id, secret), k.proof(t, "POST", htu, e.clock.Now(), withNonce(nonce)))
	if status != 200 || out["token_type"] != "DPoP" || hdr.Get("DPoP-Nonce") == "" {
		t.Fatalf("with the nonce: %d %v (DPoP-Nonce %q)", status, out, hdr.Get("DPoP-Nonce"))
	}
	status, _, out = e.call(t, "POST", authz.PathToken, form, basic(id, secret), k.proof(t, "POST", htu, e.clock.Now(), withNonce("made-up")))
	wantError(t, "made-up nonce", status, out, 400, "use_dpop_nonce")
	e.clock.Add(2*authz.DefaultDPoPNoncePeriod + time.Second)
	status, _, out = e.call(t, "POST", authz.PathToken, form, basic(id, secret), k.proof(t, "POST", htu, e.clock.Now(), withNonce(nonce)))
	wantError(t, "expired nonce", status, out, 400, "use_dpop_nonce")
}

// dpopCodeFlow pushes an authorization request for public client id
// (extra parameters and DPoP headers given), signs in, and returns the
// code and the PKCE verifier.
func dpopCodeFlow(t *testing.T, e *parEnv, id string, extra url.Values, proofs ...string) (string, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	form := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {parCB}, "scope": {"openid"},
		"state": {"s1"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	for k, v := range extra {
		form[k] = v
	}
	status, _, out := e.call(t, "POST", authz.PathPAR, form, "", proofs...)
	if status != http.StatusCreated {
		t.Fatalf("push: %d %v", status, out)
	}
	loc := signInAndConsentSkip(t, newBrowser(t, e.srv.URL), authorizeURL(id, out["request_uri"].(string)))
	return loc.Query().Get("code"), verifier
}

// TestDPoPAuthorizationCode: a public client's code bound with dpop_jkt
// (RFC 9449 §10) is redeemed only with that key; its refresh token is
// bound to the key (§5): refused without a proof or with another key
// (invalid_grant), accepted with the key. UserInfo wants the DPoP scheme
// and a proof with ath (§7).
func TestDPoPAuthorizationCode(t *testing.T) {
	e := newDPoPEnv(t, false)
	id, _ := e.client(t, clients.Params{Name: "spa", Public: true, RedirectURIs: []string{parCB}, SkipConsent: true,
		GrantTypes: []string{clients.GrantAuthorizationCode, clients.GrantRefreshToken}, Scopes: []string{"openid"}})
	k, other := newDPoPKey(t), newDPoPKey(t)
	htu := dpopIssuer + authz.PathToken

	// dpop_jkt names k; neither a proof by another key nor no proof can
	// redeem the code (and a failed redemption uses it up, as a wrong
	// PKCE verifier does).
	redeem := func() url.Values {
		code, verifier := dpopCodeFlow(t, e, id, url.Values{"dpop_jkt": {k.jkt}})
		return url.Values{"grant_type": {"authorization_code"}, "client_id": {id}, "code": {code},
			"redirect_uri": {parCB}, "code_verifier": {verifier}}
	}
	status, _, out := e.call(t, "POST", authz.PathToken, redeem(), "", other.proof(t, "POST", htu, e.clock.Now(), nil))
	wantError(t, "code with another key", status, out, 400, "invalid_dpop_proof")
	status, _, out = e.call(t, "POST", authz.PathToken, redeem(), "")
	wantError(t, "code without a proof", status, out, 400, "invalid_dpop_proof")
	status, _, out = e.call(t, "POST", authz.PathToken, redeem(), "", k.proof(t, "POST", htu, e.clock.Now(), nil))
	if status != 200 || out["token_type"] != "DPoP" || out["refresh_token"] == nil {
		t.Fatalf("code with the key: %d %v", status, out)
	}
	at, rt := out["access_token"].(string), out["refresh_token"].(string)
	if cnfJKT(jwtClaims(t, at)) != k.jkt {
		t.Fatalf("access token cnf %v", jwtClaims(t, at)["cnf"])
	}

	// UserInfo (RFC 9449 §7).
	ui := dpopIssuer + authz.PathUserinfo
	status, hdr, out := e.call(t, "GET", authz.PathUserinfo, nil, "Bearer "+at)
	wantError(t, "bound token as Bearer", status, out, 401, "invalid_token")
	if ch := hdr.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="invalid_token"`) || !strings.Contains(ch, "algs=") {
		t.Errorf("challenge %q", ch)
	}
	status, _, out = e.call(t, "GET", authz.PathUserinfo, nil, "DPoP "+at)
	wantError(t, "DPoP without proof", status, out, 401, "invalid_dpop_proof")
	status, _, out = e.call(t, "GET", authz.PathUserinfo, nil, "DPoP "+at, k.proof(t, "GET", ui, e.clock.Now(), nil))
	wantError(t, "proof without ath", status, out, 401, "invalid_dpop_proof")
	status, _, out = e.call(t, "GET", authz.PathUserinfo, nil, "DPoP "+at,
		other.proof(t, "GET", ui, e.clock.Now(), func(c map[string]any) { c["ath"] = ath(at) }))
	wantError(t, "proof by another key", status, out, 401, "invalid_dpop_proof")
	good := k.proof(t, "GET", ui, e.clock.Now(), func(c map[string]any) { c["ath"] = ath(at) })
	status, _, out = e.call(t, "GET", authz.PathUserinfo, nil, "DPoP "+at, good)
	if status != 200 || out["sub"] == nil {
		t.Fatalf("userinfo with DPoP: %d %v", status, out)
	}
	status, _, out = e.call(t, "GET", authz.PathUserinfo, nil, "DPoP "+at, good)
	wantError(t, "userinfo replay", status, out, 401, "invalid_dpop_proof")

	// The refresh token is bound to k.
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "refresh_token": {rt}}
	status, _, out = e.call(t, "POST", authz.PathToken, refresh, "")
	wantError(t, "refresh without a proof", status, out, 400, "invalid_grant")
	status, _, out = e.call(t, "POST", authz.PathToken, refresh, "", other.proof(t, "POST", htu, e.clock.Now(), nil))
	wantError(t, "stolen refresh token with another key", status, out, 400, "invalid_grant")
	status, _, out = e.call(t, "POST", authz.PathToken, refresh, "", k.proof(t, "POST", htu, e.clock.Now(), nil))
	if status != 200 || out["token_type"] != "DPoP" || cnfJKT(jwtClaims(t, out["access_token"].(string))) != k.jkt {
		t.Fatalf("refresh with the key: %d %v", status, out)
	}
}

// TestDPoPPAR: a proof sent to the PAR endpoint binds the code like
// dpop_jkt (RFC 9449 §10.1); a dpop_jkt that disagrees with it, or one
// that is no thumbprint, is refused.
func TestDPoPPAR(t *testing.T) {
	e := newDPoPEnv(t, false)
	id, _ := e.client(t, clients.Params{Name: "spa", Public: true, RedirectURIs: []string{parCB}, SkipConsent: true,
		GrantTypes: []string{clients.GrantAuthorizationCode}, Scopes: []string{"openid"}})
	k, other := newDPoPKey(t), newDPoPKey(t)
	par := dpopIssuer + authz.PathPAR
	code, verifier := dpopCodeFlow(t, e, id, nil, k.proof(t, "POST", par, e.clock.Now(), nil))
	redeem := url.Values{"grant_type": {"authorization_code"}, "client_id": {id}, "code": {code},
		"redirect_uri": {parCB}, "code_verifier": {verifier}}
	status, _, out := e.call(t, "POST", authz.PathToken, redeem, "", other.proof(t, "POST", dpopIssuer+authz.PathToken, e.clock.Now(), nil))
	wantError(t, "code pushed with k, redeemed with another key", status, out, 400, "invalid_dpop_proof")

	form := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {parCB}, "scope": {"openid"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}, "dpop_jkt": {other.jkt}}
	status, _, out = e.call(t, "POST", authz.PathPAR, form, "", k.proof(t, "POST", par, e.clock.Now(), nil))
	wantError(t, "dpop_jkt and proof disagree", status, out, 400, "invalid_dpop_proof")
	form.Set("dpop_jkt", "not-a-thumbprint")
	status, _, out = e.call(t, "POST", authz.PathPAR, form, "")
	wantError(t, "malformed dpop_jkt", status, out, 400, "invalid_request")
	status, _, out = e.call(t, "POST", authz.PathPAR, form, "", k.proof(t, "POST", dpopIssuer+authz.PathToken, e.clock.Now(), nil))
	wantError(t, "PAR proof for the token endpoint", status, out, 400, "invalid_dpop_proof")
}

// TestDPoPConfidentialRefreshRebinds: a confidential client's refresh
// token is bound to its credentials, not a key (RFC 9449 §5): a refresh
// binds the new access token to the new proof's key.
func TestDPoPConfidentialRefreshRebinds(t *testing.T) {
	e := newDPoPEnv(t, false)
	id, secret := e.client(t, clients.Params{Name: "web", RedirectURIs: []string{parCB}, SkipConsent: true,
		GrantTypes: []string{clients.GrantAuthorizationCode, clients.GrantRefreshToken}, Scopes: []string{"openid"}})
	k, other := newDPoPKey(t), newDPoPKey(t)
	htu := dpopIssuer + authz.PathToken
	verifier := oauth2.GenerateVerifier()
	uri, _ := e.pushed(t, id, secret, url.Values{"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}})
	loc := signInAndConsentSkip(t, newBrowser(t, e.srv.URL), authorizeURL(id, uri))
	status, _, out := e.call(t, "POST", authz.PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {parCB}, "code_verifier": {verifier}}, basic(id, secret), k.proof(t, "POST", htu, e.clock.Now(), nil))
	if status != 200 || out["token_type"] != "DPoP" {
		t.Fatalf("code: %d %v", status, out)
	}
	status, _, out = e.call(t, "POST", authz.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {out["refresh_token"].(string)}},
		basic(id, secret), other.proof(t, "POST", htu, e.clock.Now(), nil))
	if status != 200 || cnfJKT(jwtClaims(t, out["access_token"].(string))) != other.jkt {
		t.Fatalf("refresh with a new key: %d %v", status, out)
	}
}

// TestDPoPDiscovery: both metadata documents list the proof algorithms.
func TestDPoPDiscovery(t *testing.T) {
	e := newDPoPEnv(t, false)
	for _, p := range []string{authz.PathOIDCConfig, authz.PathOAuthConfig} {
		_, _, doc := e.call(t, "GET", p, nil, "")
		algs, _ := doc["dpop_signing_alg_values_supported"].([]any)
		if len(algs) != 5 || algs[0] != "ES256" {
			t.Fatalf("%s: dpop_signing_alg_values_supported %v", p, doc["dpop_signing_alg_values_supported"])
		}
	}
}

// TestDPoPBoundTokenIsNoBearerForKeyward: VerifyAccessToken (the admin
// API's check) refuses a DPoP-bound token: it has no proof to check.
func TestDPoPBoundTokenIsNoBearerForKeyward(t *testing.T) {
	e := newDPoPEnv(t, false)
	id, secret := e.client(t, clients.Params{Name: "admin", GrantTypes: []string{clients.GrantClientCredentials}, Scopes: []string{"keyward:admin"}})
	form := url.Values{"grant_type": {"client_credentials"}}
	_, _, bound := e.call(t, "POST", authz.PathToken, form, basic(id, secret), newDPoPKey(t).proof(t, "POST", dpopIssuer+authz.PathToken, e.clock.Now(), nil))
	_, _, plain := e.call(t, "POST", authz.PathToken, form, basic(id, secret))
	ctx := context.Background()
	if _, err := e.st.Provider.VerifyAccessToken(ctx, bound["access_token"].(string)); !errors.Is(err, authz.ErrInvalidToken) {
		t.Fatalf("DPoP-bound token: %v, want ErrInvalidToken", err)
	}
	if _, err := e.st.Provider.VerifyAccessToken(ctx, plain["access_token"].(string)); err != nil {
		t.Fatalf("bearer token: %v", err)
	}
}

// TestDPoPRefreshGrace: inside the refresh grace window the rotation's
// answer is shared only with a request by the same DPoP key; a thief's
// key gets nothing.
func TestDPoPRefreshGrace(t *testing.T) {
	e := newDPoPEnvWith(t, authztest.Options{RefreshGrace: 30 * time.Second})
	id, _ := e.client(t, clients.Params{Name: "spa", Public: true, RedirectURIs: []string{parCB}, SkipConsent: true,
		GrantTypes: []string{clients.GrantAuthorizationCode, clients.GrantRefreshToken}, Scopes: []string{"openid"}})
	k, thief := newDPoPKey(t), newDPoPKey(t)
	htu := dpopIssuer + authz.PathToken
	code, verifier := dpopCodeFlow(t, e, id, url.Values{"dpop_jkt": {k.jkt}})
	status, _, out := e.call(t, "POST", authz.PathToken, url.Values{"grant_type": {"authorization_code"}, "client_id": {id},
		"code": {code}, "redirect_uri": {parCB}, "code_verifier": {verifier}}, "", k.proof(t, "POST", htu, e.clock.Now(), nil))
	if status != 200 {
		t.Fatalf("code: %d %v", status, out)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "refresh_token": {out["refresh_token"].(string)}}
	status, _, first := e.call(t, "POST", authz.PathToken, refresh, "", k.proof(t, "POST", htu, e.clock.Now(), nil))
	if status != 200 {
		t.Fatalf("refresh: %d %v", status, first)
	}
	status, _, out = e.call(t, "POST", authz.PathToken, refresh, "", thief.proof(t, "POST", htu, e.clock.Now(), nil))
	if status == 200 {
		t.Fatalf("a thief's key got the grace answer: %v", out)
	}
	wantError(t, "thief inside the grace window", status, out, 400, "invalid_grant")
	status, _, again := e.call(t, "POST", authz.PathToken, refresh, "", k.proof(t, "POST", htu, e.clock.Now(), nil))
	if status != 200 || again["refresh_token"] != first["refresh_token"] {
		t.Fatalf("same key inside the grace window: %d %v, want the same pair", status, again)
	}
}

// BenchmarkClientCredentialsDPoP is BenchmarkClientCredentialsJWT with a
// DPoP proof (signed before the timer starts): the proof's ES256
// verification, its thumbprint and the replay insert into SQLite are
// the difference.
func BenchmarkClientCredentialsDPoP(b *testing.B) {
	e := newBenchEnv(b)
	id, secret := e.client(b, clients.Params{Name: "bench", Scopes: []string{"read"}})
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}
	k := newDPoPKey(b)
	proofs := make([]string, b.N)
	for i := range proofs {
		proofs[i] = k.proof(b, "POST", "http://127.0.0.1:8080/oauth2/token", time.Now(), nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("DPoP", proofs[i])
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("token: %d %s", w.Code, w.Body)
		}
	}
}
