package authz

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite/sqlitetest"
)

// fositeAnswer is how introspection answered for an opaque token before
// it read the record itself: through fosite's introspection of the token
// (its core validator, this package's strategy and store), then the
// client's state. It is the reference opaqueAnswer must agree with.
func fositeAnswer(ctx context.Context, p *Provider, token string) ([]byte, error) {
	v := &oauth2.CoreValidator{CoreStrategy: p.strategy, CoreStorage: p.store, Config: p.fcfg}
	use := fosite.AccessToken
	if strings.HasPrefix(token, prefixRefresh) {
		use = fosite.RefreshToken
	}
	ar := fosite.NewAccessRequest(NewSession(""))
	tu, err := v.IntrospectToken(ctx, token, use, ar, nil)
	if err != nil {
		if storeFailure(err) {
			return nil, err
		}
		return inactive, nil
	}
	if err := p.tokens.clientActive(ctx, ar.GetClient().GetID()); err != nil {
		return inactiveOr(err)
	}
	exp := ar.GetSession().GetExpiresAt(fosite.TokenType(tu))
	out := opaqueAnswer{Aud: ar.GetGrantedAudience(), ClientID: ar.GetClient().GetID(),
		Iat: ar.GetRequestedAt().Unix(), Iss: p.cfg.Issuer, Scope: strings.Join(ar.GetGrantedScopes(), " "),
		Sub: ar.GetSession().GetSubject(), TokenType: "refresh_token", TokenUse: string(tu)}
	if tu == fosite.AccessToken {
		out.TokenType = "Bearer"
		if sess, ok := ar.GetSession().(*Session); ok && sess.DPoPJKT != "" {
			out.TokenType, out.JKT = "DPoP", sess.DPoPJKT
		}
	}
	if !exp.IsZero() {
		out.Exp = exp.Unix()
	}
	return out.appendJSON(nil), nil
}

