package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2/clientcredentials"
)

// TestE2EGroupCommittedTokens: opaque tokens issued by many concurrent
// client-credentials requests (golang.org/x/oauth2) are written in group
// commits, and each is stored as its own: all distinct, and every one
// active when introspected at another instance of the same database,
// which has none of them cached and reads each from the store. The
// group commits show in keyward_store_commit_records, whose records add
// up to at least the tokens issued.
func TestE2EGroupCommittedTokens(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		svc := e.newClient("--name", "svc", "--grant-type", "client_credentials", "--scope", "read",
			"--access-token-format", "opaque")
		rs := e.newClient("--name", "rs", "--grant-type", "client_credentials", "--scope", "read")
		issuer := e.serve()
		reader := e.serve("--issuer", issuer.PublicURL)
		conf := &clientcredentials.Config{ClientID: svc.ClientID, ClientSecret: svc.ClientSecret,
			TokenURL: issuer.PublicURL + "/oauth2/token", Scopes: []string{"read"}}
		const n = 64
		tokens := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				tok, err := conf.Token(context.Background())
				if err == nil {
					tokens[i] = tok.AccessToken
				}
				errs[i] = err
			})
		}
		wg.Wait()
		seen := map[string]bool{}
		for i, tok := range tokens {
			if errs[i] != nil {
				t.Fatalf("token request %d: %v", i, errs[i])
			}
			if !strings.HasPrefix(tok, "kw_at_") || seen[tok] {
				t.Fatalf("token %d: %q (an opaque token, once)", i, tok)
			}
			seen[tok] = true
		}
		for i, tok := range tokens {
			r := postForm(t, reader.PublicURL+"/oauth2/introspect", url.Values{"token": {tok}}, rs.ClientID, rs.ClientSecret)
			if r.status != http.StatusOK {
				t.Fatalf("introspect %d: %d %s", i, r.status, r.raw)
			}
			wantActive(t, "a group-committed token at another instance", r)
			if r.json["client_id"] != svc.ClientID || r.json["scope"] != "read" {
				t.Errorf("token %d: %s", i, r.raw)
			}
		}
		sc := scrapeMetrics(t, issuer)
		commits := sc.value(t, `keyward_store_commit_records_count{committer="token_records"}`)
		records := sc.value(t, `keyward_store_commit_records_sum{committer="token_records"}`)
		if commits < 1 || records < n || commits > records {
			t.Errorf("keyward_store_commit_records: %v commits of %v records for %d tokens", commits, records, n)
		}
		t.Logf("%d tokens in %v group commits", n, commits)
	})
}

// TestE2EGroupCommittedRotations: refresh tokens of many grants used at
// once (golang.org/x/oauth2, one goroutine each) rotate in group commits,
// each grant all or none: every refresh succeeds with a new pair, the used
// refresh token is inactive and the new one active at another instance of
// the same database, and the new refresh token refreshes again.
func TestE2EGroupCommittedRotations(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		a := newAuthCodeSetup(t, e)
		reader := e.serve("--issuer", a.s.PublicURL)
		r := newRP(t, a.s, a.conf, "openid")
		b := newBrowser(t, a.s)
		const n = 12
		first := make([]string, n)
		for i := range first {
			tok, _, _, _ := r.codeFlow(t, b, a.s, a.alice)
			first[i] = tok.RefreshToken
		}
		next := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				tok, err := r.refresh(first[i])
				if err == nil {
					next[i] = tok.RefreshToken
				}
				errs[i] = err
			})
		}
		wg.Wait()
		at := func(tok string) reply {
			t.Helper()
			rep := postForm(t, reader.PublicURL+"/oauth2/introspect", url.Values{"token": {tok}},
				a.conf.ClientID, a.conf.ClientSecret)
			if rep.status != http.StatusOK {
				t.Fatalf("introspect: %d %s", rep.status, rep.raw)
			}
			return rep
		}
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("refresh of grant %d: %v", i, errs[i])
			}
			if next[i] == "" || next[i] == first[i] {
				t.Fatalf("grant %d: no new refresh token", i)
			}
			wantInactive(t, "a refresh token used in a group commit", at(first[i]))
			wantActive(t, "its successor", at(next[i]))
			if _, err := r.refresh(next[i]); err != nil {
				t.Errorf("grant %d: refreshing with the successor: %v", i, err)
			}
		}
	})
}
