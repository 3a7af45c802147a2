package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// oauth4webapiVersion is the npm package TestE2EPAROauth4webapi runs.
const oauth4webapiVersion = "3.8.8"

// TestE2EPAROauth4webapi runs a real third-party client, oauth4webapi
// (npm, testdata/par_oauth4webapi.mjs on Node.js), against `keyward serve`:
// it pushes its request to the PAR endpoint, the test's browser signs in
// and consents with only client_id and request_uri, and the library
// validates the authorization response (state, iss) and the token
// response with its ID token (nonce) — for a confidential client that
// requires PAR and for a public one.
func TestE2EPAROauth4webapi(t *testing.T) {
	t.Parallel()
	node, modules := npmPackage(t, "oauth4webapi", oauth4webapiVersion)
	lib := filepath.Join(modules, "oauth4webapi", "build", "index.js")
	e := sqliteEnv(t)
	alice := e.newUser("alice", "correct horse battery", "alice@example.com", "Alice Liddell")
	conf := e.newClient("--name", "Bank", "--grant-type", "authorization_code", "--scope", "openid profile",
		"--redirect-uri", e2eRedirect, "--par-required")
	spa := e.newClient("--name", "SPA", "--public", "--scope", "openid profile", "--redirect-uri", e2eRedirect)
	s := e.serve()
	for _, c := range []clientInfo{conf, spa} {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "par_oauth4webapi.mjs"))
		cmd.Env = append(os.Environ(), "OAUTH4WEBAPI="+lib, "ISSUER="+s.PublicURL, "CLIENT_ID="+c.ClientID,
			"CLIENT_SECRET="+c.ClientSecret, "REDIRECT_URI="+e2eRedirect, "SCOPE=openid profile")
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatal(err)
		}
		out := bufio.NewScanner(stdout)
		read := func() map[string]any {
			if !out.Scan() {
				t.Fatalf("node ended early: %v\n%s", out.Err(), stderr.String())
			}
			var v map[string]any
			if err := json.Unmarshal(out.Bytes(), &v); err != nil {
				t.Fatalf("node printed %q: %v", out.Bytes(), err)
			}
			if v["error"] != nil {
				t.Fatalf("%s: oauth4webapi: %v", c.ClientID, v["error"])
			}
			return v
		}
		pushed := read()
		authURL, _ := pushed["authorization_url"].(string)
		if !strings.HasPrefix(authURL, s.PublicURL+"/oauth2/auth?") || strings.Contains(authURL, "code_challenge") {
			t.Fatalf("authorization URL %q", authURL)
		}
		b := newBrowser(t, s)
		p := b.get(authURL)
		if !isLoginPage(t, p) {
			t.Fatalf("want the login page, got %d:\n%.500s", p.status, p.body)
		}
		if p = b.login(p, alice); !isConsentPage(t, p) {
			t.Fatalf("want the consent page, got %d:\n%.500s", p.status, p.body)
		}
		p = b.decide(p, "allow")
		loc := p.location()
		if loc == nil {
			t.Fatalf("no redirect after consent: %d", p.status)
		}
		fmt.Fprintln(stdin, loc.String())
		stdin.Close()
		got := read()
		if got["access_token"] == "" || got["sub"] != alice.ID || got["nonce_ok"] != true || got["scope"] != "openid profile" {
			t.Errorf("%s: oauth4webapi's result %v", c.ClientID, got)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("node: %v\n%s", err, stderr.String())
		}
		cancel()
		if p := b.get(authURL); pageError(t, p) != "invalid_request_uri" {
			t.Errorf("%s: the request_uri worked twice: %d", c.ClientID, p.status)
		}
	}
}
