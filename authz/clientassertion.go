package authz

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
)

// clientAssertionType is the client_assertion_type of a JWT client
// assertion (RFC 7523 §2.2).
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Limits on a client assertion. Its exp may lie at most
// maxAssertionLifetime ahead (a short-lived credential, and the time its
// jti is remembered); assertionLeeway absorbs clock skew.
const (
	maxAssertionLifetime = 5 * time.Minute
	assertionLeeway      = 30 * time.Second
	maxJTILength         = 256
)

// signingAlgs are clients.SigningAlgs as go-jose algorithms: what a client
// assertion or request object may be signed with (never none or HMAC).
var signingAlgs = func() []jose.SignatureAlgorithm {
	out := make([]jose.SignatureAlgorithm, len(clients.SigningAlgs))
	for i, a := range clients.SigningAlgs {
		out[i] = jose.SignatureAlgorithm(a)
	}
	return out
}()

// assertions authenticates private_key_jwt clients (RFC 7523 §2.2 and
// §3, OIDC Core §9) as fosite's ClientAuthenticationStrategy, and leaves
// every other request to fosite's own strategy (client secrets, public
// clients), refusing a secret from a private_key_jwt client.
//
// fosite's own JWT assertion support is not used: it demands "use": "sig"
// on every key, knows no EdDSA, bounds neither exp nor the audience to
// the issuer, records the jti before checking the audience, and speaks
// go-jose v3.
//
// The audience must be the issuer identifier (a string, or an array
// holding it). RFC 7523 §3 only asks for a value that identifies the
// authorization server and lets the token endpoint URL be one; Keyward
// takes the issuer alone, for every endpoint that authenticates clients,
// as draft-ietf-oauth-rfc7523bis and the OpenID Foundation's 2025
// audience-injection advisory recommend: an assertion made for another
// server's token endpoint that happens to name ours cannot be replayed
// here.
type assertions struct {
	issuer string
	store  *fositeStore
	keys   *clientKeys
	jtis   store.AssertionStore
	now    func() time.Time
}

// strategy returns the client authentication of f: assertions here,
// client secrets and public clients by fosite's own strategy. A request's successful secret authentication is
// remembered in its authMemo for the exact credentials it presented, so
// that the token endpoint's several looks (rate-limit bucket, refresh
// grace window, fosite's token flow) check the secret once.
func (a *assertions) strategy(f *fosite.Fosite) fosite.ClientAuthenticationStrategy {
	return func(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
		if form.Has("client_assertion") || form.Has("client_assertion_type") {
			return a.authenticate(ctx, r, form)
		}
		memo, _ := ctx.Value(authMemoKey{}).(*authMemo)
		sent := presentedSecret{header: r.Header.Get("Authorization"), id: form.Get("client_id"), secret: form.Get("client_secret")}
		if memo != nil && memo.secretClient != nil && memo.secretSent == sent {
			return memo.secretClient, nil
		}
		client, err, done := secretAuthentication(ctx, f, a.store, r, form)
		if !done {
			client, err = f.DefaultClientAuthenticationStrategy(ctx, r, form)
		}
		if err == nil && isPrivateKeyJWT(client) {
			// Unreachable while such a client has no secret digest; kept
			// so that a secret can never stand in for its key.
			return nil, fosite.ErrInvalidClient.WithHint("This client authenticates with private_key_jwt (RFC 7523): send client_assertion_type and client_assertion.")
		}
		if err != nil && !storeFailure(err) && isPrivateKeyJWT(claimedFositeClient(ctx, a.store, r, form)) {
			return nil, fosite.ErrInvalidClient.WithHint("This client authenticates with private_key_jwt (RFC 7523), not with a secret: send client_assertion_type and client_assertion.").WithWrap(err)
		}
		if err == nil && memo != nil {
			memo.secretSent, memo.secretClient = sent, client
		}
		return client, err
	}
}

