package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// openidClientVersion is the openid-client (npm) that
// TestE2EDeviceGrantOpenIDClient runs as the device.
const openidClientVersion = "6.8.9"

// TestE2EDeviceGrantOpenIDClient runs the device grant with openid-client,
// the most used OpenID client for JavaScript, by Node.js
// (testdata/device_openid_client.mjs): it discovers the server, starts the
// grant and polls while Chromium approves on the verification page; the
// tokens it gets (its own ID token validation included) are alice's. A
// second run is denied and ends with access_denied. On SQLite only: the
// x/oauth2 test runs both engines.
func TestE2EDeviceGrantOpenIDClient(t *testing.T) {
	t.Parallel()
	node, modules := npmPackage(t, "openid-client", openidClientVersion)
	browserCtx := startChromium(t)
	e := sqliteEnv(t)
	alice := e.newUser("alice", "correct horse battery staple", "alice@example.com", "Alice Liddell")
	tv := e.newClient("--name", "JS device", "--public", "--grant-type", grantDeviceURN, "--grant-type", "refresh_token",
		"--scope", "openid profile offline_access")
	rs := e.newClient("--name", "resource server", "--grant-type", "client_credentials")
	s := e.serve()
	m := discover(t, s)

	tab, problems := openTab(t, browserCtx)
	tab, cancelTab := context.WithTimeout(tab, 90*time.Second)
	defer cancelTab()

	// Approved.
	run := startOpenIDClient(t, node, modules, s.PublicURL, tv.ClientID, "openid profile offline_access")
	var first struct {
		Device struct {
			UserCode                string `json:"user_code"`
			VerificationURIComplete string `json:"verification_uri_complete"`
			Interval                int    `json:"interval"`
		} `json:"device"`
	}
	run.next(t, &first)
	if first.Device.UserCode == "" || first.Device.Interval != 5 {
		t.Fatalf("openid-client's device authorization response: %+v", first.Device)
	}
	if err := chromedp.Do(tab, chromedp.Navigate(first.Device.VerificationURIComplete), chromedp.WaitVisible(chromedp.CSS(cssContinue)),
		chromedp.Click(chromedp.CSS(cssContinue)), chromedp.WaitVisible(chromedp.CSS(cssPassword)),
		chromedp.SendKeys(chromedp.CSS(cssUsername), "alice"), chromedp.SendKeys(chromedp.CSS(cssPassword), alice.Password),
		chromedp.Click(chromedp.CSS(cssSignIn)), chromedp.WaitVisible(chromedp.CSS(cssAllow))); err != nil {
		t.Fatalf("verification page: %v\n%s", err, browserText(t, tab))
	}
	if text := browserText(t, tab); !strings.Contains(text, first.Device.UserCode) || !strings.Contains(text, "JS device") {
		t.Errorf("consent page: %s", text)
	}
	if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS(cssAllow)), chromedp.WaitVisible(`//h1[text()="Device connected"]`)); err != nil {
		t.Fatalf("allow: %v\n%s", err, browserText(t, tab))
	}
	var got struct {
		Tokens struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
			IDToken      string `json:"id_token"`
			Scope        string `json:"scope"`
		} `json:"tokens"`
		Claims  map[string]any `json:"claims"`
		Error   string         `json:"error"`
		Message string         `json:"message"`
	}
	run.next(t, &got)
	if got.Error != "" || got.Tokens.AccessToken == "" || got.Tokens.RefreshToken == "" || got.Tokens.IDToken == "" {
		t.Fatalf("openid-client's tokens: %+v", got)
	}
	if aud, _ := got.Claims["aud"].([]any); got.Claims["sub"] != alice.ID || got.Claims["iss"] != s.PublicURL ||
		len(aud) != 1 || aud[0] != tv.ClientID {
		t.Errorf("ID token claims as openid-client validated them: %v", got.Claims)
	}
	in := introspect(t, m, rs, got.Tokens.AccessToken)
	wantActive(t, "openid-client's access token", in)
	if in.str("sub") != alice.ID || in.str("client_id") != tv.ClientID {
		t.Errorf("introspection: %s", in.raw)
	}
	run.wait(t)

	// Denied.
	run = startOpenIDClient(t, node, modules, s.PublicURL, tv.ClientID, "openid")
	run.next(t, &first)
	if err := chromedp.Do(tab, chromedp.Navigate(first.Device.VerificationURIComplete), chromedp.WaitVisible(chromedp.CSS(cssContinue)),
		chromedp.Click(chromedp.CSS(cssContinue)), chromedp.WaitVisible(chromedp.CSS(cssDeny)),
		chromedp.Click(chromedp.CSS(cssDeny)), chromedp.WaitVisible(`//h1[text()="Access denied"]`)); err != nil {
		t.Fatalf("deny: %v\n%s", err, browserText(t, tab))
	}
	got.Error, got.Tokens.AccessToken = "", ""
	run.next(t, &got)
	if got.Error != "access_denied" || got.Tokens.AccessToken != "" {
		t.Errorf("openid-client after deny: %+v, want access_denied", got)
	}
	run.wait(t)

	for _, p := range problems() {
		t.Errorf("browser reported: %s", p)
	}
}

// openIDClientRun is one run of testdata/device_openid_client.mjs.
type openIDClientRun struct {
	cmd   *exec.Cmd
	lines chan string
}

// startOpenIDClient runs the script from a directory whose node_modules
// is modules (Node.js resolves ES module imports from the script's
// directory, not NODE_PATH).
func startOpenIDClient(t *testing.T, node, modules, issuer, clientID, scope string) *openIDClientRun {
	t.Helper()
	script := nodeScript(t, modules, "device_openid_client.mjs")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Env = append(os.Environ(), "KEYWARD_ISSUER="+issuer, "KEYWARD_CLIENT_ID="+clientID, "KEYWARD_SCOPE="+scope)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("node: %v", err)
	}
	r := &openIDClientRun{cmd: cmd, lines: make(chan string, 4)}
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

// next decodes the script's next line into v.
func (r *openIDClientRun) next(t *testing.T, v any) {
	t.Helper()
	select {
	case line, ok := <-r.lines:
		if !ok {
			t.Fatal("openid-client's script ended early")
		}
		if err := json.Unmarshal([]byte(line), v); err != nil {
			t.Fatalf("openid-client's script printed %q: %v", line, err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("openid-client's script printed nothing for a minute")
	}
}

func (r *openIDClientRun) wait(t *testing.T) {
	t.Helper()
	if err := r.cmd.Wait(); err != nil {
		t.Errorf("node: %v", err)
	}
}
