//go:build reliability

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// op is one kind of request of the reliability suite's mixed traffic.
type op string

const (
	opToken      op = "client_credentials"
	opIntrospect op = "introspect_jwt"
	opVerify     op = "apikey_verify"
	opKeyInspect op = "introspect_apikey"
	opExchange   op = "exchange_apikey"
	opRefresh    op = "refresh"
	opRevoke     op = "revoke"
	opAdmin      op = "admin_list_apikeys"
)

// mix is the traffic: each op with its weight (percent).
var mix = []struct {
	op     op
	weight int
}{
	{opToken, 23}, {opIntrospect, 25}, {opVerify, 25}, {opKeyInspect, 5},
	{opExchange, 5}, {opRefresh, 10}, {opRevoke, 5}, {opAdmin, 2},
}

func pickOp() op {
	n := rand.IntN(100)
	for _, m := range mix {
		if n < m.weight {
			return m.op
		}
		n -= m.weight
	}
	return opToken
}

// record is one request: when, what came back, and whether it was the
// right answer (the positive one: every token, key and refresh token the
// traffic uses is valid).
type record struct {
	op         op
	start, end time.Time
	status     int // 0: no answer (a timeout or a connection error)
	right      bool
	retryAfter bool
	detail     string
}

// traffic drives 32 (or more) workers against every instance at random.
// Each worker owns one refresh-token chain; the access tokens issued by
// client credentials are shared for introspection. Revocation tests use
// tokens of their own, so nobody else ever expects them active.
type traffic struct {
	servers []*server
	http    *http.Client
	rs      clientInfo // a confidential client: client credentials, introspection, verification
	web     clientInfo // the authorization-code client of the refresh chains
	keys    []string   // valid API keys
	cold    []string   // valid API keys first used during the outage (never cached before)
	admin   string     // an access token with the keyward:admin scope

	// short makes every request time out after hangLimit (the outage).
	short atomic.Bool

	mu      sync.Mutex
	issued  []string // access tokens answered 200
	revoked []string // access tokens whose revocation answered 200
	chains  []string // each worker's current refresh token
	recs    [][]record
}

// hangLimit is the longest a request may take during the outage.
const hangLimit = 3 * time.Second

func newTraffic(servers []*server, rs, web clientInfo, keys, cold []string, admin string, chains []string) *traffic {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128, IdleConnTimeout: time.Minute}
	return &traffic{servers: servers, http: &http.Client{Transport: tr}, rs: rs, web: web, keys: keys, cold: cold,
		admin: admin, chains: chains, recs: make([][]record, len(chains))}
}

// key returns a valid API key: now and then, once the outage has begun,
// one that no instance has cached (which must then be 503, never
// NOT_FOUND).
func (tf *traffic) key() string {
	if tf.short.Load() && rand.IntN(5) == 0 {
		return tf.cold[rand.IntN(len(tf.cold))]
	}
	return tf.keys[rand.IntN(len(tf.keys))]
}

// run runs every worker until stop ends; a request in flight then is
// finished, never cancelled (a refresh cut short may have rotated the
// token on the server while the worker keeps the old one).
func (tf *traffic) run(stop context.Context) {
	var wg sync.WaitGroup
	for w := range tf.chains {
		wg.Go(func() {
			for stop.Err() == nil {
				tf.recs[w] = append(tf.recs[w], tf.do(context.Background(), w, pickOp()))
			}
		})
	}
	wg.Wait()
}

// records returns every record so far, and forgets them.
func (tf *traffic) records() []record {
	var all []record
	for w := range tf.recs {
		all = append(all, tf.recs[w]...)
		tf.recs[w] = nil
	}
	return all
}

// answer is one HTTP answer.
type answer struct {
	status int
	header http.Header
	json   map[string]any
	err    error
}

func (a answer) str(k string) string { s, _ := a.json[k].(string); return s }

// post sends a form (or JSON when body is a []byte) to one instance at
// random with HTTP Basic client authentication.
func (tf *traffic) post(ctx context.Context, path string, body any, c clientInfo) answer {
	var rd io.Reader
	ct := "application/x-www-form-urlencoded"
	switch b := body.(type) {
	case url.Values:
		rd = strings.NewReader(b.Encode())
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	}
	s := tf.servers[rand.IntN(len(tf.servers))]
	req, err := http.NewRequest(http.MethodPost, s.PublicURL+path, rd)
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Content-Type", ct)
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	return tf.send(ctx, req)
}

