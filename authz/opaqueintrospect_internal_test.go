package authz

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite/sqlitetest"
)

// fositeAnswer is how introspection answered for an opaque access token
// before it read the record itself: through fosite's introspection of the
// token (its core validator and this package's store), then the client's
// state. It is the reference introspectOpaqueAccess must agree with.
func fositeAnswer(ctx context.Context, h *introspector, token string) ([]byte, error) {
	tu, ar, err := h.fosite.IntrospectToken(ctx, token, fosite.AccessToken, NewSession(""))
	if err != nil {
		if storeFailure(err) {
			return nil, err
		}
		return inactive, nil
	}
	if err := h.tokens.clientActive(ctx, ar.GetClient().GetID()); err != nil {
		return inactiveOr(err)
	}
	exp := ar.GetSession().GetExpiresAt(fosite.TokenType(tu))
	out := opaqueAnswer{Aud: ar.GetGrantedAudience(), ClientID: ar.GetClient().GetID(),
		Iat: ar.GetRequestedAt().Unix(), Iss: h.issuer, Scope: strings.Join(ar.GetGrantedScopes(), " "),
		Sub: ar.GetSession().GetSubject(), TokenType: "Bearer", TokenUse: string(tu)}
	if sess, ok := ar.GetSession().(*Session); ok && sess.DPoPJKT != "" {
		out.TokenType, out.JKT = "DPoP", sess.DPoPJKT
	}
	if !exp.IsZero() {
		out.Exp = exp.Unix()
	}
	return out.appendJSON(nil), nil
}

// TestOpaqueAccessAsFosite: introspecting an opaque access token from its
// record gives, token by token, the answer fosite's introspection gave:
// active tokens (with and without audiences, DPoP binding, an expiry),
// deactivated, expired, forged, unknown and malformed tokens, tokens of a
// disabled or deleted client, a record that cannot be decoded, and a
// store that is gone.
func TestOpaqueAccessAsFosite(t *testing.T) {
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
	h := p.introspector
	now := time.Now().UTC().Truncate(time.Second)

	// mint stores an opaque access token of client as the token endpoint
	// does, edit shaping its request first.
	mint := func(client string, edit func(r *fosite.AccessRequest, s *Session)) (string, *store.TokenRecord) {
		t.Helper()
		c, err := p.store.GetClient(ctx, client)
		if err != nil {
			t.Fatal(err)
		}
		sess := NewSession(client)
		sess.SetExpiresAt(fosite.AccessToken, now.Add(time.Hour))
		r := fosite.NewAccessRequest(sess)
		r.Client, r.RequestedAt = c, now
		r.GrantTypes = fosite.Arguments{"client_credentials"}
		r.RequestedScope, r.GrantedScope = fosite.Arguments{"read"}, fosite.Arguments{"read"}
		if edit != nil {
			edit(r, sess)
		}
		tok, sig, err := p.strategy.GenerateAccessToken(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.store.CreateAccessTokenSession(ctx, sig, r); err != nil {
			t.Fatal(err)
		}
		rec, err := db.GetToken(ctx, store.KindAccessToken, sig)
		if err != nil {
			t.Fatal(err)
		}
		return tok, rec
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
	disabled, _ := mint("off", nil)
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
		"bare prefix": prefixAccess}
	active := map[string]bool{"plain": true, "rich": true, "no expiry": true}
	for name, tok := range tokens {
		want, err := fositeAnswer(ctx, h, tok)
		if err != nil {
			t.Fatalf("%s: fosite: %v", name, err)
		}
		// Read from the record, then (for an active token) from the
		// cache the first read filled.
		for _, pass := range []string{"read", "cached"} {
			got := inactive
			body, err := p.tokens.opaqueAnswer(ctx, tok)
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
		// check (UserInfo, the admin API) sees what fosite's request held.
		info, err := p.tokens.check(ctx, tok)
		if (err == nil) != active[name] || (err != nil && !errors.Is(err, ErrInvalidToken)) {
			t.Fatalf("%s: check: %v", name, err)
		}
		if err != nil {
			continue
		}
		_, ar, err := h.fosite.IntrospectToken(ctx, tok, fosite.AccessToken, NewSession(""))
		if err != nil {
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
	if _, err := fositeAnswer(ctx, h, broken); err == nil {
		t.Fatal("fosite read a broken record")
	}
	if body, err := p.tokens.opaqueAnswer(ctx, broken); err == nil || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("a broken record answered %s, %v", body, err)
	}
	db.Close()
	if _, err := fositeAnswer(ctx, h, plain+"x"); err == nil {
		t.Fatal("fosite answered with the store closed")
	}
	if body, err := p.tokens.opaqueAnswer(ctx, plain+"x"); err == nil || errors.Is(err, ErrInvalidToken) {
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
		got, err := parseIntrospected([]byte(data))
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		if got.ID != want.ID || !got.RequestedAt.Equal(want.RequestedAt) || got.ClientID != want.ClientID ||
			strings.Join(got.GrantedScope, " ") != strings.Join(want.GrantedScope, " ") ||
			strings.Join(got.GrantedAudience, " ") != strings.Join(want.GrantedAudience, " ") ||
			got.Session.OIDC.Subject != sess.GetSubject() ||
			!got.Session.OIDC.ExpiresAt.AccessToken.Equal(sess.GetExpiresAt(fosite.AccessToken)) ||
			got.Session.DPoPJKT != sess.DPoPJKT {
			t.Errorf("sample %d: %+v, want %+v with session %+v", i, got, want, sess)
		}
	}
	for _, bad := range []string{`{"id":"x","session":{"oidc":5}}`, `{"id":"x","session":[1]}`, `{"id":"x","session":{`,
		`[]`, `{"requested_at":"yesterday"}`} {
		if _, err := parseIntrospected([]byte(bad)); err == nil {
			t.Errorf("parseIntrospected(%s) accepted it", bad)
		}
	}
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
