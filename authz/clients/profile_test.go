package clients

import (
	"errors"
	"strings"
	"testing"

	"github.com/keyward/keyward/store"
)

const testJWKS = `{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","use":"sig","alg":"ES256","kid":"k1"}]}`

func fapiParams() Params {
	return Params{Name: "bank", RedirectURIs: []string{"https://tpp.example/cb"}, AuthMethod: AuthPrivateKeyJWT,
		JWKS: testJWKS, PARRequired: true, DPoPRequired: true, Profile: ProfileFAPI2}
}

// TestFAPI2ProfileValidation checks that a FAPI 2.0 client is saved only
// when its settings meet the profile, and that each refusal names the
// setting to change.
func TestFAPI2ProfileValidation(t *testing.T) {
	t.Parallel()
	ok := fapiParams().withDefaults()
	if err := ok.Validate(); err != nil {
		t.Fatalf("conforming fapi2 client refused: %v", err)
	}
	if ok.IDTokenAlg != "ES256" {
		t.Fatalf("fapi2 default ID token alg = %q, want ES256", ok.IDTokenAlg)
	}
	tests := []struct {
		name string
		mod  func(*Params)
		want string
	}{
		{"unknown profile", func(p *Params) { p.Profile = "fapi1" }, `profile "fapi1"`},
		{"client secret", func(p *Params) { p.AuthMethod, p.JWKS = AuthSecretBasic, "" }, "private_key_jwt"},
		{"public", func(p *Params) { p.AuthMethod, p.JWKS, p.Public = AuthNone, "", true }, "confidential"},
		{"no PAR", func(p *Params) { p.PARRequired = false }, "--par-required"},
		{"no DPoP", func(p *Params) { p.DPoPRequired = false }, "--dpop-required"},
		{"PKCE optional", func(p *Params) { p.PKCEOptional = true }, "PKCE"},
		{"RS256 ID tokens", func(p *Params) { p.IDTokenAlg = "RS256" }, "--id-token-alg ES256"},
		{"PS256 ID tokens", func(p *Params) { p.IDTokenAlg = "PS256" }, "PS256 are not offered"},
		{"client credentials", func(p *Params) {
			p.GrantTypes = []string{GrantAuthorizationCode, GrantClientCredentials}
		}, `"client_credentials" is outside the profile`},
		{"http redirect", func(p *Params) { p.RedirectURIs = []string{"http://tpp.example/cb"} }, "must not use http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fapiParams()
			tt.mod(&p)
			err := p.withDefaults().Validate()
			var ve *store.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a ValidationError", err)
			}
			if !strings.Contains(strings.Join(ve.Problems, "\n"), tt.want) {
				t.Fatalf("problems %q do not mention %q", ve.Problems, tt.want)
			}
		})
	}
	loop := fapiParams()
	loop.RedirectURIs = []string{"http://127.0.0.1:8080/cb", "com.example.app:/cb"}
	if err := loop.withDefaults().Validate(); err != nil {
		t.Fatalf("loopback and private-use redirect URIs refused: %v", err)
	}
}