// adminGet reads path of the admin API of one instance at random with
// the admin access token.
func (tf *traffic) adminGet(ctx context.Context, path string) answer {
	s := tf.servers[rand.IntN(len(tf.servers))]
	req, err := http.NewRequest(http.MethodGet, s.AdminURL+path, nil)
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+tf.admin)
	return tf.send(ctx, req)
}

// send sends req within the time limit of the phase and decodes the answer.
func (tf *traffic) send(ctx context.Context, req *http.Request) answer {
	limit := 10 * time.Second
	if tf.short.Load() {
		limit = hangLimit
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	resp, err := tf.http.Do(req.WithContext(ctx))
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, err: err}
	_ = json.Unmarshal(raw, &a.json)
	return a
}

// do runs one request of kind o for worker w and records it.
func (tf *traffic) do(ctx context.Context, w int, o op) record {
	r := record{op: o, start: time.Now()}
	var a answer
	switch o {
	case opToken:
		a = tf.token(ctx)
		if r.right = a.status == 200 && a.str("access_token") != ""; r.right {
			tf.mu.Lock()
			tf.issued = append(tf.issued, a.str("access_token"))
			tf.mu.Unlock()
		}
	case opIntrospect:
		tok := tf.anyIssued()
		if tok == "" {
			return tf.do(ctx, w, opToken)
		}
		a = tf.introspect(ctx, tok)
		r.right = a.status == 200 && a.json["active"] == true
	case opVerify:
		a = tf.verify(ctx, tf.key())
		r.right = a.status == 200 && a.json["valid"] == true && a.str("code") == "VALID"
	case opKeyInspect:
		a = tf.introspect(ctx, tf.key())
		r.right = a.status == 200 && a.json["active"] == true && a.str("token_type") == "api_key"
	case opExchange:
		a = tf.post(ctx, "/oauth2/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"subject_token_type": {"urn:keyward:token-type:api_key"}, "subject_token": {tf.key()}}, tf.rs)
		r.right = a.status == 200 && a.str("access_token") != ""
	case opRefresh:
		a = tf.refresh(ctx, tf.chains[w])
		if r.right = a.status == 200 && a.str("refresh_token") != ""; r.right {
			tf.chains[w] = a.str("refresh_token") // only worker w touches chains[w]
		}
	case opAdmin:
		a = tf.adminGet(ctx, "/admin/v1/apikeys?limit=5")
		r.right = a.status == 200 && a.json["items"] != nil
	case opRevoke:
		// A token of its own: issued, then revoked.
		if a = tf.token(ctx); a.status != 200 {
			break
		}
		tok := a.str("access_token")
		a = tf.post(ctx, "/oauth2/revoke", url.Values{"token": {tok}}, tf.rs)
		if r.right = a.status == 200; r.right {
			tf.mu.Lock()
			tf.revoked = append(tf.revoked, tok)
			tf.mu.Unlock()
		}
	}
	r.end, r.status = time.Now(), a.status
	r.retryAfter = a.header.Get("Retry-After") != ""
	if !r.right {
		r.detail = describe(a)
	}
	return r
}

func describe(a answer) string {
	if a.err != nil {
		return a.err.Error()
	}
	b, _ := json.Marshal(a.json)
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

func (tf *traffic) token(ctx context.Context) answer {
	return tf.post(ctx, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}, tf.rs)
}

func (tf *traffic) introspect(ctx context.Context, token string) answer {
	return tf.post(ctx, "/oauth2/introspect", url.Values{"token": {token}}, tf.rs)
}

func (tf *traffic) verify(ctx context.Context, key string) answer {
	b, _ := json.Marshal(map[string]string{"key": key, "required_scope": "read"})
	return tf.post(ctx, "/v1/apikeys/verify", b, tf.rs)
}

func (tf *traffic) refresh(ctx context.Context, rt string) answer {
	return tf.post(ctx, "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, tf.web)
}

func (tf *traffic) anyIssued() string {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if len(tf.issued) == 0 {
		return ""
	}
	return tf.issued[rand.IntN(len(tf.issued))]
}
