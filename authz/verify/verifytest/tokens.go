package verifytest

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Claims describe a token for Issuer.Token. Zero values mean the defaults.
type Claims struct {
	// ClientID is client_id (default "test-client").
	ClientID string
	// Subject is sub (default ClientID).
	Subject string
	// Scopes are joined with spaces into scope.
	Scopes []string
	// Audience is aud (default Options.Audience, else ClientID).
	Audience []string
	// ExpiresIn is exp minus iat (default 1 h); a negative value makes an
	// already expired token.
	ExpiresIn time.Duration
	// IssuedAt is iat (default now); NotBefore is nbf (default IssuedAt).
	IssuedAt  time.Time
	NotBefore time.Time
	// JTI is jti (default random).
	JTI string
	// Issuer is iss (default the issuer's URL): set it for a token from
	// another issuer.
	Issuer string
	// Type is the header's typ (default "at+jwt").
	Type string
	// DPoP binds the token to a client's DPoP key (RFC 9449 §6.1: cnf.jkt
	// is its thumbprint), as Keyward does for a token request with a
	// proof; nil makes a bearer token.
	DPoP *DPoPKey
	// Extra claims are added last, so they may replace any of the above.
	Extra map[string]any
	// Opaque makes an opaque token ("kw_at_…") instead of a JWT: only
	// introspection knows it, as with Keyward's --access-token-format opaque.
	Opaque bool
}

// Token mints an access token signed by the current key. It panics when
// Extra holds a value encoding/json cannot encode.
func (i *Issuer) Token(c Claims) string {
	if c.ClientID == "" {
		c.ClientID = "test-client"
	}
	if c.Subject == "" {
		c.Subject = c.ClientID
	}
	if c.Audience == nil {
		c.Audience = []string{c.ClientID}
		if i.opts.Audience != "" {
			c.Audience = []string{i.opts.Audience}
		}
	}
	if c.ExpiresIn == 0 {
		c.ExpiresIn = time.Hour
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = i.opts.Now()
	}
	if c.NotBefore.IsZero() {
		c.NotBefore = c.IssuedAt
	}
	if c.JTI == "" {
		c.JTI = randomString(22)
	}
	if c.Issuer == "" {
		c.Issuer = i.URL
	}
	if c.Type == "" {
		c.Type = "at+jwt"
	}
	claims := map[string]any{
		"iss": c.Issuer, "sub": c.Subject, "aud": c.Audience, "client_id": c.ClientID,
		"scope": strings.Join(c.Scopes, " "), "jti": c.JTI, "iat": c.IssuedAt.Unix(),
		"nbf": c.NotBefore.Unix(), "exp": c.IssuedAt.Add(c.ExpiresIn).Unix(),
	}
	if c.DPoP != nil {
		claims["cnf"] = map[string]any{"jkt": c.DPoP.Thumbprint()}
	}
	maps.Copy(claims, c.Extra)
	if c.Opaque {
		token := "kw_at_" + randomString(43)
		i.mu.Lock()
		i.opaque[token] = claims
		i.mu.Unlock()
		return token
	}
	return i.Sign(claims, map[string]any{"typ": c.Type})
}

// Sign signs any claims with the current key: a token the issuer's keys
// did sign but that it never issued, for tests of odd claims. The header
// has alg, kid and typ "at+jwt" unless header replaces them; a nil value
// removes a member. It panics when claims or header cannot be encoded.
func (i *Issuer) Sign(claims, header map[string]any) string {
	i.mu.Lock()
	k := i.keys[len(i.keys)-1]
	i.mu.Unlock()
	h := map[string]any{"typ": "at+jwt", "kid": k.kid}
	maps.Copy(h, header)
	opts := &jose.SignerOptions{}
	for name, v := range h {
		if v != nil {
			opts.WithHeader(jose.HeaderKey(name), v)
		}
	}
	s, err := sign(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(i.opts.Algorithm), Key: k.priv}, opts, claims)
	if err != nil {
		panic("verifytest: Sign: " + err.Error())
	}
	return s
}

