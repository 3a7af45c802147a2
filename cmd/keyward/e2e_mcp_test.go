package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// mcpSDKVersion is the @modelcontextprotocol/sdk (npm) TestE2EMCP runs.
const mcpSDKVersion = "1.32.2"

// mcpServer is docs/mcpserver, the MCP server of docs/MCP.md (the
// official Go SDK protected by authz/verify), built and running as its
// own process.
type mcpServer struct {
	url, resource, metadata string
}

// startMCPServer builds docs/mcpserver and runs it on a loopback port for
// the resource URL it returns, trusting issuer.
func startMCPServer(t *testing.T, addr, issuer string) *mcpServer {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mcpserver")
	if out, err := exec.Command("go", "build", "-o", bin, "../../docs/mcpserver").CombinedOutput(); err != nil {
		t.Fatalf("go build docs/mcpserver: %v\n%s", err, out)
	}
	m := &mcpServer{url: "http://" + addr + "/mcp"}
	m.resource = m.url
	m.metadata = "http://" + addr + "/.well-known/oauth-protected-resource/mcp"
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-issuer", issuer, "-resource", m.resource, "-addr", addr)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("MCP server output:\n%s", logs.String())
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(m.metadata); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the MCP server did not start:\n%s", logs.String())
		}
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// call posts an MCP initialize request with token to the MCP server and
// returns the status and WWW-Authenticate of the answer.
func (m *mcpServer) call(t *testing.T, token string) (int, string) {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`
	req, _ := http.NewRequest(http.MethodPost, m.url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	r := do(t, req)
	return r.status, r.header.Get("WWW-Authenticate")
}

// runMCPClient runs testdata/mcp_client.mjs (the MCP TypeScript SDK)
// against the MCP server: the browser b signs in as u and consents on the
// pages the SDK's authorization URL leads to, and the callback goes back
// to the script. It returns the script's result and the authorization URL.
func runMCPClient(t *testing.T, s *server, b *browser, u testUser, m *mcpServer, extraEnv ...string) (map[string]any, *authPages) {
	t.Helper()
	node, modules := npmPackage(t, "@modelcontextprotocol/sdk", mcpSDKVersion)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "mcp_client.mjs"))
	cmd.Env = append(append(os.Environ(), "MCP_SDK="+modules, "SERVER_URL="+m.url, "REDIRECT_URI="+e2eRedirect), extraEnv...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait() //nolint:errcheck // the script always exits 0; its errors are JSON
	out := bufio.NewScanner(stdout)
	out.Buffer(nil, 1<<20)
	read := func() map[string]any {
		t.Helper()
		if !out.Scan() {
			t.Fatalf("node ended early: %v\n%s", out.Err(), stderr.String())
		}
		var v map[string]any
		if err := json.Unmarshal(out.Bytes(), &v); err != nil {
			t.Fatalf("node printed %q: %v", out.Bytes(), err)
		}
		if v["error"] != nil {
			t.Fatalf("MCP TypeScript SDK: %v\nKeyward:\n%s", v["error"], s.logs.String())
		}
		return v
	}
	authURL, _ := read()["authorization_url"].(string)
	pages := &authPages{url: authURL}
	p := b.get(authURL)
	if pages.login = isLoginPage(t, p); pages.login {
		p = b.login(p, u)
	}
	if pages.consent = isConsentPage(t, p); pages.consent {
		pages.consentBody = p.body
		p = b.decide(p, "allow")
	}
	loc := p.location()
	if loc == nil {
		t.Fatalf("no redirect after consent: %d\n%.1500s", p.status, p.body)
	}
	fmt.Fprintln(stdin, loc.String())
	stdin.Close()
	return read(), pages
}

// authPages is what the browser saw of one authorization.
type authPages struct {
	url            string
	login, consent bool
	consentBody    string
}

// TestE2EMCP proves Keyward with the official MCP SDKs: an MCP server
// written with the Go SDK (docs/mcpserver, the walkthrough's program)
// protected by authz/verify, and the TypeScript SDK as the client, which
// starts with only the server's URL, discovers the RFC 9728 and RFC 8414
// metadata, registers — once with a Client ID Metadata Document, once by
// RFC 7591 dynamic registration (--registration open) — runs the
// authorization code flow with PKCE and resource (the test's browser
// signs in and consents), and calls the tool. A token for another
// resource is refused with 401 and a challenge naming the metadata, and
// a token without the tool's scope with 403 insufficient_scope naming it,
// from which the TypeScript SDK steps up to a token with the scope.
func TestE2EMCP(t *testing.T) {
	t.Parallel()
	h := newCIMDHost(t)
	e := sqliteEnv(t)
	e.configure = h.roots
	addr := freeAddr(t)
	const other = "https://other.example.com/mcp"
	resource := "http://" + addr + "/mcp"
	e.runJSON(&struct{}{}, "", "resources", "create", "--uri", resource, "--name", "Who am I", "--scope", "tools:call")
	e.runJSON(&struct{}{}, "", "resources", "create", "--uri", other, "--scope", "tools:call")
	alice := e.newUser("alice", "correct horse battery", "alice@example.com", "Alice Liddell")
	s := e.serve("--outbound-allow-private", "--registration", "open")
	m := startMCPServer(t, addr, s.PublicURL)

	// Unauthenticated: 401 naming the RFC 9728 metadata, which names Keyward.
	st, challenge := m.call(t, "")
	if st != http.StatusUnauthorized || challenge != `Bearer resource_metadata="`+m.metadata+`"` {
		t.Fatalf("no token: %d %q", st, challenge)
	}
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	code, body := get(t, m.metadata)
	if code != 200 || json.Unmarshal([]byte(body), &prm) != nil || prm.Resource != resource ||
		len(prm.AuthorizationServers) != 1 || prm.AuthorizationServers[0] != s.PublicURL {
		t.Fatalf("protected resource metadata: %d %s", code, body)
	}

	t.Run("client ID metadata document", func(t *testing.T) {
		docURL := h.url("/agents/mcp-client.json")
		h.docs["/agents/mcp-client.json"] = map[string]any{
			"client_id": docURL, "client_name": "MCP Agent", "redirect_uris": []string{e2eRedirect},
			"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
			"token_endpoint_auth_method": "none", "scope": "openid tools:call",
		}
		b := newBrowser(t, s)
		got, pages := runMCPClient(t, s, b, alice, m, "CLIENT_METADATA_URL="+docURL)
		checkMCPAuthorization(t, s, pages, docURL, resource)
		if !strings.Contains(pages.consentBody, "MCP Agent") ||
			!strings.Contains(pages.consentBody, `class="client-host-name">`+strings.TrimPrefix(h.srv.URL, "https://")+"<") {
			t.Errorf("the consent page does not name the document's client and host:\n%s", pages.consentBody)
		}
		checkMCPResult(t, got, docURL, alice, resource)
		if st := fmt.Sprint(got["statuses"]); !strings.HasPrefix(st, "[401 200") {
			t.Errorf("the MCP server answered %s, want 401 first, then 200s", st)
		}

		// A token for another resource, obtained by the same client
		// (golang.org/x/oauth2), is refused by the MCP server.
		r := newRP(t, s, clientInfo{ClientID: docURL}, "tools:call")
		a := r.authRequest(t, oauth2.SetAuthURLParam("resource", other))
		q, _, _ := r.authorize(t, b, s, alice, a)
		tok, err := r.cfg.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(a.verifier), oauth2.SetAuthURLParam("resource", other))
		if err != nil {
			t.Fatalf("exchange for %s: %v", other, err)
		}
		if aud, _ := jwtClaims(t, tok.AccessToken)["aud"].([]any); len(aud) != 1 || aud[0] != other {
			t.Fatalf("token for %s has aud %v", other, aud)
		}
		st, challenge := m.call(t, tok.AccessToken)
		want := `Bearer resource_metadata="` + m.metadata + `", error="invalid_token", error_description="The access token is meant for another audience."`
		if st != http.StatusUnauthorized || challenge != want {
			t.Errorf("token for another resource: %d %q, want 401 %q", st, challenge, want)
		}

		// Step-up: a token for the resource without tools:call is 403
		// insufficient_scope naming the scope to ask for (RFC 6750 §3.1).
		r = newRP(t, s, clientInfo{ClientID: docURL}, "openid")
		a = r.authRequest(t, oauth2.SetAuthURLParam("resource", resource))
		q, _, _ = r.authorize(t, b, s, alice, a)
		tok, err = r.cfg.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(a.verifier), oauth2.SetAuthURLParam("resource", resource))
		if err != nil {
			t.Fatalf("exchange without tools:call: %v", err)
		}
		st, challenge = m.call(t, tok.AccessToken)
		want = `Bearer resource_metadata="` + m.metadata + `", error="insufficient_scope", error_description="The access token lacks a required scope.", scope="tools:call"`
		if st != http.StatusForbidden || challenge != want {
			t.Errorf("token without tools:call: %d %q, want 403 %q", st, challenge, want)
		}
		// The TypeScript SDK holding that token steps up: it reads the
		// scope of the 403, authorizes again for it and calls the tool.
		got, pages = runMCPClient(t, s, b, alice, m, "CLIENT_ID="+docURL, "ACCESS_TOKEN="+tok.AccessToken)
		if u, _ := url.Parse(pages.url); u == nil || u.Query().Get("scope") != "tools:call" || !pages.consent {
			t.Errorf("step-up authorization %s (consent page %v)", pages.url, pages.consent)
		}
		checkMCPResult(t, got, docURL, alice, resource)
		if st := fmt.Sprint(got["statuses"]); !strings.HasPrefix(st, "[403 200") {
			t.Errorf("the MCP server answered %s, want 403 first, then 200s", st)
		}
	})

	t.Run("dynamic registration", func(t *testing.T) {
		b := newBrowser(t, s)
		got, pages := runMCPClient(t, s, b, alice, m)
		id, _ := got["client_id"].(string)
		if id == "" || strings.Contains(id, "://") {
			t.Fatalf("client_id %q: want one Keyward issued at registration", id)
		}
		checkMCPAuthorization(t, s, pages, id, resource)
		checkMCPResult(t, got, id, alice, resource)
		if st := fmt.Sprint(got["statuses"]); !strings.HasPrefix(st, "[401 200") {
			t.Errorf("the MCP server answered %s, want 401 first, then 200s", st)
		}
		var c struct {
			Registered bool   `json:"registered"`
			Name       string `json:"client_name"`
		}
		e.runJSON(&c, "", "clients", "get", id)
		if !c.Registered || c.Name != "Keyward e2e agent" {
			t.Errorf("clients get %s: registered %v, name %q", id, c.Registered, c.Name)
		}
	})
}

// checkMCPAuthorization checks the authorization request the MCP SDK
// made: Keyward's endpoint, the client, PKCE S256 and the resource.
func checkMCPAuthorization(t *testing.T, s *server, pages *authPages, clientID, resource string) {
	t.Helper()
	if !strings.HasPrefix(pages.url, s.PublicURL+"/oauth2/auth?") {
		t.Fatalf("authorization URL %q is not Keyward's", pages.url)
	}
	u, _ := http.NewRequest(http.MethodGet, pages.url, nil)
	q := u.URL.Query()
	if q.Get("client_id") != clientID || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		q.Get("resource") != resource || q.Get("scope") != "tools:call" {
		t.Errorf("authorization request %v", q)
	}
	if !pages.login || !pages.consent {
		t.Errorf("login page %v, consent page %v; want both", pages.login, pages.consent)
	}
}

// checkMCPResult checks what the TypeScript SDK got: the tool list, the
// tool's answer (the token's subject and client) and a token whose aud is
// exactly the resource.
func checkMCPResult(t *testing.T, got map[string]any, clientID string, u testUser, resource string) {
	t.Helper()
	tools, _ := got["tools"].([]any)
	res, _ := got["result"].(map[string]any)
	if got["client_id"] != clientID || len(tools) != 1 || tools[0] != "whoami" || got["is_error"] != false ||
		res["subject"] != u.ID || res["client_id"] != clientID {
		t.Errorf("MCP client result %v", got)
	}
	tok, _ := got["access_token"].(string)
	claims := jwtClaims(t, tok)
	if aud, _ := claims["aud"].([]any); len(aud) != 1 || aud[0] != resource {
		t.Errorf("access token aud %v, want exactly [%s]", claims["aud"], resource)
	}
	if claims["scope"] != "tools:call" {
		t.Errorf("access token scope %v", claims["scope"])
	}
}
