package clients

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/keyward/keyward/store"
)

func TestParamsWithDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   Params
		want Params
	}{
		{
			name: "confidential without redirect URIs gets client_credentials and jwt",
			in:   Params{Name: "svc"},
			want: Params{Name: "svc", GrantTypes: []string{GrantClientCredentials}, AccessTokenFormat: "jwt"},
		},
		{
			name: "redirect URIs get the code flow with refresh",
			in:   Params{Name: "web", RedirectURIs: []string{"https://a.example/cb"}},
			want: Params{Name: "web", RedirectURIs: []string{"https://a.example/cb"},
				GrantTypes: []string{GrantAuthorizationCode, GrantRefreshToken}, AccessTokenFormat: "jwt"},
		},
		{
			name: "public gets the code flow even without redirect URIs",
			in:   Params{Name: "spa", Public: true},
			want: Params{Name: "spa", Public: true,
				GrantTypes: []string{GrantAuthorizationCode, GrantRefreshToken}, AccessTokenFormat: "jwt"},
		},
		{
			name: "chosen grant types and format are kept",
			in:   Params{Name: "x", GrantTypes: []string{GrantTokenExchange}, AccessTokenFormat: "opaque"},
			want: Params{Name: "x", GrantTypes: []string{GrantTokenExchange}, AccessTokenFormat: "opaque"},
		},
		{
			name: "every list is deduplicated in order and loses empty entries",
			in: Params{
				Name:                   "d",
				GrantTypes:             []string{GrantClientCredentials, "", GrantClientCredentials},
				Scopes:                 []string{"b", "a", "b", ""},
				RedirectURIs:           []string{"https://a.example/cb", "https://a.example/cb"},
				PostLogoutRedirectURIs: []string{"", "https://a.example/bye", "https://a.example/bye"},
				Audience:               []string{"api", "api", "", "web"},
				Resources:              []string{"urn:x", "", "urn:x", "https://api.example"},
			},
			want: Params{
				Name:                   "d",
				GrantTypes:             []string{GrantClientCredentials},
				Scopes:                 []string{"b", "a"},
				RedirectURIs:           []string{"https://a.example/cb"},
				PostLogoutRedirectURIs: []string{"https://a.example/bye"},
				Audience:               []string{"api", "web"},
				Resources:              []string{"urn:x", "https://api.example"},
				AccessTokenFormat:      "jwt",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.in.withDefaults()
			if !equalParams(got, tt.want) {
				t.Errorf("withDefaults()\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func equalParams(a, b Params) bool {
	return a.Name == b.Name && a.Public == b.Public && a.SkipConsent == b.SkipConsent &&
		a.AccessTokenFormat == b.AccessTokenFormat && a.IDTokenAlg == b.IDTokenAlg &&
		slices.Equal(a.GrantTypes, b.GrantTypes) && slices.Equal(a.Scopes, b.Scopes) &&
		slices.Equal(a.RedirectURIs, b.RedirectURIs) &&
		slices.Equal(a.PostLogoutRedirectURIs, b.PostLogoutRedirectURIs) &&
		slices.Equal(a.Audience, b.Audience) && slices.Equal(a.Resources, b.Resources)
}

func TestParamsValidate(t *testing.T) {
	t.Parallel()
	// base is valid; each case changes it.
	base := func() Params {
		return Params{Name: "svc", GrantTypes: []string{GrantClientCredentials}, AccessTokenFormat: "jwt"}
	}
	tests := []struct {
		name   string
		change func(p *Params)
		// want holds one substring per expected problem, in order.
		want []string
	}{
		{name: "confidential service client", change: func(p *Params) {}},
		{name: "public code-flow client with every option", change: func(p *Params) {
			p.Public, p.GrantTypes = true, []string{GrantAuthorizationCode, GrantRefreshToken}
			p.RedirectURIs = []string{"https://app.example/cb", "http://127.0.0.1:5000/cb", "com.example.app:/cb"}
			p.PostLogoutRedirectURIs = []string{"https://app.example/bye"}
			p.Scopes = []string{"openid", "read:all", "!#$%&'()*+,-./[]^_`{|}~"}
			p.Audience = []string{"https://api.example"}
			p.AccessTokenFormat, p.IDTokenAlg, p.SkipConsent = "opaque", "EdDSA", true
		}},
		{name: "confidential code flow without PKCE", change: func(p *Params) {
			p.GrantTypes, p.RedirectURIs, p.PKCEOptional = []string{GrantAuthorizationCode}, []string{"https://a.example/cb"}, true
		}},
		{name: "public client opting out of PKCE", change: func(p *Params) {
			p.Public, p.PKCEOptional = true, true
			p.GrantTypes, p.RedirectURIs = []string{GrantAuthorizationCode}, []string{"https://a.example/cb"}
		}, want: []string{"a public client cannot opt out of PKCE"}},
		{name: "code flow requiring PAR", change: func(p *Params) {
			p.GrantTypes, p.RedirectURIs, p.PARRequired = []string{GrantAuthorizationCode}, []string{"https://a.example/cb"}, true
		}},
		{name: "PAR required without the code flow", change: func(p *Params) { p.PARRequired = true },
			want: []string{"par required needs the authorization_code grant"}},
		{name: "token exchange", change: func(p *Params) { p.GrantTypes = []string{GrantTokenExchange} }},
		{name: "public device client with refresh tokens", change: func(p *Params) {
			p.Public, p.GrantTypes = true, []string{GrantDeviceCode, GrantRefreshToken}
		}},
		{name: "confidential device client", change: func(p *Params) { p.GrantTypes = []string{GrantDeviceCode} }},
		{name: "ES256 and RS256 id tokens", change: func(p *Params) { p.IDTokenAlg = "ES256" }},
		{name: "name of 200 bytes", change: func(p *Params) { p.Name = strings.Repeat("n", 200) }},
		{name: "blank name", change: func(p *Params) { p.Name = " \t" }, want: []string{"name: required"}},
		{name: "name of 201 bytes", change: func(p *Params) { p.Name = strings.Repeat("n", 201) }, want: []string{"name: required"}},
		{name: "unknown grant type", change: func(p *Params) { p.GrantTypes = []string{"password"} },
			want: []string{`grant type "password"`}},
		{name: "public client with client_credentials", change: func(p *Params) { p.Public = true },
			want: []string{"public client cannot use client_credentials"}},
		{name: "code flow without redirect URI", change: func(p *Params) { p.GrantTypes = []string{GrantAuthorizationCode} },
			want: []string{"authorization_code needs at least one --redirect-uri"}},
		{name: "refresh without code flow", change: func(p *Params) { p.GrantTypes = []string{GrantClientCredentials, GrantRefreshToken} },
			want: []string{"refresh_token needs authorization_code"}},
		{name: "scopes that are not scope tokens", change: func(p *Params) { p.Scopes = []string{"ok", "a b", `q"`, ""} },
			want: []string{`scope "a b"`, `scope "q\""`, `scope ""`}},
		{name: "plain-http redirect URI", change: func(p *Params) {
			p.GrantTypes, p.RedirectURIs = []string{GrantAuthorizationCode}, []string{"http://app.example/cb"}
		}, want: []string{`redirect URI "http://app.example/cb": http is allowed only for loopback`}},
		{name: "post-logout URI with a fragment", change: func(p *Params) { p.PostLogoutRedirectURIs = []string{"https://a.example/#x"} },
			want: []string{`post-logout redirect URI "https://a.example/#x": must not have a fragment`}},
		{name: "audiences empty, spaced or too long", change: func(p *Params) {
			p.Audience = []string{"", "a b", strings.Repeat("a", 2049), strings.Repeat("a", 2048)}
		}, want: []string{`audience ""`, `audience "a b"`, `audience "aaaa`}},
		{name: "resources: absolute URIs, URNs and queries", change: func(p *Params) {
			p.Resources = []string{"https://api.example/orders", "urn:example:inventory", "https://mcp.example/mcp?tenant=1"}
		}},
		{name: "resources relative, with a fragment or spaces", change: func(p *Params) {
			p.Resources = []string{"/orders", "https://api.example/#x", "https://api.example/a b", "https:///nohost"}
		}, want: []string{`resource "/orders": must be an absolute URI`, `resource "https://api.example/#x": must not have a fragment`,
			`resource "https://api.example/a b": must not contain spaces`, `resource "https:///nohost": needs a host`}},
		{name: "unknown access token format", change: func(p *Params) { p.AccessTokenFormat = "" },
			want: []string{`access token format ""`}},
		{name: "symmetric id token algorithm", change: func(p *Params) { p.IDTokenAlg = "HS256" },
			want: []string{`id token algorithm "HS256"`}},
		{name: "every problem at once", change: func(p *Params) {
			*p = Params{
				Name: "", GrantTypes: []string{"implicit", GrantClientCredentials, GrantRefreshToken}, Public: true,
				Scopes: []string{"a\\b"}, RedirectURIs: []string{"javascript:alert(1)"},
				PostLogoutRedirectURIs: []string{"/relative"}, Audience: []string{"x y"},
				AccessTokenFormat: "paseto", IDTokenAlg: "none",
			}
		}, want: []string{
			"name: required", `grant type "implicit"`, "public client cannot use client_credentials",
			"refresh_token needs authorization_code", `scope "a\\b"`,
			`redirect URI "javascript:alert(1)": scheme not allowed`,
			`post-logout redirect URI "/relative": must be an absolute URI`, `audience "x y"`,
			`access token format "paseto"`, `id token algorithm "none"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := base()
			tt.change(&p)
			err := p.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v; want nil", err)
				}
				return
			}
			var ve *store.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("Validate() = %v (%T); want a *store.ValidationError matching ErrInvalid", err, err)
			}
			if len(ve.Problems) != len(tt.want) {
				t.Fatalf("%d problems %q; want %d", len(ve.Problems), ve.Problems, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(ve.Problems[i], w) {
					t.Errorf("problem %d = %q; want it to contain %q", i, ve.Problems[i], w)
				}
			}
		})
	}
}
