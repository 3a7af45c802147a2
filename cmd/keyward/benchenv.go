package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
)

// The scenarios of keyward bench, in the order they run.
var benchScenarios = []string{"token", "introspect", "introspect-fresh", "introspect-opaque",
	"introspect-opaque-many", "introspect-opaque-warm", "introspect-apikey", "verify", "verify-many",
	"verify-warm", "jwks", "discovery"}

const benchScenarioList = "token (client credentials, ES256 JWT), introspect (one JWT), " +
	"introspect-fresh (a JWT never introspected before on each request), introspect-opaque, " +
	"introspect-opaque-many (a different one of --tokens opaque tokens per request), " +
	"introspect-opaque-warm (introspect-opaque-many over a working set already read once), " +
	"introspect-apikey, verify (/v1/apikeys/verify, one key), verify-many (a different one of --keys per request), " +
	"verify-warm (verify-many over a working set already verified once), " +
	"jwks, discovery"

// benchEnv is a running bench server with its client, keys and tokens.
type benchEnv struct {
	base, clientID, secret, opaqueID, opaqueSecret string
	apiKeys                                        []string
	callers                                        []benchCaller // who the -many and -warm scenarios authenticate as, in turn
	opaque                                         *tokenFile    // the seeded opaque tokens (nil: none)
	seeded                                         time.Duration
	httpc                                          *http.Client
	conns                                          int
	duration                                       time.Duration
	hello                                          func() error
	close                                          func()
}

// benchCaller is a confidential client's id and secret.
type benchCaller struct{ id, secret string }

// caller returns the i-th caller of --clients, in turn.
func (e *benchEnv) caller(i int) benchCaller { return e.callers[i%len(e.callers)] }

// errPoolDone ends a scenario early: every prepared item has been used.
var errPoolDone = errors.New("bench: pool used up")

// benchServer seeds a scratch database and starts a server and the hello
// handler on loopback.
func (m *Main) benchServer(ctx context.Context, dbURL string, conns, nkeys, ntokens, nclients int, d time.Duration) (*benchEnv, error) {
	dir, err := os.MkdirTemp("", "keyward-bench-")
	if err != nil {
		return nil, err
	}
	cleanup := []func(){func() { os.RemoveAll(dir) }}
	env := &benchEnv{httpc: benchHTTPClient(conns), conns: conns, duration: d,
		close: func() {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}}
	fail := func(err error) (*benchEnv, error) { env.close(); return nil, err }
	secret := benchSecret()

	setup := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard}
	setup.Config.DataDir, setup.Config.Format, setup.Config.JWKSMaxAge = dir, "json", signing.DefaultJWKSMaxAge
	setup.Config.DatabaseURL, setup.Config.Secret = dbURL, secret
	db, sec, err := setup.openMigrated(ctx)
	if err != nil {
		return fail(err)
	}
	reg, err := newClients(db, sec, newAuditor(db), nil)
	if err != nil {
		setup.Close()
		return fail(err)
	}
	c, cs, err := reg.Create(ctx, clients.Params{Name: "bench", Scopes: []string{"read"}})
	if err == nil {
		env.clientID, env.secret = c.ID, cs
		c, cs, err = reg.Create(ctx, clients.Params{Name: "bench-opaque", Scopes: []string{"read"}, AccessTokenFormat: "opaque"})
	}
	if err == nil {
		env.opaqueID, env.opaqueSecret = c.ID, cs
		env.callers = []benchCaller{{env.clientID, env.secret}}
		for i := 1; i < nclients && err == nil; i++ {
			c, cs, err = reg.Create(ctx, clients.Params{Name: fmt.Sprintf("bench-%d", i), Scopes: []string{"read"}})
			if err == nil {
				env.callers = append(env.callers, benchCaller{c.ID, cs})
			}
		}
	}
	if err == nil {
		env.apiKeys, err = seedAPIKeys(ctx, db, sec, nkeys, m.progressOut())
	}
	if err == nil && ntokens > 0 {
		env.opaque, env.seeded, err = seedOpaqueTokens(ctx, db, sec, env.opaqueID, ntokens, dir, m.progressOut())
		if env.opaque != nil {
			cleanup = append(cleanup, func() { env.opaque.f.Close() })
		}
	}
	setup.Close()
	if err != nil {
		return fail(err)
	}
	// Seeding's garbage would count in the first scenario's RSS.
	runtime.GC()
	debug.FreeOSMemory()

	pub, err := listenLoopback()
	if err != nil {
		return fail(err)
	}
	adm, err := listenLoopback()
	if err != nil {
		pub.Close()
		return fail(err)
	}
	started := make(chan *Server, 1)
	srv := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Started: started,
		PublicListener: pub, AdminListener: adm}
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	args := []string{"serve", "--data-dir", dir, "--issuer", "http://" + pub.Addr().String(),
		"--token-rate-limit", "-1", "--log-format", "json", "--secret", secret}
	if dbURL != "" {
		args = append(args, "--database-url", dbURL)
	}
	go func() {
		done <- srv.Run(sctx, args)
		srv.Close()
	}()
	select {
	case s := <-started:
		env.base = s.PublicURL
	case code := <-done:
		stop()
		return fail(fmt.Errorf("bench server exited with %d", code))
	}
	cleanup = append(cleanup, func() { stop(); <-done })

	helloLn, err := listenLoopback()
	if err != nil {
		return fail(err)
	}
	gin.SetMode(gin.ReleaseMode)
	h := gin.New()
	h.GET("/hello", func(c *gin.Context) { c.String(http.StatusOK, "hello") })
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(helloLn)
	cleanup = append(cleanup, func() { hs.Close() })
	env.hello = env.get("http://" + helloLn.Addr().String() + "/hello")
	return env, nil
}

