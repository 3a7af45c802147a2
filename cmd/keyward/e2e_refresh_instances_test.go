package main

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// TestRefreshGraceAcrossInstances: two tabs refreshing with the same token
// through two instances (one PostgreSQL) get the same new pair, whether
// one after the other or at the same moment; revoking the grant ends the
// grace at once.
func TestRefreshGraceAcrossInstances(t *testing.T) {
	t.Parallel()
	e := postgresEnv(t)
	a := newAuthCodeSetup(t, e, "--refresh-grace", "30s")
	other := e.serve("--issuer", a.s.PublicURL, "--refresh-grace", "30s")
	r := newRP(t, a.s, a.conf, "openid", "profile")
	refreshAt := func(s *server, rt string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, s.PublicURL+"/oauth2/token",
			strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(a.conf.ClientID, a.conf.ClientSecret)
		return sendJSON(t, req)
	}

	// One after the other, on different instances.
	tok0, _, _, _ := r.codeFlow(t, newBrowser(t, a.s), a.s, a.alice)
	code1, first := refreshAt(a.s, tok0.RefreshToken)
	code2, second := refreshAt(other, tok0.RefreshToken)
	if code1 != 200 || code2 != 200 || first["refresh_token"] != second["refresh_token"] || first["access_token"] != second["access_token"] {
		t.Fatalf("sequential tabs: %d %d; same pair: %v", code1, code2, first["refresh_token"] == second["refresh_token"])
	}

	// At the same moment, on different instances.
	rt := first["refresh_token"].(string)
	var (
		wg      sync.WaitGroup
		answers [2]map[string]any
		codes   [2]int
	)
	for i, s := range []*server{a.s, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], answers[i] = refreshAt(s, rt)
		}()
	}
	wg.Wait()
	if codes[0] != 200 || codes[1] != 200 || answers[0]["refresh_token"] != answers[1]["refresh_token"] {
		t.Fatalf("racing tabs: %d %d %v / %v", codes[0], codes[1], answers[0]["error"], answers[1]["error"])
	}

	// Revoking the grant ends the grace: the old token no longer answers.
	newest := answers[0]["refresh_token"].(string)
	req, _ := http.NewRequest(http.MethodPost, a.s.PublicURL+"/oauth2/revoke",
		strings.NewReader(url.Values{"token": {newest}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(a.conf.ClientID, a.conf.ClientSecret)
	if code, _ := sendJSON(t, req); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	for _, s := range []*server{a.s, other} {
		if code, body := refreshAt(s, rt); code == 200 {
			t.Errorf("a grace answer outlived the revoked grant: %v", body)
		}
	}
}
