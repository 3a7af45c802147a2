package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
)

// benchScenario is one scenario of keyward bench. To add one, add an entry
// to benchScenarios: its name, what one request of it is (the usage text
// lists it), and prepare, which readies it against the running server
// (minting tokens, say; not measured) and returns one request. A scenario
// that needs data seeded before the server starts reads it from benchEnv
// (seedAPIKeys, seedOpaqueTokens).
type benchScenario struct {
	name, about string
	prepare     func(e *benchEnv, ctx context.Context) (func() error, error)
}

// The scenarios of keyward bench, in the order they run.
var benchScenarios = []benchScenario{
	{"token", "client credentials, ES256 JWT", func(e *benchEnv, _ context.Context) (func() error, error) {
		return e.post("/oauth2/token", formType, e.clientID, e.secret, tokenForm), nil
	}},
	{"token-opaque", "client credentials, opaque token (a record written each)", func(e *benchEnv, _ context.Context) (func() error, error) {
		return e.post("/oauth2/token", formType, e.opaqueID, e.opaqueSecret, tokenForm), nil
	}},
	{"refresh", "refresh-token grant, rotated: a grant per connection, each request refreshing the token the one before got", (*benchEnv).refreshChains},
	{"introspect", "one JWT", func(e *benchEnv, _ context.Context) (func() error, error) {
		return e.introspectTokenOf(e.clientID, e.secret)
	}},
	{"introspect-fresh", "a JWT never introspected before on each request", (*benchEnv).freshIntrospection},
	{"introspect-opaque", "one opaque token", func(e *benchEnv, _ context.Context) (func() error, error) {
		return e.introspectTokenOf(e.opaqueID, e.opaqueSecret)
	}},
	{"introspect-opaque-many", "a different one of --tokens opaque tokens per request", (*benchEnv).opaqueTour},
	{"introspect-opaque-warm", "introspect-opaque-many over a working set already read once", func(e *benchEnv, ctx context.Context) (func() error, error) {
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
		return e.warmTour(ctx, "/oauth2/introspect", formType, bodies)
	}},
	{"introspect-apikey", "one API key", func(e *benchEnv, _ context.Context) (func() error, error) {
		return e.post("/oauth2/introspect", formType, e.clientID, e.secret, url.Values{"token": {e.apiKeys[0]}}.Encode()), nil
	}},
	{"verify", "/v1/apikeys/verify, one key", func(e *benchEnv, _ context.Context) (func() error, error) {
		return e.post("/v1/apikeys/verify", "application/json", e.clientID, e.secret, verifyBody(e.apiKeys[0])), nil
	}},
	{"verify-many", "a different one of --keys per request", func(e *benchEnv, _ context.Context) (func() error, error) {
		bodies := make([]string, len(e.apiKeys))
		for i, k := range e.apiKeys {
			bodies[i] = verifyBody(k)
		}
		u := e.base + "/v1/apikeys/verify"
		return func() error {
			n := int(e.keyNext.Add(1) - 1)
			return e.send(u, "application/json", e.caller(n), bodies[n%len(bodies)])
		}, nil
	}},
	{"verify-warm", "verify-many over a working set already verified once", func(e *benchEnv, ctx context.Context) (func() error, error) {
		bodies := make([]string, min(len(e.apiKeys), benchWorkingSet))
		for i := range bodies {
			bodies[i] = verifyBody(e.apiKeys[i])
		}
		return e.warmTour(ctx, "/v1/apikeys/verify", "application/json", bodies)
	}},
	{"jwks", "the JWKS", func(e *benchEnv, _ context.Context) (func() error, error) {
		return e.get(e.base + "/.well-known/jwks.json"), nil
	}},
	{"discovery", "the discovery document", func(e *benchEnv, _ context.Context) (func() error, error) {
		return e.get(e.base + "/.well-known/openid-configuration"), nil
	}},
}

// benchScenarioNames are the names of benchScenarios, in order.
func benchScenarioNames() []string {
	out := make([]string, len(benchScenarios))
	for i, s := range benchScenarios {
		out[i] = s.name
	}
	return out
}

// benchScenarioList lists the scenarios for the usage text.
func benchScenarioList() string {
	parts := make([]string, len(benchScenarios))
	for i, s := range benchScenarios {
		parts[i] = s.name + " (" + s.about + ")"
	}
	return strings.Join(parts, ", ")
}

const formType = "application/x-www-form-urlencoded"

func verifyBody(key string) string { return `{"key":"` + key + `","required_scope":"read"}` }