// seedAPIKeys creates n API keys in transactions of a thousand, and
// returns them.
func seedAPIKeys(ctx context.Context, db database, secret keys.Secret, n int, progress io.Writer) ([]string, error) {
	ak, err := keys.New(keys.Config{Store: db, Secret: secret})
	if err != nil {
		return nil, err
	}
	defer ak.Close()
	out := make([]string, 0, n)
	for len(out) < n {
		err := db.InTx(ctx, func(ctx context.Context) error {
			for i := 0; i < 1000 && len(out) < n; i++ {
				_, raw, err := ak.Create(ctx, keys.CreateParams{Name: fmt.Sprintf("bench-%d", len(out)), Scopes: []string{"read"}})
				if err != nil {
					return err
				}
				out = append(out, raw)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if progress != nil && n > 1000 {
			fmt.Fprintf(progress, "\rseeding API keys: %d of %d", len(out), n)
		}
	}
	if progress != nil && n > 1000 {
		fmt.Fprintln(progress)
	}
	return out, nil
}

// scenario prepares name (tokens to introspect, say) and returns one
// request of it.
func (e *benchEnv) scenario(ctx context.Context, name string) (func() error, error) {
	form := "application/x-www-form-urlencoded"
	switch name {
	case "token":
		return e.post("/oauth2/token", form, e.clientID, e.secret, tokenForm), nil
	case "introspect":
		tok, err := e.token(e.clientID, e.secret)
		if err != nil {
			return nil, err
		}
		return e.post("/oauth2/introspect", form, e.clientID, e.secret, url.Values{"token": {tok}}.Encode()), nil
	case "introspect-fresh":
		return e.freshIntrospection(ctx)
	case "introspect-opaque":
		tok, err := e.token(e.opaqueID, e.opaqueSecret)
		if err != nil {
			return nil, err
		}
		return e.post("/oauth2/introspect", form, e.clientID, e.secret, url.Values{"token": {tok}}.Encode()), nil
	case "introspect-opaque-many":
		if e.opaque == nil || e.opaque.n == 0 {
			return nil, errors.New("no opaque tokens seeded")
		}
		// The seeded tokens must be active, or the run measures refusals.
		for _, i := range []int{0, e.opaque.n - 1} {
			b, err := e.opaque.body(i)
			if err == nil {
				err = e.wantActive(b)
			}
			if err != nil {
				return nil, err
			}
		}
		var next atomic.Int64
		return func() error {
			n := int(next.Add(1) - 1)
			b, err := e.opaque.body(n % e.opaque.n)
			if err != nil {
				return err
			}
			c := e.caller(n)
			return e.post("/oauth2/introspect", form, c.id, c.secret, b)()
		}, nil
	case "introspect-opaque-warm":
		if e.opaque == nil || e.opaque.n == 0 {
			return nil, errors.New("no opaque tokens seeded")
		}
		bodies := make([]string, min(e.opaque.n, benchWorkingSet))
		for i := range bodies {
			b, err := e.opaque.body(i)
			if err != nil {
				return nil, err
			}
			bodies[i] = b
		}
		return e.warmTour(ctx, "/oauth2/introspect", form, bodies)
	case "verify-warm":
		bodies := make([]string, min(len(e.apiKeys), benchWorkingSet))
		for i := range bodies {
			bodies[i] = `{"key":"` + e.apiKeys[i] + `","required_scope":"read"}`
		}
		return e.warmTour(ctx, "/v1/apikeys/verify", "application/json", bodies)
	case "introspect-apikey":
		return e.post("/oauth2/introspect", form, e.clientID, e.secret, url.Values{"token": {e.apiKeys[0]}}.Encode()), nil
	case "verify":
		return e.post("/v1/apikeys/verify", "application/json", e.clientID, e.secret, `{"key":"`+e.apiKeys[0]+`","required_scope":"read"}`), nil
	case "verify-many":
		var next atomic.Int64
		bodies := make([]string, len(e.apiKeys))
		for i, k := range e.apiKeys {
			bodies[i] = `{"key":"` + k + `","required_scope":"read"}`
		}
		return func() error {
			n := int(next.Add(1) - 1)
			c := e.caller(n)
			return e.post("/v1/apikeys/verify", "application/json", c.id, c.secret, bodies[n%len(bodies)])()
		}, nil
	case "jwks":
		return e.get(e.base + "/.well-known/jwks.json"), nil
	case "discovery":
		return e.get(e.base + "/.well-known/openid-configuration"), nil
	}
	return nil, fmt.Errorf("unknown scenario %q", name)
}

const tokenForm = "grant_type=client_credentials&scope=read"

// benchWorkingSet is how many of the seeded keys or tokens the -warm
// scenarios tour: well within what the API-key and opaque-token caches
// hold (50,000 each by default), so the measured tours find every one
// cached. It shows the rate "once warm" with --keys or --tokens of any
// size.
const benchWorkingSet = 20_000

// warmTour posts each of bodies once from every connection in turn (not
// measured), then returns a request that tours them again.
func (e *benchEnv) warmTour(ctx context.Context, path, ctype string, bodies []string) (func() error, error) {
	var next atomic.Int64
	one := func() error {
		n := int(next.Add(1) - 1)
		c := e.caller(n)
		return e.post(path, ctype, c.id, c.secret, bodies[n%len(bodies)])()
	}
	errc := make(chan error, e.conns)
	for range e.conns {
		go func() {
			for ctx.Err() == nil && next.Load() < int64(len(bodies)) {
				if err := one(); err != nil {
					errc <- err
					return
				}
			}
			errc <- ctx.Err()
		}()
	}
	var firstErr error
	for range e.conns {
		if err := <-errc; err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return one, firstErr
}

// freshTokens is how many tokens introspect-fresh mints first for a run
// of d (enough for 20,000 introspections a second, at most 60,000, more
// than the verified-token cache holds); the scenario ends early when each
// has been introspected once, so no answer comes from that cache.
func freshTokens(d time.Duration) int {
	return min(max(int(d.Seconds()*20_000), 1000), 60_000)
}

// freshIntrospection mints a pool of access tokens (in parallel, not
// measured), then introspects each exactly once.
func (e *benchEnv) freshIntrospection(ctx context.Context) (func() error, error) {
	pool := make([]string, freshTokens(e.duration))
	var next, failed atomic.Int64
	errc := make(chan error, e.conns)
	for range e.conns {
		go func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(pool)) {
					errc <- nil
					return
				}
				tok, err := e.token(e.clientID, e.secret)
				if err != nil && failed.Add(1) > 100 {
					errc <- err
					return
				}
				pool[i] = tok
			}
			errc <- ctx.Err()
		}()
	}
	var firstErr error
	for range e.conns {
		if err := <-errc; err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	var used atomic.Int64
	return func() error {
		i := used.Add(1) - 1
		if i >= int64(len(pool)) {
			return errPoolDone
		}
		if pool[i] == "" {
			return errors.New("no token minted")
		}
		return e.post("/oauth2/introspect", "application/x-www-form-urlencoded", e.clientID, e.secret,
			"token="+pool[i])()
	}, nil
}

// token gets a client-credentials access token.
func (e *benchEnv) token(id, secret string) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, e.base+"/oauth2/token", strings.NewReader(tokenForm))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := e.httpc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("token endpoint: status %d", resp.StatusCode)
	}
	return tok.AccessToken, nil
}

// post returns one POST of body to path, with Basic client
// authentication when id is set.
func (e *benchEnv) post(path, ctype, id, secret, body string) func() error {
	return func() error {
		req, _ := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if id != "" {
			req.SetBasicAuth(id, secret)
		}
		return e.do(req)
	}
}

// get returns one GET of u.
func (e *benchEnv) get(u string) func() error {
	return func() error {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		return e.do(req)
	}
}

func (e *benchEnv) do(req *http.Request) error {
	resp, err := e.httpc.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// wantActive introspects the token of body once and fails unless it is
// active.
func (e *benchEnv) wantActive(body string) error {
	req, _ := http.NewRequest(http.MethodPost, e.base+"/oauth2/introspect", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.clientID, e.secret)
	resp, err := e.httpc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var in struct {
		Active bool `json:"active"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil || !in.Active {
		return fmt.Errorf("a seeded opaque token does not introspect active (status %d)", resp.StatusCode)
	}
	return nil
}
