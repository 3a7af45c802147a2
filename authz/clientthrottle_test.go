package authz_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
)

// clientCall is one client-authenticated request to an endpoint.
type clientCall func(s *testServer, from, id, secret string) answer

// endpointCalls are the endpoints that authenticate clients, each called
// as a real client would (HTTP Basic, or the JSON body of the API-key
// verification).
var endpointCalls = map[string]clientCall{
	"token": func(s *testServer, from, id, secret string) answer {
		return s.browser(from).postBasic("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, id, secret)
	},
	"introspection": func(s *testServer, from, id, secret string) answer {
		return s.browser(from).postBasic("/oauth2/introspect", url.Values{"token": {"x"}}, id, secret)
	},
	"revocation": func(s *testServer, from, id, secret string) answer {
		return s.browser(from).postBasic("/oauth2/revoke", url.Values{"token": {"x"}}, id, secret)
	},
	"api-key verification": func(s *testServer, from, id, secret string) answer {
		b := s.browser(from)
		body, _ := json.Marshal(map[string]string{"key": "kw_live_x", "client_id": id, "client_secret": secret})
		req, _ := http.NewRequest(http.MethodPost, s.url+"/v1/apikeys/verify", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		return b.do(req)
	},
}

// postBasic posts form with HTTP Basic client authentication (RFC 6749
// §2.3.1: both parts form-encoded first).
func (b *testBrowser) postBasic(path string, form url.Values, id, secret string) answer {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.s.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return b.do(req)
}

// wantSlowDown fails unless a is 429 with Retry-After and an RFC 6749
// §5.2 error body.
func wantSlowDown(t *testing.T, what string, a answer) {
	t.Helper()
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if a.status != http.StatusTooManyRequests || json.Unmarshal([]byte(a.body), &body) != nil || body.Error == "" || body.Description == "" {
		t.Fatalf("%s: %d %s, want 429 with an RFC 6749 error body", what, a.status, a.body)
	}
	if ra, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("%s: Retry-After %q", what, a.header.Get("Retry-After"))
	}
}

// failUntilThrottled sends wrong secrets for id from address from until
// the endpoint answers 429, and returns how many 401s came first.
func failUntilThrottled(t *testing.T, s *testServer, call clientCall, from, id string) int {
	t.Helper()
	for i := range 200 {
		a := call(s, from, id, "not-the-secret")
		switch a.status {
		case http.StatusUnauthorized:
			continue
		case http.StatusTooManyRequests:
			wantSlowDown(t, "throttled failure", a)
			return i
		default:
			t.Fatalf("wrong secret %d: %d %s", i, a.status, a.body)
		}
	}
	t.Fatalf("200 wrong secrets for %s from %s: never 429", id, from)
	return 0
}

// TestClientAuthThrottle: failed client authentication is throttled at
// every endpoint that authenticates clients: after a few failures for one
// client from one address, that address gets 429 with Retry-After for
// that client, before any credential is checked, while the client itself
// keeps working from its own address. Failures are audited, one event per
// client per window however many there are.
func TestClientAuthThrottle(t *testing.T) {
	s := newTestServer(t, authztest.Options{TokenRate: -1})
	i := 0
	for name, call := range endpointCalls {
		i++
		attacker, owner := "192.0.2."+strconv.Itoa(i), "198.51.100."+strconv.Itoa(i)
		t.Run(name, func(t *testing.T) {
			id, secret := s.client(clients.Params{Name: name, Scopes: []string{"read"}})
			if n := failUntilThrottled(t, s, call, attacker, id); n < 3 {
				t.Errorf("only %d failures answered invalid_client before 429", n)
			}
			// The throttled address is refused even with the right secret:
			// it is not checked.
			wantSlowDown(t, "the right secret from the throttled address", call(s, attacker, id, secret))
			// The client is not locked out: from its own address it works.
			if a := call(s, owner, id, secret); a.status != http.StatusOK {
				t.Fatalf("the client from its own address: %d %s", a.status, a.body)
			}
			if a := call(s, owner, id, "not-the-secret"); a.status != http.StatusUnauthorized {
				t.Errorf("one wrong secret from another address: %d, want 401", a.status)
			}
		})
	}

	// Failures for one client id: audited once per window, not each time.
	events, _, err := s.st.DB.ListAudit(context.Background(), store.AuditFilter{}, store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, e := range events {
		if e.Type == "client.authentication_failed" {
			per[e.Subject]++
			var data map[string]any
			if err := json.Unmarshal(e.Data, &data); err != nil || data["address"] == nil || data["failures"] == nil {
				t.Errorf("audit event data %s", e.Data)
			}
		}
	}
	if len(per) != len(endpointCalls) {
		t.Errorf("audit: failures recorded for %d clients, want %d: %v", len(per), len(endpointCalls), per)
	}
	for id, n := range per {
		if n != 1 {
			t.Errorf("audit: %d events for client %s, want 1 per window", n, id)
		}
	}
}

// TestClientAuthThrottleAddress: an address that fails for many client ids
// (guessing ids, or secrets of many clients) is throttled for every
// client, even a real one with its right secret, so a flood of unknown ids
// cannot reach the database; other addresses are not affected. The
// failures for unknown ids are audited once per window.
func TestClientAuthThrottleAddress(t *testing.T) {
	s := newTestServer(t, authztest.Options{TokenRate: -1})
	id, secret := s.client(clients.Params{Name: "real", Scopes: []string{"read"}})
	token := endpointCalls["token"]
	const spray = "203.0.113.7"
	throttled := false
	for i := range 500 {
		a := token(s, spray, "guess-"+strconv.Itoa(i), "x")
		if a.status == http.StatusTooManyRequests {
			wantSlowDown(t, "spraying client ids", a)
			throttled = true
			break
		}
		if a.status != http.StatusUnauthorized {
			t.Fatalf("unknown client %d: %d %s", i, a.status, a.body)
		}
	}
	if !throttled {
		t.Fatal("500 unknown client ids from one address: never 429")
	}
	wantSlowDown(t, "a real client from the spraying address", token(s, spray, id, secret))
	if a := token(s, "198.51.100.2", id, secret); a.status != http.StatusOK {
		t.Fatalf("the real client from elsewhere: %d %s", a.status, a.body)
	}
	events, _, err := s.st.DB.ListAudit(context.Background(), store.AuditFilter{}, store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Type == "client.authentication_failed" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d audit events for failures with unknown client ids, want 1 per window", n)
	}
}
