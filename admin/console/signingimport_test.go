package console

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/net/html"

	"github.com/keyward/keyward/store"
)

// upload posts the signing-key import form as a browser does:
// multipart/form-data with the page's CSRF token, the file and fields.
func (b *consoleBrowser) upload(csrf, filename string, file []byte, fields map[string]string) consolePage {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf_token", csrf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("key_file", filename)
		_, _ = fw.Write(file)
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.base+"/console/signing-keys/import", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// attr returns attribute name of the element with id, and whether there
// is such an element.
func (p consolePage) attr(id, name string) (string, bool) {
	var v string
	found := false
	walkHTML(p.doc, func(n *html.Node) {
		if !found && n.Type == html.ElementNode && htmlAttr(n, "id") == id {
			v, found = htmlAttr(n, name), htmlHasAttr(n, name)
		}
	})
	return v, found
}

// wantFieldError checks that the page shows msg beside the input id: in
// the element its aria-describedby names, with aria-invalid set.
func (p consolePage) wantFieldError(id, msg string) {
	p.t.Helper()
	if inv, _ := p.attr(id, "aria-invalid"); inv != "true" {
		p.t.Errorf("input %s: aria-invalid %q, want true (%d at %s)", id, inv, p.status, p.url)
	}
	desc, _ := p.attr(id, "aria-describedby")
	errID := strings.ReplaceAll(id, "_", "-") + "-error"
	if !strings.Contains(" "+desc+" ", " "+errID+" ") {
		p.t.Errorf("input %s: aria-describedby %q does not name %s", id, desc, errID)
	}
	if got := p.byID(errID); !strings.Contains(got, msg) {
		p.t.Errorf("beside %s: %q, want it to hold %q\n%s", id, got, msg, p.body)
	}
}

func pemOf(t *testing.T, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8(t *testing.T, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, "PRIVATE KEY", der)
}

// TestConsoleImportSigningKey: a PEM or JWK private key uploaded on the
// signing-keys page is stored like "keyward keys import" stores it
// (staged as next unless asked, the JWK's kid kept, audited as the admin),
// the page names it without ever showing the key, and every bad upload is
// the page again with the problem beside the field that caused it.
func TestConsoleImportSigningKey(t *testing.T) {
	env := newConsoleEnv(t)
	b := env.setup("root", "correct horse battery")
	page := b.get("/console/signing-keys")
	page.want(http.StatusOK, "/console/signing-keys")
	csrf := page.form("/console/signing-keys/import").Get("csrf_token")
	if csrf == "" {
		t.Fatal("no CSRF token in the import form")
	}
	if enc, _ := page.attr("key_file", "type"); enc != "file" {
		t.Fatalf("key_file input type %q", enc)
	}
	if got := page.byID("rotation-ES256"); got != "not scheduled" {
		t.Errorf("rotation of ES256 without --key-rotation: %q, want not scheduled", got)
	}

	// A P-256 key in PKCS #8 PEM: staged as next.
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pemKey := pkcs8(t, ec)
	p := b.upload(csrf, "key.pem", pemKey, map[string]string{"state": "next"})
	p.want(http.StatusOK, "/console/signing-keys")
	kid := p.url.Query().Get("kid")
	if kid == "" || !strings.Contains(p.body, "Imported key "+kid+" (ES256), now next") {
		t.Fatalf("after upload: kid %q, page:\n%s", kid, p.body)
	}
	for _, line := range strings.Split(string(pemKey), "\n")[1:3] {
		if strings.Contains(p.body, line) {
			t.Fatalf("the page shows the private key (%q)", line)
		}
	}
	recs, err := env.signing.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recs {
		if r.KID == kid {
			found = r.State == "next" && r.Alg == "ES256" && r.Origin == "imported"
		}
	}
	if !found {
		t.Fatalf("imported key %s not stored as an imported next ES256 key: %+v", kid, recs)
	}
	if !strings.Contains(p.body, `data-kid="`+kid+`" data-state="next"`) {
		t.Errorf("the list does not show %s as next", kid)
	}
	me, err := env.db.GetUserByUsername(context.Background(), "root")
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err := env.db.ListAudit(context.Background(), store.AuditFilter{Type: "signing_key.imported", Subject: kid}, store.Page{})
	if err != nil || len(evs) != 1 || evs[0].Actor != "user:"+me.ID {
		t.Fatalf("audit of the import: %+v, %v (want one by user:%s)", evs, err, me.ID)
	}

	// A private JWK, active at once: its kid is kept.
	ed := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: ed, KeyID: "partner-2026", Algorithm: "EdDSA", Use: "sig"})
	p = b.upload(csrf, "key.jwk", jwk, map[string]string{"state": "active"})
	p.want(http.StatusOK, "/console/signing-keys")
	if env.signing.ActiveKID("EdDSA") != "partner-2026" || p.byID("active-EdDSA") != "partner-2026" {
		t.Fatalf("the JWK did not become the active EdDSA key: %q / %q", env.signing.ActiveKID("EdDSA"), p.byID("active-EdDSA"))
	}
	if strings.Contains(p.body, `"d":`) {
		t.Fatal("the page shows the JWK's private part")
	}

	rsaSmall, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	pubDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	pubJWK, _ := json.Marshal(jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "pub"})
	for _, tc := range []struct {
		name   string
		file   []byte
		fields map[string]string
		status int
		field  string
		msg    string
	}{
		{"garbage", []byte("hello, world"), nil, 422, "key_file", "no PEM private key or JWK found"},
		{"public PEM", pemOf(t, "PUBLIC KEY", pubDER), nil, 422, "key_file", "a public key or certificate, not a private key"},
		{"public JWK", pubJWK, nil, 422, "key_file", "the JWK has no private key"},
		{"RSA 1024", pkcs8(t, rsaSmall), nil, 422, "key_file", "RSA key of 1024 bits is too short"},
		{"P-384", pkcs8(t, p384), nil, 422, "key_file", "curve P-384 is not supported"},
		{"wrong alg", pemKey, map[string]string{"alg": "RS256"}, 422, "key_file", "cannot sign RS256"},
		{"unknown alg", pemKey, map[string]string{"alg": "HS256"}, 422, "alg", "Choose ES256, RS256 or EdDSA"},
		{"retired state", pemKey, map[string]string{"state": "retired"}, 422, "state", "Choose next, active or retiring"},
		{"no file", nil, nil, 422, "key_file", "Choose a private key file"},
		{"empty file", []byte{}, nil, 422, "key_file", "The file is empty"},
		{"same key again", pemKey, nil, 409, "key_file", "exists already"},
		{"too large", bytes.Repeat([]byte("A"), 100<<10), nil, 413, "key_file", "at most 64 KiB"},
		{"just too large", append(pemKey, bytes.Repeat([]byte("\n"), maxKeyFile)...), nil, 422, "key_file", "at most 64 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.upload(csrf, "k", tc.file, tc.fields)
			if p.status != tc.status {
				t.Fatalf("status %d, want %d:\n%s", p.status, tc.status, p.body)
			}
			p.wantFieldError(tc.field, tc.msg)
			if !strings.Contains(p.body, "The key was not imported.") {
				t.Error("no summary at the top")
			}
			if v := tc.fields["alg"]; v == "RS256" && !strings.Contains(p.body, `<option value="RS256" selected>`) {
				t.Error("the chosen algorithm is not kept")
			}
		})
	}
	if n := len(mustList(t, env)); n != len(recs)+1 {
		t.Errorf("%d keys after the refused uploads, want %d", n, len(recs)+1)
	}

	// Without the page's CSRF token nothing is read.
	if p := b.upload("forged", "key.pem", pemKey, nil); p.status != http.StatusForbidden {
		t.Fatalf("forged CSRF token: %d", p.status)
	}
	// A form that is not multipart is a 400 page.
	if p := b.post("/console/signing-keys/import", map[string][]string{"csrf_token": {csrf}}); p.status != http.StatusBadRequest {
		t.Fatalf("urlencoded import: %d", p.status)
	}
}

func mustList(t *testing.T, env *consoleEnv) []string {
	t.Helper()
	recs, err := env.signing.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, r := range recs {
		kids = append(kids, r.KID)
	}
	return kids
}
