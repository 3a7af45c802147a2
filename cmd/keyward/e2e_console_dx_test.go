package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// consoleCSRF returns the CSRF token of the form posting to action on
// the page body.
func consoleCSRF(t *testing.T, body, action string) string {
	t.Helper()
	m := regexp.MustCompile(`action="` + regexp.QuoteMeta(action) + `"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"`).
		FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form posting to %s:\n%s", action, body)
	}
	return m[1]
}

// TestE2EConsoleKeyImportAndSearch: on a running server, with each
// engine, the console shows the next scheduled rotation (--key-rotation
// defaults to 30 days), imports a PEM key uploaded as a browser sends a
// file (the CLI then lists it as a next key), refuses a file that holds
// no key with the problem beside the file input, and searches the
// clients in the database.
func TestE2EConsoleKeyImportAndSearch(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		for _, name := range []string{"Alpha one", "Beta", "alpha two"} {
			e.newClient("--name", name)
		}
		s := e.serve()
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar}
		readBody := func(resp *http.Response, err error) (int, string) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}

		code, body := readBody(hc.Get(s.SetupURL))
		if code != http.StatusOK {
			t.Fatalf("setup page: %d", code)
		}
		code, _ = readBody(hc.PostForm(s.AdminURL+"/console/setup", url.Values{
			"csrf_token": {consoleCSRF(t, body, "/console/setup")}, "username": {"root"},
			"token":    {regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(body)[1]},
			"password": {"correct horse battery staple"}, "confirm": {"correct horse battery staple"}}))
		if code != http.StatusOK {
			t.Fatalf("setup: %d", code)
		}

		code, body = readBody(hc.Get(s.AdminURL + "/console/signing-keys"))
		if code != http.StatusOK || !regexp.MustCompile(`id="rotation-ES256">[^<]+ \(in (29|30) d\)<`).MatchString(body) {
			t.Fatalf("signing keys page (%d) without the next rotation in 30 days:\n%s", code, body)
		}
		csrf := consoleCSRF(t, body, "/console/signing-keys/import")
		upload := func(file []byte) (int, string, string) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			_ = mw.WriteField("csrf_token", csrf)
			_ = mw.WriteField("state", "next")
			fw, _ := mw.CreateFormFile("key_file", "key.pem")
			_, _ = fw.Write(file)
			_ = mw.Close()
			resp, err := hc.Post(s.AdminURL+"/console/signing-keys/import", mw.FormDataContentType(), &buf)
			code, body := readBody(resp, err)
			return code, body, resp.Request.URL.Query().Get("kid")
		}
		ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKCS8PrivateKey(ec)
		code, body, kid := upload(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		if code != http.StatusOK || kid == "" || !strings.Contains(body, `data-kid="`+kid+`" data-state="next"`) {
			t.Fatalf("import: %d, kid %q\n%s", code, kid, body)
		}
		var listed []struct{ KID, Alg, State, Origin string }
		e.runJSON(&listed, "", "keys", "list")
		found := false
		for _, k := range listed {
			found = found || k.KID == kid && k.State == "next" && k.Alg == "ES256" && k.Origin == "imported"
		}
		if !found {
			t.Fatalf("keys list does not show %s as an imported next key: %+v", kid, listed)
		}
		code, body, _ = upload([]byte("not a key"))
		if code != http.StatusUnprocessableEntity || !regexp.MustCompile(`<div id="key-file-error" class="field-errors"><p class="field-error">[^<]*no PEM private key or JWK found`).MatchString(body) {
			t.Fatalf("bad file: %d\n%s", code, body)
		}

		code, body = readBody(hc.Get(s.AdminURL + "/console/clients?q=ALPHA"))
		if code != http.StatusOK || !strings.Contains(body, "Alpha one") || !strings.Contains(body, "alpha two") || strings.Contains(body, ">Beta<") {
			t.Fatalf("clients matching ALPHA (%d):\n%s", code, body)
		}
	})
}
