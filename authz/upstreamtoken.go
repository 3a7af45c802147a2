package authz

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/store"
)

// exchange redeems code at the upstream's token endpoint with the PKCE
// verifier (RFC 7636 §4.5), verifies the ID token (OIDC Core §3.1.3.7:
// signature, iss, aud, exp; then the nonce of st) and reads the person's
// claims through the provider's mapping, from the ID token and, for
// those it lacks, from UserInfo (§5.3, whose sub must match, §5.3.2).
// On failure it returns the reason for the error page and the audit log.
func (u *upstreamFlow) exchange(ctx context.Context, up *store.UpstreamProvider, st *upstreamState, code string) (accounts.UpstreamClaims, string, error) {
	var none accounts.UpstreamClaims
	secret, err := u.providers.ClientSecret(up)
	if err != nil {
		return none, "provider_misconfigured", err
	}
	op, err := u.discover(ctx, up)
	if err != nil {
		return none, "upstream_unreachable", err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*UpstreamClientTimeout)
	defer cancel()
	ctx = u.clientContext(ctx)
	conf := u.oauth2Config(up, op, secret)
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return none, "code_rejected", err
		}
		return none, "upstream_unreachable", err
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return none, "id_token_missing", errors.New("the token response has no id_token")
	}
	idt, err := op.Verifier(&oidc.Config{ClientID: up.ClientID, Now: u.now}).Verify(ctx, raw)
	if err != nil {
		return none, "id_token_invalid", err
	}
	if !hmac.Equal([]byte(idt.Nonce), []byte(st.Nonce)) {
		return none, "nonce_mismatch", errors.New("the ID token's nonce is not the one sent")
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return none, "id_token_invalid", err
	}
	if missing(claims, up.ClaimUsername, up.ClaimEmail, up.ClaimName) && op.UserInfoEndpoint() != "" {
		if info, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err != nil {
			u.log.Info("upstream sign-in: UserInfo", "provider", up.Name, "err", err)
		} else if info.Subject == idt.Subject {
			extra := map[string]any{}
			if info.Claims(&extra) == nil {
				for k, v := range extra {
					if _, ok := claims[k]; !ok {
						claims[k] = v
					}
				}
			}
		}
	}
	return accounts.UpstreamClaims{
		Subject:       idt.Subject,
		Username:      stringClaim(claims, up.ClaimUsername),
		Email:         stringClaim(claims, up.ClaimEmail),
		EmailVerified: boolClaim(claims, "email_verified"),
		Name:          stringClaim(claims, up.ClaimName),
		AMR:           stringsClaim(claims, "amr"),
	}, "", nil
}

// missing reports whether any of the named claims is absent.
func missing(claims map[string]any, names ...string) bool {
	for _, n := range names {
		if _, ok := claims[n]; !ok {
			return true
		}
	}
	return false
}

func stringClaim(claims map[string]any, name string) string {
	switch v := claims[name].(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(v)
	}
	return ""
}

// stringsClaim reads an array-of-strings claim, skipping other members.
func stringsClaim(claims map[string]any, name string) []string {
	vs, _ := claims[name].([]any)
	var out []string
	for _, v := range vs {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// boolClaim reads a boolean claim; some providers send "true" as a string.
func boolClaim(claims map[string]any, name string) bool {
	switch v := claims[name].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

func truncateString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
