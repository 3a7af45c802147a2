package authz_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
)

// verifyLogoutToken checks tok's signature with go-jose v4 against the
// published keys (the JWKS) and returns its header typ and claims.
func verifyLogoutToken(t *testing.T, st *authztest.Stack, tok, alg string) (string, map[string]any) {
	t.Helper()
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	h := jws.Signatures[0].Header
	set := st.Signing.Public()
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q: %d keys in the JWKS", h.KeyID, len(keys))
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("verify against the JWKS: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	return typ, claims
}

// TestLogoutToken checks a logout token's contents (OpenID Connect
// Back-Channel Logout 1.0 §2.4): typ logout+jwt, iss, aud, iat, a short
// exp, the delivery's jti, sub and/or sid, the back-channel logout event,
// and no nonce; signed with the client's ID-token algorithm by a key of
// the JWKS.
func TestLogoutToken(t *testing.T) {
	now := time.Now()
	st := authztest.New(t, authztest.Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	mk := func(alg, uri string) string {
		c, _, err := st.Clients.Create(ctx, clients.Params{Name: "rp", RedirectURIs: []string{"https://rp.example/cb"},
			IDTokenAlg: alg, BackchannelLogoutURI: uri})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	rs, es, none := mk("", "https://rp.example/bc?x=1"), mk("ES256", "http://127.0.0.1:9/bc"), mk("", "")
	for _, tc := range []struct {
		name, client, alg, uri string
		d                      store.LogoutDelivery
	}{
		{"sub and sid", rs, "RS256", "https://rp.example/bc?x=1", store.LogoutDelivery{Subject: "user-1", SID: "sid-1"}},
		{"sub only", es, "ES256", "http://127.0.0.1:9/bc", store.LogoutDelivery{Subject: "user-1"}},
		{"sid only", rs, "RS256", "https://rp.example/bc?x=1", store.LogoutDelivery{SID: "sid-2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.d
			d.ClientID, d.JTI, d.ID = tc.client, "jti-"+tc.name, 7
			uri, tok, err := st.Provider.LogoutToken(ctx, &d)
			if err != nil {
				t.Fatal(err)
			}
			if uri != tc.uri {
				t.Errorf("uri = %q, want %q", uri, tc.uri)
			}
			typ, c := verifyLogoutToken(t, st, tok, tc.alg)
			if typ != "logout+jwt" {
				t.Errorf("typ = %q, want logout+jwt", typ)
			}
			iat, _ := c["iat"].(float64)
			exp, _ := c["exp"].(float64)
			if c["iss"] != "https://issuer.example" || c["aud"] != tc.client || int64(iat) != now.Unix() ||
				exp-iat != authz.LogoutTokenTTL.Seconds() || c["jti"] != d.JTI {
				t.Errorf("claims: %v", c)
			}
			if _, ok := c["nonce"]; ok {
				t.Errorf("a logout token must not carry a nonce (§2.4): %v", c)
			}
			for k, want := range map[string]string{"sub": d.Subject, "sid": d.SID} {
				got, present := c[k]
				if (want == "") == present || (present && got != want) {
					t.Errorf("%s = %v (present %v), want %q", k, got, present, want)
				}
			}
			ev, _ := c["events"].(map[string]any)
			if m, ok := ev[authz.BackchannelLogoutEvent].(map[string]any); len(ev) != 1 || !ok || len(m) != 0 {
				t.Errorf("events = %v", c["events"])
			}
		})
	}
	if _, _, err := st.Provider.LogoutToken(ctx, &store.LogoutDelivery{ClientID: none, Subject: "u", JTI: "j"}); !errors.Is(err, authz.ErrNoBackchannelURI) {
		t.Errorf("client without a backchannel_logout_uri: %v, want ErrNoBackchannelURI", err)
	}
	if _, _, err := st.Provider.LogoutToken(ctx, &store.LogoutDelivery{ClientID: "gone", Subject: "u", JTI: "j"}); !errors.Is(err, authz.ErrNoBackchannelURI) {
		t.Errorf("deleted client: %v, want ErrNoBackchannelURI", err)
	}
}

// TestSessionSID: stable per session, different between sessions, and
// not the stored session id.
func TestSessionSID(t *testing.T) {
	a, b := authz.SessionSID("session-a"), authz.SessionSID("session-b")
	if a != authz.SessionSID("session-a") || a == b || a == "session-a" || len(a) < 20 {
		t.Fatalf("SessionSID: %q %q", a, b)
	}
}