// benchEnv is a running bench server with its client, keys and tokens.
type benchEnv struct {
	base, clientID, secret, opaqueID, opaqueSecret string
	apiKeys                                        []string
	app                                            benchApp    // the refresh scenario's app and user
	grants                                         chan string // the refresh scenario's grants, each one's latest refresh token
	callers                                        []string    // the Basic headers the -many and -warm scenarios authenticate with, in turn
	opaque                                         *tokenFile  // the seeded opaque tokens (nil: none)
	seeded                                         time.Duration
	// opaqueNext and keyNext are where the cold tours of the seeded tokens
	// and keys go on: each run of a tour (one per --rounds) starts where
	// the one before it stopped, so every run reads items not read before
	// while the seeded ones last.
	opaqueNext *tokenCursor
	keyNext    atomic.Int64
	load       *benchSender // the measured requests' client (--load-client)
	conns      int
	duration   time.Duration
	hello      func() error
	// server and helloProc are the child processes; serverRSS and
	// helloRSS follow their memory.
	server, helloProc   *benchChild
	serverRSS, helloRSS *peakRSS
	close               func()
}

// caller returns the Basic header of the i-th client of --clients, in
// turn. Each is built once: building it on every request would count in
// the -many and -warm scenarios' load and not in the one-item ones'.
func (e *benchEnv) caller(i int) string { return e.callers[i%len(e.callers)] }

// errPoolDone ends a scenario early: every prepared item has been used.
var errPoolDone = errors.New("bench: pool used up")

// benchOptions are what benchServer seeds and starts.
type benchOptions struct {
	dbURL        string // the scratch database ("": SQLite in the temporary directory)
	conns        int
	keys, tokens int  // API keys and opaque tokens to seed (tokens 0: none)
	clients      int  // confidential clients the -many and -warm scenarios authenticate as in turn
	app          bool // create the refresh scenario's app and user
	duration     time.Duration
	hello        bool   // start the hello handler too
	pprofAddr    string // the server's --pprof-addr
	loadClient   string // --load-client
}

// benchServer seeds a scratch database, then starts the server and (with
// opts.hello) the hello handler on loopback, each in a child process.
func (m *Main) benchServer(ctx context.Context, opts benchOptions) (*benchEnv, error) {
	dbURL := opts.dbURL
	dir, err := os.MkdirTemp("", "keyward-bench-")
	if err != nil {
		return nil, err
	}
	cleanup := []func(){func() { os.RemoveAll(dir) }}
	load := newBenchSender(opts.loadClient, opts.conns)
	cleanup = append(cleanup, load.close)
	env := &benchEnv{load: load, conns: opts.conns, duration: opts.duration,
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
		env.callers = []string{basicAuth(env.clientID, env.secret)}
		for i := 1; i < opts.clients && err == nil; i++ {
			c, cs, err = reg.Create(ctx, clients.Params{Name: fmt.Sprintf("bench-%d", i), Scopes: []string{"read"}})
			if err == nil {
				env.callers = append(env.callers, basicAuth(c.ID, cs))
			}
		}
	}
	if err == nil && opts.app {
		env.app, err = createBenchApp(ctx, db, reg)
	}
	if err == nil {
		env.apiKeys, err = seedAPIKeys(ctx, db, sec, opts.keys, m.progressOut())
	}
	if err == nil && opts.tokens > 0 {
		env.opaque, env.seeded, err = seedOpaqueTokens(ctx, db, sec, env.opaqueID, opts.tokens, dir, m.progressOut())
		if env.opaque != nil {
			cleanup = append(cleanup, func() { env.opaque.f.Close() })
		}
	}
	if err == nil {
		err = settleSeeded(ctx, db, opts, m.progressOut())
	}
	setup.Close()
	if err != nil {
		return fail(err)
	}
	// Seeding's garbage would count in the load generator's RSS.
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
	args := []string{"--data-dir", dir, "--issuer", "http://" + pub.Addr().String(),
		"--token-rate-limit", "-1", "--log-format", "json"}
	if opts.pprofAddr != "" {
		args = append(args, "--pprof-addr", opts.pprofAddr)
	}
	childEnv := []string{"KEYWARD_SECRET=" + secret} // not on the command line, where ps shows it
	if dbURL != "" {
		childEnv = append(childEnv, "KEYWARD_DATABASE_URL="+dbURL)
	}
	env.server, err = startBenchChild(ctx, benchServeChild, []net.Listener{pub, adm}, args, childEnv, m.Stderr)
	pub.Close() // the child holds its own copies
	adm.Close()
	if err != nil {
		return fail(err)
	}
	cleanup = append(cleanup, env.server.stop)
	env.base, env.serverRSS = "http://"+pub.Addr().String(), newPeakRSS(env.server.pid())

	if opts.hello {
		helloLn, err := listenLoopback()
		if err != nil {
			return fail(err)
		}
		env.helloProc, err = startBenchChild(ctx, benchHelloChild, []net.Listener{helloLn}, nil, nil, m.Stderr)
		helloLn.Close()
		if err != nil {
			return fail(err)
		}
		cleanup = append(cleanup, env.helloProc.stop)
		env.hello, env.helloRSS = env.get("http://"+helloLn.Addr().String()+"/hello"), newPeakRSS(env.helloProc.pid())
	}
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
	for _, s := range benchScenarios {
		if s.name == name {
			return s.prepare(e, ctx)
		}
	}
	return nil, fmt.Errorf("unknown scenario %q", name)
}

