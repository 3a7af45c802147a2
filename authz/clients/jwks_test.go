package clients

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyward/keyward/store"
)

func jwksJSON(t *testing.T, keys ...jose.JSONWebKey) string {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestParseJWKS: public signing keys pass; private or symmetric material,
// weak or unusable keys and HMAC or unknown algorithms are refused, each
// with a reason.
func TestParseJWKS(t *testing.T) {
	t.Parallel()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	smallRSA, _ := rsa.GenerateKey(rand.Reader, 1024)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	good := jwksJSON(t, jose.JSONWebKey{Key: rsaKey.Public(), KeyID: "r", Algorithm: "PS256", Use: "sig"},
		jose.JSONWebKey{Key: ecKey.Public(), KeyID: "e", Algorithm: "ES256"}, jose.JSONWebKey{Key: edPub, KeyID: "o"})
	set, err := ParseJWKS([]byte(good))
	if err != nil || len(set.Keys) != 3 {
		t.Fatalf("good set: %v", err)
	}
	for name, tc := range map[string]struct{ raw, want string }{
		"RSA private key":   {jwksJSON(t, jose.JSONWebKey{Key: rsaKey, KeyID: "r"}), "private"},
		"EC private key":    {jwksJSON(t, jose.JSONWebKey{Key: ecKey, KeyID: "e"}), "private"},
		"Ed25519 private":   {jwksJSON(t, jose.JSONWebKey{Key: edPriv, KeyID: "o"}), "private"},
		"symmetric key":     {`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`, "symmetric"},
		"small RSA":         {jwksJSON(t, jose.JSONWebKey{Key: smallRSA.Public()}), "1024 bits"},
		"HMAC alg":          {jwksJSON(t, jose.JSONWebKey{Key: ecKey.Public(), Algorithm: "HS256"}), "HS256"},
		"alg of other kind": {jwksJSON(t, jose.JSONWebKey{Key: ecKey.Public(), Algorithm: "RS256"}), "does not fit"},
		"encryption key":    {jwksJSON(t, jose.JSONWebKey{Key: ecKey.Public(), Use: "enc"}), "use"},
		"no keys":           {`{"keys":[]}`, "no keys"},
		"not JSON":          {`keys`, "not a JSON"},
		"a bare key":        {`{"kty":"EC"}`, "no keys"},
	} {
		if _, err := ParseJWKS([]byte(tc.raw)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want an error about %q", name, err, tc.want)
		}
	}
	if KeyFits(set.Keys[0], "RS256") || !KeyFits(set.Keys[0], "PS256") || !KeyFits(set.Keys[1], "ES256") ||
		KeyFits(set.Keys[1], "ES384") || !KeyFits(set.Keys[2], "EdDSA") || KeyFits(set.Keys[2], "ES256") {
		t.Error("KeyFits: wrong answer for the key's type or its own alg")
	}
}

// TestRegistryPrivateKeyJWT: a private_key_jwt client gets no secret and
// needs keys; switching a secret client to it drops the secret; the way
// back (to a secret nobody was shown) is refused, as is rotate-secret.
func TestRegistryPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	f := newRegistry(t, nil)
	ctx := context.Background()
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keys := jwksJSON(t, jose.JSONWebKey{Key: ecKey.Public(), KeyID: "k1"})

	if _, _, err := f.reg.Create(ctx, Params{Name: "svc", AuthMethod: AuthPrivateKeyJWT}); !isInvalid(err, "private_key_jwt needs") {
		t.Errorf("without keys: %v", err)
	}
	if _, _, err := f.reg.Create(ctx, Params{Name: "svc", AuthMethod: AuthPrivateKeyJWT, JWKS: keys,
		JWKSURI: "https://svc.example/jwks"}); !isInvalid(err, "not both") {
		t.Errorf("with jwks and jwks_uri: %v", err)
	}
	if _, _, err := f.reg.Create(ctx, Params{Name: "svc", Public: true, AuthMethod: AuthPrivateKeyJWT, JWKS: keys}); !isInvalid(err, "public client") {
		t.Errorf("public private_key_jwt: %v", err)
	}
	cl, secret, err := f.reg.Create(ctx, Params{Name: "svc", AuthMethod: AuthPrivateKeyJWT, JWKS: keys})
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" || cl.SecretDigest != nil || cl.Public || AuthMethodOf(cl) != AuthPrivateKeyJWT || HasSecret(cl) {
		t.Errorf("private_key_jwt client: secret %q, %+v", secret, cl)
	}
	if v := NewView(cl, ""); v.TokenEndpointAuth != AuthPrivateKeyJWT || !strings.Contains(string(v.JWKS), `"k1"`) {
		t.Errorf("view: %+v", v)
	}
	if _, _, err := f.reg.RotateSecret(ctx, cl.ID); !isInvalid(err, "no secret") {
		t.Errorf("rotate-secret: %v", err)
	}
	p := ParamsOf(cl)
	p.AuthMethod = AuthSecretPost
	if _, err := f.reg.Update(ctx, cl.ID, p); !isInvalid(err, "no secret") {
		t.Errorf("back to a secret: %v", err)
	}

	sec, _, err := f.reg.Create(ctx, Params{Name: "old"})
	if err != nil {
		t.Fatal(err)
	}
	p = ParamsOf(sec)
	if p.AuthMethod != AuthSecretBasic {
		t.Errorf("default method %q", p.AuthMethod)
	}
	p.AuthMethod, p.JWKSURI = AuthPrivateKeyJWT, "https://old.example/jwks.json"
	up, err := f.reg.Update(ctx, sec.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	if up.SecretDigest != nil || up.JWKSURI != p.JWKSURI {
		t.Errorf("after switching to private_key_jwt: %+v", up)
	}
}

func isInvalid(err error, want string) bool {
	var ve *store.ValidationError
	return errors.As(err, &ve) && strings.Contains(err.Error(), want)
}