// secretAuthentication is fosite's DefaultClientAuthenticationStrategy
// for a confidential client's secret, without the work fosite repeats:
// the Authorization header is decoded once (rawBasic, from the request's
// authMemo when it has one) where fosite decodes it with
// http.Request.BasicAuth twice. It takes the credentials as fosite does
// (HTTP Basic, each part form-decoded, else client_id and client_secret
// from the body), reads the client through the same store and compares
// the secret with the same hasher, and answers as fosite would when the
// secret matches or does not. Anything else (no credentials, an
// undecodable part, an unknown or disabled client or a store failure, a
// public client, a client fosite would hold to an OpenID Connect auth
// method or give rotated secrets) is left to fosite: done is false.
// TestSecretAuthenticationAgrees holds the two together.
func secretAuthentication(ctx context.Context, f *fosite.Fosite, s *fositeStore, r *http.Request, form url.Values) (_ fosite.Client, _ error, done bool) {
	id, secret, basic := rawBasic(r)
	if basic {
		var err error
		if id, err = url.QueryUnescape(id); err != nil {
			return nil, nil, false
		}
		if secret, err = url.QueryUnescape(secret); err != nil {
			return nil, nil, false
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id == "" {
		return nil, nil, false
	}
	client, err := s.GetClient(ctx, id)
	if err != nil || client.IsPublic() {
		return nil, nil, false
	}
	switch client.(type) {
	case fosite.OpenIDConnectClient, fosite.ClientWithSecretRotation:
		return nil, nil, false
	}
	if err := f.Config.GetSecretsHasher(ctx).Compare(ctx, client.GetHashedSecret(), []byte(secret)); err != nil {
		return nil, fosite.ErrInvalidClient.WithWrap(err).WithDebug(err.Error()), true
	}
	return client, nil, true
}

// claimedFositeClient is the client a secret-authenticated request names,
// or nil.
func claimedFositeClient(ctx context.Context, s *fositeStore, r *http.Request, form url.Values) fosite.Client {
	id := form.Get("client_id")
	if bid, _, ok := basicCredentials(r); ok {
		id = bid
	}
	if id == "" {
		return nil
	}
	c, err := s.GetClient(ctx, id)
	if err != nil {
		return nil
	}
	return c
}

func isPrivateKeyJWT(c fosite.Client) bool {
	fc, ok := c.(*fositeClient)
	return ok && clients.AuthMethodOf(fc.c) == clients.AuthPrivateKeyJWT
}

type authMemoKey struct{}

// authMemo remembers, for one HTTP request, what authenticating its
// client found. fosite may authenticate a request twice (the refresh
// grace window authenticates before fosite does, the rate limit picks a
// bucket by the credentials): the second look at the same assertion must
// not be taken for a replay of its jti, and the same secret is checked
// once. Only successes are remembered, each with exactly what was
// presented: a request is never authenticated by a memo of other
// credentials, and a failure is always checked again.
type authMemo struct {
	assertion       string
	assertionClient fosite.Client
	// secretSent is what a successful secret authentication of
	// fosite's strategy accepted (assertions.strategy).
	secretSent   presentedSecret
	secretClient fosite.Client
	// basic is the request's HTTP Basic credentials as sent, decoded once
	// (rawBasic) when basicRead.
	basic     basicAuth
	basicRead bool
}

// presentedSecret is everything fosite's secret authentication reads of a request: the
// Authorization header and the body's client_id and client_secret.
type presentedSecret struct {
	header, id, secret string
}

// basicAuth is what http.Request.BasicAuth returns.
type basicAuth struct {
	id, secret string
	ok         bool
}

// withAuthMemo returns r with a memo for its client authentication.
func withAuthMemo(r *http.Request) *http.Request {
	if _, ok := r.Context().Value(authMemoKey{}).(*authMemo); ok {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), authMemoKey{}, &authMemo{}))
}

// assertionClaims are the claims RFC 7523 §3 sets on a client assertion.
type assertionClaims struct {
	josejwt.Claims
	// ResponseType marks a request object (RFC 9101), which must not pass
	// for a client assertion.
	ResponseType any `json:"response_type,omitempty"`
}

