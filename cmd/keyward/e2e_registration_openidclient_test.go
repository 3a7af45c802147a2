package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestE2ERegistrationOpenIDClient: openid-client (npm), an independent
// client, registers two clients with dynamicClientRegistration and an
// initial access token (testdata/registration_openid_client.mjs): the
// confidential one gets a client-credentials token that introspects
// active, the public one signs alice in with the authorization code grant
// and PKCE, openid-client validating the ID token. Then RFC 7592 reads
// and deletes the public registration with raw HTTP. SQLite only.
func TestE2ERegistrationOpenIDClient(t *testing.T) {
	t.Parallel()
	node, modules := npmPackage(t, "openid-client", openidClientVersion)
	e := sqliteEnv(t)
	alice := e.newUser("alice", "correct horse battery staple", "alice@example.com", "Alice Liddell")
	rs := e.newClient("--name", "resource server", "--grant-type", "client_credentials")
	var tok initialTokenView
	e.runJSON(&tok, "", "registration-tokens", "create", "--uses", "2")
	s := e.serve()
	m := discover(t, s)

	run := startRegistrationScript(t, node, modules, s.PublicURL, tok.Token)
	type registered struct {
		ClientID                string `json:"client_id"`
		ClientSecret            string `json:"client_secret"`
		RegistrationAccessToken string `json:"registration_access_token"`
		RegistrationClientURI   string `json:"registration_client_uri"`
	}
	var batch struct {
		Registered registered `json:"registered"`
		Tokens     struct {
			AccessToken string `json:"access_token"`
		} `json:"tokens"`
		Error, Message string
	}
	run.next(t, &batch)
	if batch.Error != "" || batch.Registered.ClientSecret == "" || batch.Tokens.AccessToken == "" {
		t.Fatalf("openid-client, confidential registration: %+v", batch)
	}
	in := introspect(t, m, rs, batch.Tokens.AccessToken)
	wantActive(t, "the registered client's access token", in)
	if in.str("client_id") != batch.Registered.ClientID || in.str("scope") != "export" {
		t.Errorf("introspection: %s", in.raw)
	}

	var app struct {
		Registered       registered `json:"registered"`
		AuthorizationURL string     `json:"authorization_url"`
		Error, Message   string
	}
	run.next(t, &app)
	if app.Error != "" || app.Registered.ClientSecret != "" || app.AuthorizationURL == "" {
		t.Fatalf("openid-client, public registration: %+v", app)
	}
	b := newBrowser(t, s)
	p := b.get(app.AuthorizationURL)
	if !isLoginPage(t, p) {
		t.Fatalf("no login page: %d %.300s", p.status, p.body)
	}
	p = b.login(p, alice)
	if !isConsentPage(t, p) {
		t.Fatalf("no consent page for the registered client: %d %.300s", p.status, p.body)
	}
	q := callback(t, b.decide(p, "allow"), e2eRedirect)
	run.send(t, e2eRedirect+"?"+q.Encode())
	var got struct {
		Tokens struct {
			AccessToken string `json:"access_token"`
			IDToken     string `json:"id_token"`
		} `json:"tokens"`
		Claims         map[string]any `json:"claims"`
		Error, Message string
	}
	run.next(t, &got)
	if got.Error != "" || got.Tokens.IDToken == "" || got.Claims["sub"] != alice.ID || got.Claims["iss"] != s.PublicURL {
		t.Fatalf("openid-client's code grant: %+v", got)
	}
	run.wait(t)

	// RFC 7592 on openid-client's registration, with raw HTTP.
	uri, rat := app.Registered.RegistrationClientURI, app.Registered.RegistrationAccessToken
	r := regCall(t, "GET", uri, rat, "", "")
	wantReply(t, "read", r, 200, "")
	if r.str("client_name") != "openid-client app" || r.str("token_endpoint_auth_method") != "none" {
		t.Errorf("read: %s", r.raw)
	}
	wantReply(t, "delete", regCall(t, "DELETE", uri, rat, "", ""), 204, "")
	wantReply(t, "read after delete", regCall(t, "GET", uri, rat, "", ""), 401, "invalid_token")
	wantInactive(t, "the deleted client's access token", introspect(t, m, rs, got.Tokens.AccessToken))
}

// registrationScript is one run of testdata/registration_openid_client.mjs.
type registrationScript struct {
	openIDClientRun
	stdin io.WriteCloser
}

func startRegistrationScript(t *testing.T, node, modules, issuer, initialToken string) *registrationScript {
	t.Helper()
	script := nodeScript(t, modules, "registration_openid_client.mjs")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Env = append(os.Environ(), "KEYWARD_ISSUER="+issuer, "KEYWARD_INITIAL_TOKEN="+initialToken,
		"KEYWARD_REDIRECT_URI="+e2eRedirect)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("node: %v", err)
	}
	r := &registrationScript{openIDClientRun: openIDClientRun{cmd: cmd, lines: make(chan string, 4)}, stdin: in}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		close(r.lines)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node stderr:\n%s", stderr.String())
		}
	})
	return r
}

// send writes one line to the script's standard input.
func (r *registrationScript) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(r.stdin, line+"\n"); err != nil {
		t.Fatal(err)
	}
}
