package admin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"

	"github.com/keyward/keyward/keys/signing"
)

func TestAPISigningKeys(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	var list listBody[signing.Record]
	e.call("GET", "/admin/v1/signing-keys", nil, http.StatusOK, &list)
	states := func(l []signing.Record) map[signing.State]int {
		m := map[signing.State]int{}
		for _, r := range l {
			m[r.State]++
		}
		return m
	}
	algs := e.srv.cfg.Signing.Algorithms()
	if s := states(list.Items); s[signing.StateActive] != len(algs) || s[signing.StateNext] != len(algs) {
		t.Fatalf("after bootstrap: %v", s)
	}
	var active signing.Record
	for _, r := range list.Items {
		if r.State == signing.StateActive && r.Alg == algs[0] {
			active = r
		}
	}

	// Without an alg every configured algorithm rotates; the bootstrap's
	// next keys were in the first JWKS, so they may sign at once.
	var rotated listBody[signing.Record]
	e.call("POST", "/admin/v1/signing-keys/rotate", nil, http.StatusOK, &rotated)
	if len(rotated.Items) != len(algs) || rotated.Items[0].State != signing.StateActive || rotated.Items[0].KID == active.KID {
		t.Fatalf("rotate: %+v", rotated)
	}
	// The new next keys were just published: without force, 409 and
	// nothing rotates.
	if r := e.do(req{method: "POST", path: "/admin/v1/signing-keys/rotate"}); r.Status != http.StatusConflict ||
		!strings.Contains(string(r.Body), "key-not-ready") || !strings.Contains(string(r.Body), "JWKS cache lifetime") {
		t.Fatalf("rotate of fresh next keys: %d %s", r.Status, r.Body)
	}
	var still signing.Record
	e.call("GET", "/admin/v1/signing-keys/"+rotated.Items[0].KID, nil, http.StatusOK, &still)
	if still.State != signing.StateActive {
		t.Fatalf("a refused rotation changed the active key: %+v", still)
	}
	var old signing.Record
	e.call("GET", "/admin/v1/signing-keys/"+active.KID, nil, http.StatusOK, &old)
	if old.State != signing.StateRetiring {
		t.Fatalf("previous active key: %+v", old)
	}
	e.call("POST", "/admin/v1/signing-keys/rotate", map[string]any{"alg": algs[0], "force": true}, http.StatusOK, &rotated)
	if len(rotated.Items) != 1 || rotated.Items[0].Alg != algs[0] {
		t.Fatalf("rotate %s: %+v", algs[0], rotated)
	}
	if r := e.do(req{method: "POST", path: "/admin/v1/signing-keys/rotate", body: map[string]any{"alg": "HS256"}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("rotate HS256: %d %s", r.Status, r.Body)
	}

	// Revoke the next key (revoking the one that signed the admin token
	// would end the token too).
	e.call("GET", "/admin/v1/signing-keys", nil, http.StatusOK, &list)
	var next signing.Record
	for _, r := range list.Items {
		if r.State == signing.StateNext && r.Alg == algs[0] {
			next = r
		}
	}
	var revoked signing.Record
	e.call("POST", "/admin/v1/signing-keys/"+next.KID+"/revoke", nil, http.StatusOK, &revoked)
	if revoked.State != signing.StateRetired || revoked.RevokedAt.IsZero() {
		t.Fatalf("revoke: %+v", revoked)
	}
	if r := e.do(req{method: "POST", path: "/admin/v1/signing-keys/nope/revoke"}); r.Status != http.StatusNotFound {
		t.Errorf("revoke unknown: %d", r.Status)
	}

	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	var imported signing.Record
	e.call("POST", "/admin/v1/signing-keys/import", map[string]any{"key": pemKey}, http.StatusCreated, &imported)
	if imported.State != signing.StateNext || imported.Origin != signing.OriginImported || imported.Alg != "ES256" {
		t.Fatalf("import: %+v", imported)
	}
	jwk := `{"kty":"EC","crv":"P-256","kid":"ext-1","alg":"ES256",` +
		`"x":"` + b64(priv.X.FillBytes(make([]byte, 32))) + `","y":"` + b64(priv.Y.FillBytes(make([]byte, 32))) +
		`","d":"` + b64(priv.D.FillBytes(make([]byte, 32))) + `"}`
	e.call("POST", "/admin/v1/signing-keys/import", `{"key":`+jwk+`,"state":"retiring"}`, http.StatusCreated, &imported)
	if imported.KID != "ext-1" || imported.State != signing.StateRetiring {
		t.Fatalf("import JWK: %+v", imported)
	}
	for name, body := range map[string]string{
		"not a key": `{"key":"hello"}`,
		"no key":    `{}`,
		"bad state": `{"key":` + quote(pemKey) + `,"state":"lost"}`,
		"bad alg":   `{"key":` + quote(pemKey) + `,"alg":"PS256"}`,
		"HS JWK":    `{"key":{"kty":"oct","k":"c2VjcmV0","alg":"HS256"}}`,
	} {
		r := e.do(req{method: "POST", path: "/admin/v1/signing-keys/import", body: body})
		if r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	e.call("GET", "/admin/v1/signing-keys?limit=2", nil, http.StatusOK, &list)
	if len(list.Items) != 2 || list.NextCursor == "" {
		t.Fatalf("page 1: %+v", list)
	}
	seen := len(list.Items)
	for list.NextCursor != "" {
		e.call("GET", "/admin/v1/signing-keys?limit=2&cursor="+list.NextCursor, nil, http.StatusOK, &list)
		seen += len(list.Items)
	}
	// Bootstrap: 2 per algorithm; rotating all: 1 each; rotating one: 1;
	// the revoked next key's replacement: 1; 2 imports.
	if want := 3*len(algs) + 4; seen != want {
		t.Errorf("paged through %d keys, want %d", seen, want)
	}
	for _, r := range list.Items {
		if strings.Contains(string(r.Sealed), "PRIVATE") || len(r.Sealed) > 0 {
			t.Error("a private key left the server")
		}
	}
}