// authenticate checks a client assertion (RFC 7523 §3): a JWS signed with
// one of SigningAlgs by a key the client registered, iss and sub its
// client_id (and client_id, when sent, the same), aud the issuer, exp
// present and at most maxAssertionLifetime ahead, nbf and iat not in the
// future, a jti never seen before from that client (recorded until exp,
// on every instance, once every other check passed). Every failure is
// invalid_client with a hint; a store failure stays one (503).
func (a *assertions) authenticate(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	bad := func(hint string) *fosite.RFC6749Error { return fosite.ErrInvalidClient.WithHint(hint) }
	if form.Get("client_assertion_type") != clientAssertionType {
		return nil, bad("client_assertion_type must be " + clientAssertionType + " (RFC 7523 §2.2).")
	}
	assertion := form.Get("client_assertion")
	if assertion == "" {
		return nil, bad("client_assertion is missing.")
	}
	if _, _, ok := rawBasic(r); ok || form.Has("client_secret") {
		return nil, bad("Use one client authentication method: a client_assertion, not also a secret (RFC 6749 §2.3).")
	}
	memo, _ := ctx.Value(authMemoKey{}).(*authMemo)
	if memo != nil && memo.assertionClient != nil && memo.assertion == assertion {
		return memo.assertionClient, nil
	}
	tok, err := josejwt.ParseSigned(assertion, signingAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return nil, bad("client_assertion must be a compact JWS signed with one of " + algList() + " (RFC 7523 §3).")
	}
	if typ, _ := tok.Headers[0].ExtraHeaders["typ"].(string); strings.EqualFold(typ, requestObjectType) {
		return nil, bad("A request object is not a client assertion.")
	}
	var unverified assertionClaims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil || unverified.Subject == "" {
		return nil, bad("client_assertion has no sub claim (RFC 7523 §3).")
	}
	clientID := unverified.Subject
	if id := form.Get("client_id"); id != "" && id != clientID {
		return nil, bad("client_id does not match the sub of the client_assertion.")
	}
	client, err := a.store.GetClient(ctx, clientID)
	if err != nil {
		if storeFailure(err) {
			return nil, err
		}
		return nil, bad("The client is unknown or disabled.").WithWrap(err)
	}
	fc := client.(*fositeClient)
	if m := clients.AuthMethodOf(fc.c); m != clients.AuthPrivateKeyJWT {
		return nil, bad("This client authenticates with " + m + ", not with a client_assertion.")
	}
	if isFAPI2(fc) && !fapiAlg(tok.Headers[0].Algorithm) {
		return nil, bad("This client is held to FAPI 2.0: sign client assertions with ES256 or PS256 (FAPI 2.0 §5.4.1).")
	}
	claims, err := a.verify(ctx, fc.c, tok)
	if err != nil {
		return nil, err
	}
	now := a.now()
	switch {
	case claims.Issuer != clientID || claims.Subject != clientID:
		return nil, bad("The iss and sub of the client_assertion must both be the client_id (RFC 7523 §3).")
	case !slices.Contains(claims.Audience, a.issuer):
		return nil, bad("The aud of the client_assertion must be the issuer identifier " + a.issuer + ".")
	case isFAPI2(fc) && len(claims.Audience) != 1:
		return nil, bad("This client is held to FAPI 2.0: the aud of the client_assertion must be the issuer identifier alone (FAPI 2.0 §5.3.2.1).")
	case claims.Expiry == nil:
		return nil, bad("The client_assertion has no exp (RFC 7523 §3).")
	case !now.Before(claims.Expiry.Time().Add(assertionLeeway)):
		return nil, bad("The client_assertion has expired.")
	case claims.Expiry.Time().After(now.Add(maxAssertionLifetime + assertionLeeway)):
		return nil, bad("The client_assertion's exp is more than 5 minutes ahead; make short-lived assertions.")
	case claims.NotBefore != nil && claims.NotBefore.Time().After(now.Add(assertionLeeway)):
		return nil, bad("The client_assertion is not valid yet (nbf).")
	case claims.IssuedAt != nil && claims.IssuedAt.Time().After(now.Add(assertionLeeway)):
		return nil, bad("The client_assertion was issued in the future (iat).")
	case claims.ResponseType != nil:
		return nil, bad("A request object is not a client assertion.")
	case claims.ID == "" || len(claims.ID) > maxJTILength:
		return nil, bad("The client_assertion needs a jti of at most 256 characters (RFC 7523 §3).")
	}
	fresh, err := a.jtis.UseAssertionJTI(ctx, clientID, claims.ID, store.Truncate(claims.Expiry.Time().Add(assertionLeeway)), now)
	if err != nil {
		return nil, fositeErr(err)
	}
	if !fresh {
		return nil, bad("The client_assertion's jti was used before; make a new assertion for each request (RFC 7523 §3).")
	}
	if memo != nil {
		memo.assertion, memo.assertionClient = assertion, client
	}
	return client, nil
}

// verify checks the signature of tok with the client's keys for its alg
// and kid, and returns its claims: invalid_client when no key verifies it.
func (a *assertions) verify(ctx context.Context, c *store.Client, tok *josejwt.JSONWebToken) (*assertionClaims, error) {
	h := tok.Headers[0]
	keys, err := a.keys.candidates(ctx, c, h.Algorithm, h.KeyID)
	if err != nil {
		var nk *errNoKeys
		if errors.As(err, &nk) {
			return nil, fosite.ErrInvalidClient.WithHint(nk.reason)
		}
		return nil, err
	}
	for _, k := range keys {
		var claims assertionClaims
		if err := tok.Claims(k.Key, &claims); err == nil {
			return &claims, nil
		}
	}
	return nil, fosite.ErrInvalidClient.WithHint("The client_assertion's signature does not verify with the client's registered keys.")
}

func algList() string { return strings.Join(clients.SigningAlgs, ", ") }

// assertionSubject is the sub of a client assertion, unverified: the
// client a request names before it is authenticated (claimedClient).
func assertionSubject(assertion string) string {
	if assertion == "" || len(assertion) > 16<<10 {
		return ""
	}
	tok, err := josejwt.ParseSigned(assertion, signingAlgs)
	if err != nil {
		return ""
	}
	var c josejwt.Claims
	if tok.UnsafeClaimsWithoutVerification(&c) != nil || len(c.Subject) > 256 {
		return ""
	}
	return c.Subject
}