// introspectTokenOf gets an access token of client id and returns one
// introspection of it.
func (e *benchEnv) introspectTokenOf(id, secret string) (func() error, error) {
	tok, err := e.token(id, secret)
	if err != nil {
		return nil, err
	}
	return e.post("/oauth2/introspect", formType, e.clientID, e.secret, url.Values{"token": {tok}}.Encode()), nil
}

// opaqueTour introspects a different one of the seeded opaque tokens on
// each request, in order, round and round, going on where the tour's run
// before it (an earlier --rounds) stopped.
func (e *benchEnv) opaqueTour(_ context.Context) (func() error, error) {
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
	if e.opaqueNext == nil {
		e.opaqueNext = &tokenCursor{f: e.opaque}
	}
	tokens, u := e.opaqueNext, e.base+"/oauth2/introspect"
	return func() error {
		n, b, err := tokens.take()
		if err != nil {
			return err
		}
		return e.send(u, formType, e.caller(n), b)
	}, nil
}

// benchWorkingSet is how many of the seeded keys or tokens the -warm
// scenarios tour: fewer than the smallest default cache holds (the opaque
// answers' 8 MiB, about 13,000 entries), so the measured tours find every
// one cached. It shows the rate "once warm" with --keys or --tokens of any
// size.
const benchWorkingSet = 10_000

// warmTour posts each of bodies once, from every connection in turn (not
// measured), then returns a request that tours them again.
func (e *benchEnv) warmTour(ctx context.Context, path, ctype string, bodies []string) (func() error, error) {
	var next atomic.Int64
	u := e.base + path
	one := func() error {
		n := int(next.Add(1) - 1)
		return e.send(u, ctype, e.caller(n), bodies[n%len(bodies)])
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

const tokenForm = "grant_type=client_credentials&scope=read"

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
		return e.post("/oauth2/introspect", formType, e.clientID, e.secret,
			"token="+pool[i])()
	}, nil
}

// token gets a client-credentials access token.
func (e *benchEnv) token(id, secret string) (string, error) {
	tok, err := e.postToken(id, secret, tokenForm)
	return tok.AccessToken, err
}

// tokenAnswer is what the bench reads of a token response.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// postToken posts form to the token endpoint as client id and reads the
// tokens of its answer; an error unless it is a 200 with an access
// token.
func (e *benchEnv) postToken(id, secret, form string) (tokenAnswer, error) {
	var tok tokenAnswer
	status, err := e.load.exchange(e.base+"/oauth2/token", formType, basicAuth(id, secret), form,
		func(b []byte) error { return json.Unmarshal(b, &tok) })
	if err != nil && status == 0 {
		return tokenAnswer{}, err
	}
	if err != nil || status != http.StatusOK || tok.AccessToken == "" {
		return tokenAnswer{}, fmt.Errorf("token endpoint: status %d", status)
	}
	return tok, nil
}

// post returns one POST of body to path, with Basic client
// authentication when id is set.
func (e *benchEnv) post(path, ctype, id, secret, body string) func() error {
	u, auth := e.base+path, basicAuth(id, secret)
	return func() error { return e.send(u, ctype, auth, body) }
}

// send posts body to u with the Authorization header auth (both built
// once, as post builds them for the one-item scenarios).
func (e *benchEnv) send(u, ctype, auth, body string) error {
	return statusErr(e.load.exchange(u, ctype, auth, body, nil))
}

// get returns one GET of u.
func (e *benchEnv) get(u string) func() error {
	return func() error { return statusErr(e.load.exchange(u, "", "", "", nil)) }
}

// statusErr is the error of an exchange: its own, or a status other
// than 200.
func statusErr(status int, err error) error {
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("status %d", status)
	}
	return nil
}

// wantActive introspects the token of body once and fails unless it is
// active.
func (e *benchEnv) wantActive(body string) error {
	var in struct {
		Active bool `json:"active"`
	}
	status, err := e.load.exchange(e.base+"/oauth2/introspect", formType, basicAuth(e.clientID, e.secret), body,
		func(b []byte) error { return json.Unmarshal(b, &in) })
	if status == 0 && err != nil {
		return err
	}
	if err != nil || !in.Active {
		return fmt.Errorf("a seeded opaque token does not introspect active (status %d)", status)
	}
	return nil
}