// TestOpaqueAsFosite: introspecting an opaque access or refresh token from
// its record gives, token by token, the answer fosite's introspection
// gave: active tokens (with and without audiences, DPoP binding, an
// expiry), deactivated (a rotated refresh token), expired, forged,
// unknown and malformed tokens, tokens of a disabled or deleted client, a
// record that cannot be decoded, and a store that is gone.
func TestOpaqueAsFosite(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.Open(t)
	raw := make([]byte, 32)
	rand.Read(raw)
	secret, quiet := keys.Secret(hex.EncodeToString(raw)), slog.New(slog.DiscardHandler)
	signer, err := signing.New(db, secret, db, signing.Config{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := signer.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := New(ctx, Config{Issuer: "https://issuer.example", Store: db, Events: db, Signer: signer,
		Secret: secret, Logger: quiet, AccessTokenTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	for _, id := range []string{"app", "off", "gone"} {
		if err := db.CreateClient(ctx, &store.Client{ID: id, Name: id, AccessTokenFormat: "opaque",
			GrantTypes: []string{"client_credentials"}}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC().Truncate(time.Second)

	// mintOf stores an opaque access or refresh token of client as the
	// token endpoint does, edit shaping its request first.
	mintOf := func(refresh bool, client string, edit func(r *fosite.AccessRequest, s *Session)) (string, *store.TokenRecord) {
		t.Helper()
		c, err := p.store.GetClient(ctx, client)
		if err != nil {
			t.Fatal(err)
		}
		sess := NewSession(client)
		sess.SetExpiresAt(fosite.AccessToken, now.Add(time.Hour))
		sess.SetExpiresAt(fosite.RefreshToken, now.Add(30*24*time.Hour))
		r := fosite.NewAccessRequest(sess)
		r.Client, r.RequestedAt = c, now
		r.GrantTypes = fosite.Arguments{"client_credentials"}
		r.RequestedScope, r.GrantedScope = fosite.Arguments{"read"}, fosite.Arguments{"read"}
		if edit != nil {
			edit(r, sess)
		}
		kind, generate, create := store.KindAccessToken, p.strategy.GenerateAccessToken, p.store.CreateAccessTokenSession
		if refresh {
			kind, generate = store.KindRefreshToken, p.strategy.GenerateRefreshToken
			create = func(ctx context.Context, sig string, r fosite.Requester) error {
				return p.store.CreateRefreshTokenSession(ctx, sig, "", r)
			}
		}
		tok, sig, err := generate(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if err := create(ctx, sig, r); err != nil {
			t.Fatal(err)
		}
		rec, err := db.GetToken(ctx, kind, sig)
		if err != nil {
			t.Fatal(err)
		}
		return tok, rec
	}
	mint := func(client string, edit func(r *fosite.AccessRequest, s *Session)) (string, *store.TokenRecord) {
		t.Helper()
		return mintOf(false, client, edit)
	}
	mintRefresh := func(client string, edit func(r *fosite.AccessRequest, s *Session)) (string, *store.TokenRecord) {
		t.Helper()
		return mintOf(true, client, edit)
	}

	plain, _ := mint("app", nil)
	rich, _ := mint("app", func(r *fosite.AccessRequest, s *Session) {
		r.GrantedScope = fosite.Arguments{"openid", "read", "write"}
		r.GrantedAudience = fosite.Arguments{"https://api.example", "https://other.example"}
		s.DefaultSession.Subject, s.UserID = "user-1", "user-1"
		s.DPoPJKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
		s.DefaultSession.Claims.Extra["email"] = "carol@example.com"
	})
	noExpiry, _ := mint("app", func(r *fosite.AccessRequest, s *Session) {
		s.DefaultSession.ExpiresAt = nil
	})
	staleNoExpiry, _ := mint("app", func(r *fosite.AccessRequest, s *Session) {
		s.DefaultSession.ExpiresAt = nil
		r.RequestedAt = now.Add(-2 * time.Hour)
	})
	expired, _ := mint("app", func(r *fosite.AccessRequest, s *Session) {
		s.SetExpiresAt(fosite.AccessToken, now.Add(-time.Second))
	})
	deactivated, rec := mint("app", nil)
	if _, err := db.DeactivateToken(ctx, store.KindAccessToken, rec.Signature, now); err != nil {
		t.Fatal(err)
	}
	// The same signature with another key part: the record is found, the
	// HMAC fails.
	key, sig, _ := strings.Cut(strings.TrimPrefix(plain, prefixAccess), ".")
	forged := prefixAccess + strings.Repeat("A", len(key)) + "." + sig
	refresh, _ := mintRefresh("app", func(r *fosite.AccessRequest, s *Session) {
		r.GrantedScope = fosite.Arguments{"openid", "offline_access"}
		r.GrantedAudience = fosite.Arguments{"https://api.example"}
		s.DefaultSession.Subject = "user-1"
		s.DPoPJKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
	})
	refreshForever, _ := mintRefresh("app", func(r *fosite.AccessRequest, s *Session) {
		s.DefaultSession.ExpiresAt = nil
		r.RequestedAt = now.Add(-400 * 24 * time.Hour)
	})
	refreshExpired, _ := mintRefresh("app", func(r *fosite.AccessRequest, s *Session) {
		s.SetExpiresAt(fosite.RefreshToken, now.Add(-time.Second))
	})
	rotated, rec := mintRefresh("app", nil)
	if _, err := db.DeactivateToken(ctx, store.KindRefreshToken, rec.Signature, now); err != nil {
		t.Fatal(err)
	}
	key, sig, _ = strings.Cut(strings.TrimPrefix(refresh, prefixRefresh), ".")
	refreshForged := prefixRefresh + strings.Repeat("A", len(key)) + "." + sig
	// An access token's string with the refresh prefix: no refresh record
	// has its signature.
	crossed := prefixRefresh + strings.TrimPrefix(plain, prefixAccess)
	disabled, _ := mint("off", nil)
	disabledRefresh, _ := mintRefresh("off", nil)
	if err := db.UpdateClient(ctx, &store.Client{ID: "off", Name: "off", AccessTokenFormat: "opaque",
		GrantTypes: []string{"client_credentials"}, Disabled: true}); err != nil {
		t.Fatal(err)
	}
	deleted, _ := mint("gone", nil)
	if err := db.DeleteClient(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	p.clientCache.Invalidate("off")
	p.clientCache.Invalidate("gone")

	tokens := map[string]string{"plain": plain, "rich": rich, "no expiry": noExpiry, "stale, no expiry": staleNoExpiry,
		"expired": expired, "deactivated": deactivated, "forged": forged, "disabled client": disabled,
		"deleted client": deleted, "unknown": prefixAccess + "abc.def", "no dot": prefixAccess + "abc",
		"bare prefix": prefixAccess, "refresh": refresh, "refresh, no expiry": refreshForever,
		"refresh, expired": refreshExpired, "refresh, rotated": rotated, "refresh, forged": refreshForged,
		"access token as a refresh token": crossed, "refresh, disabled client": disabledRefresh,
		"refresh, unknown": prefixRefresh + "abc.def", "refresh, bare prefix": prefixRefresh}
	active := map[string]bool{"plain": true, "rich": true, "no expiry": true, "refresh": true,
		"refresh, no expiry": true}
	for name, tok := range tokens {
		want, err := fositeAnswer(ctx, p, tok)
		if err != nil {
			t.Fatalf("%s: fosite: %v", name, err)
		}
		// Read from the record, then (for an active token) from the
		// cache the first read filled.
		for _, pass := range []string{"read", "cached"} {
			got := inactive
			body, err := p.tokens.opaqueAnswer(ctx, tok, nil)
			if err == nil {
				got = body
			} else if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("%s (%s): %v", name, pass, err)
			}
			if string(got) != string(want) {
				t.Errorf("%s (%s):\n got %s\nwant %s", name, pass, got, want)
			}
			if (err == nil) != active[name] {
				t.Errorf("%s (%s): active %v, want %v (%s)", name, pass, err == nil, active[name], got)
			}
		}
		// check (UserInfo, the admin API) sees what fosite's request held,
		// and takes no refresh token.
		info, err := p.tokens.check(ctx, tok)
		isRefresh := strings.HasPrefix(tok, prefixRefresh)
		if (err == nil) != (active[name] && !isRefresh) || (err != nil && !errors.Is(err, ErrInvalidToken)) {
			t.Fatalf("%s: check: %v", name, err)
		}
		if err != nil {
			continue
		}
		ar := fosite.NewAccessRequest(NewSession(""))
		v := &oauth2.CoreValidator{CoreStrategy: p.strategy, CoreStorage: p.store, Config: p.fcfg}
		if _, err := v.IntrospectToken(ctx, tok, fosite.AccessToken, ar, nil); err != nil {
			t.Fatalf("%s: fosite: %v", name, err)
		}
		wantInfo := &AccessInfo{Subject: ar.GetSession().GetSubject(), ClientID: ar.GetClient().GetID(),
			Scopes: ar.GetGrantedScopes(), Audience: ar.GetGrantedAudience(),
			DPoPJKT: ar.GetSession().(*Session).DPoPJKT}
		if len(wantInfo.Audience) == 0 {
			wantInfo.Audience = nil
		}
		if !reflect.DeepEqual(info, wantInfo) {
			t.Errorf("%s: check gave %+v, want %+v", name, info, wantInfo)
		}
	}

	// A record that cannot be decoded, and then a closed store: fosite
	// gave the store's failure (503), never inactive; so does the record.
	broken, rec := mint("app", nil)
	if err := db.DeleteToken(ctx, store.KindAccessToken, rec.Signature); err != nil {
		t.Fatal(err)
	}
	rec.Data = []byte(`{"id":`)
	if err := db.CreateToken(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := fositeAnswer(ctx, p, broken); err == nil {
		t.Fatal("fosite read a broken record")
	}
	if body, err := p.tokens.opaqueAnswer(ctx, broken, nil); err == nil || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("a broken record answered %s, %v", body, err)
	}
	db.Close()
	if _, err := fositeAnswer(ctx, p, plain+"x"); err == nil {
		t.Fatal("fosite answered with the store closed")
	}
	if body, err := p.tokens.opaqueAnswer(ctx, plain+"x", nil); err == nil || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("with the store closed: %s, %v", body, err)
	}
}

// TestParseIntrospectedAsStored: what introspection reads of a stored
// request is what decoding the whole request and session reads.
func TestParseIntrospectedAsStored(t *testing.T) {
	for i, data := range storedSamples {
		sess := NewSession("")
		want, err := parseStored([]byte(data), sess)
		if err != nil {
			t.Fatal(err)
		}
		if msg := introspectedAsStored([]byte(data), want, sess); msg != "" {
			t.Errorf("sample %d: %s", i, msg)
		}
	}
	for _, bad := range []string{`{"id":"x","session":{"oidc":5}}`, `{"id":"x","session":[1]}`, `{"id":"x","session":{`,
		`[]`, `{"requested_at":"yesterday"}`, `{"client_id":5}`, `{"granted_scope":"read"}`, `{"granted_scope":[1]}`,
		`{"granted_audience":{}}`, `{"session":{"oidc":{"expires_at":{"access_token":1}}}}`,
		`{"session":{"oidc":{"subject":true}}}`, `{"session":{"dpop_jkt":[]}}`, `{"id":"x"} trailing`, ``} {
		if _, err := parseIntrospected([]byte(bad)); err == nil {
			t.Errorf("parseIntrospected(%s) accepted it", bad)
		}
	}
}

// TestParseIntrospectedAsEncodingJSON: on records that are odd but valid
// (members absent or null, escapes, null elements, other members around),
// parseIntrospected reads what encoding/json reads into the same members.
func TestParseIntrospectedAsEncodingJSON(t *testing.T) {
	type reference struct {
		ID              string    `json:"id"`
		RequestedAt     time.Time `json:"requested_at"`
		ClientID        string    `json:"client_id"`
		GrantedScope    []string  `json:"granted_scope"`
		GrantedAudience []string  `json:"granted_audience"`
		Session         struct {
			OIDC struct {
				ExpiresAt struct {
					AccessToken  time.Time `json:"access_token"`
					RefreshToken time.Time `json:"refresh_token"`
				} `json:"expires_at"`
				Subject string `json:"subject"`
			} `json:"oidc"`
			DPoPJKT string `json:"dpop_jkt"`
		} `json:"session"`
	}
	for _, data := range append([]string{`{}`, `null`, `{"id":null,"requested_at":null,"client_id":null}`,
		`{"granted_scope":null,"granted_audience":[]}`, `{"granted_scope":["a",null,"b"]}`,
		`{"session":null}`, `{"session":{"oidc":null,"dpop_jkt":"k"}}`,
		`{"session":{"oidc":{"expires_at":null,"subject":"s"}}}`,
		`{"id":"\u00e9\ud834\udd1e\"\\\/\b\f\n\r\t\u2028<>&","client_id":"\u0000"}`,
		`{"requested_at":"2026-12-06T04:44:58.123456789+02:00","form":{"a":[1,{"b":null}]},"x":1e300}`,
		` {"session":{"oidc":{"expires_at":{"access_token":"2030-01-01T00:00:00Z","refresh_token":"2031-01-01T00:00:00Z"}}}} `,
	}, storedSamples...) {
		var want reference
		if err := json.Unmarshal([]byte(data), &want); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		got, err := parseIntrospected([]byte(data))
		if err != nil {
			t.Errorf("%s: %v", data, err)
			continue
		}
		if got.ID != want.ID || !got.RequestedAt.Equal(want.RequestedAt) || got.ClientID != want.ClientID ||
			!reflect.DeepEqual(got.GrantedScope, want.GrantedScope) ||
			!reflect.DeepEqual(got.GrantedAudience, want.GrantedAudience) ||
			got.Session.OIDC.Subject != want.Session.OIDC.Subject ||
			!got.Session.OIDC.ExpiresAt.AccessToken.Equal(want.Session.OIDC.ExpiresAt.AccessToken) ||
			!got.Session.OIDC.ExpiresAt.RefreshToken.Equal(want.Session.OIDC.ExpiresAt.RefreshToken) ||
			got.Session.DPoPJKT != want.Session.DPoPJKT {
			t.Errorf("%s: read %+v, want %+v", data, got, want)
		}
	}
}

// introspectedAsStored compares what parseIntrospected reads of data
// with the request parseStored read of it into sess ("" when they agree;
// a null session leaves sess as it was, as decode hands it on).
func introspectedAsStored(data []byte, want *storedRequestOf[*Session], sess *Session) string {
	got, err := parseIntrospected(data)
	if err != nil {
		return err.Error()
	}
	if got.ID != want.ID || !got.RequestedAt.Equal(want.RequestedAt) || got.ClientID != want.ClientID ||
		!slices.Equal(got.GrantedScope, want.GrantedScope) || !slices.Equal(got.GrantedAudience, want.GrantedAudience) ||
		got.Session.OIDC.Subject != sess.GetSubject() ||
		!got.Session.OIDC.ExpiresAt.AccessToken.Equal(sess.GetExpiresAt(fosite.AccessToken)) ||
		!got.Session.OIDC.ExpiresAt.RefreshToken.Equal(sess.GetExpiresAt(fosite.RefreshToken)) ||
		got.Session.DPoPJKT != sess.DPoPJKT {
		return fmt.Sprintf("read %+v, want %+v with session %+v", got, want, sess)
	}
	return ""
}

// BenchmarkParseIntrospected: what a cold opaque introspection decodes of
// a client-credentials record now (BenchmarkParseStored: the whole request
// and session, as before).
func BenchmarkParseIntrospected(b *testing.B) {
	data := []byte(storedSamples[0])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseIntrospected(data); err != nil {
			b.Fatal(err)
		}
	}
}