func sign(key jose.SigningKey, opts *jose.SignerOptions, claims map[string]any) (string, error) {
	signer, err := jose.NewSigner(key, opts)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// Revoke revokes an access token (JWT or opaque) or an API key:
// introspection then answers {"active": false}, and the API-key endpoint
// REVOKED. Local JWT verification cannot see it (that is what
// introspection is for). It panics for a string that is none of this
// issuer's tokens or keys.
func (i *Issuer) Revoke(token string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if k := i.apiKeyLocked(token); k != nil {
		k.revoked = true
		return
	}
	if _, ok := i.opaque[token]; ok {
		i.revoked[token] = true
		return
	}
	parts := strings.Split(token, ".")
	var claims struct {
		JTI string `json:"jti"`
	}
	if len(parts) == 3 {
		if payload, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil && json.Unmarshal(payload, &claims) == nil && claims.JTI != "" {
			i.revoked[claims.JTI] = true
			return
		}
	}
	panic("verifytest: Revoke: not a token or API key of this issuer")
}

// introspect is the introspection endpoint (RFC 7662), answering like
// Keyward: for a JWT its registered claims, for an opaque token the same,
// for an API key its scope, sub, exp and key_id; {"active": false} and
// nothing else for anything revoked, expired, unknown or forged.
func (i *Issuer) introspect(w http.ResponseWriter, r *http.Request) {
	i.introspections.Add(1)
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request body could not be read.")
		return
	}
	if !i.authenticate(w, r, r.PostForm) {
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The token parameter is missing.")
		return
	}
	answer := i.introspection(token)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, answer)
}

var inactive = map[string]any{"active": false}

func (i *Issuer) introspection(token string) map[string]any {
	now := i.opts.Now()
	if looksLikeKey(token) {
		return i.introspectKey(token, now)
	}
	i.mu.Lock()
	claims, opaque := i.opaque[token]
	revokedOpaque := i.revoked[token]
	i.mu.Unlock()
	if !opaque {
		var ok bool
		if claims, ok = i.verifyJWT(token); !ok {
			return inactive
		}
	}
	jti, _ := claims["jti"].(string)
	i.mu.Lock()
	revoked := revokedOpaque || i.revoked[jti]
	i.mu.Unlock()
	exp, _ := number(claims["exp"])
	iat, _ := number(claims["iat"])
	if revoked || !now.Before(time.Unix(exp, 0)) || time.Unix(iat, 0).After(now.Add(time.Minute)) || claims["iss"] != i.URL {
		return inactive
	}
	out := map[string]any{"active": true, "token_type": "Bearer", "token_use": "access_token"}
	for _, name := range []string{"scope", "client_id", "sub", "exp", "iat", "nbf", "iss", "jti"} {
		out[name] = claims[name]
	}
	if aud, ok := claims["aud"]; ok && aud != nil {
		out["aud"] = aud
	}
	if cnf, ok := claims["cnf"].(map[string]any); ok && cnf["jkt"] != nil {
		// RFC 9449 §6.2, as Keyward answers.
		out["token_type"], out["cnf"] = "DPoP", map[string]any{"jkt": cnf["jkt"]}
	}
	return out
}

// verifyJWT checks a JWT's signature against the published keys and its typ.
func (i *Issuer) verifyJWT(token string) (map[string]any, bool) {
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(i.opts.Algorithm)})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, false
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return nil, false
	}
	i.mu.Lock()
	var key *signingKey
	for _, k := range i.keys {
		if k.kid == h.KeyID {
			key = k
		}
	}
	i.mu.Unlock()
	if key == nil {
		return nil, false
	}
	payload, err := jws.Verify(key.priv.Public())
	if err != nil {
		return nil, false
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil {
		return nil, false
	}
	return claims, true
}

// number reads a JSON number (float64 from encoding/json, or an int64 of
// a claim set built in process).
func number(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		return int64(n), true
	case int64:
		return n, true
	case int:
		return int64(n), true
	}
	return 0, false
}
