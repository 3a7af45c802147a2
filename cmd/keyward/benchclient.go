package main

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// The load generator's HTTP clients (--load-client). A ratio to hello
// carries the load generator's own cost on both sides: the rate of each
// is the two cores over what a request costs the server and the load
// generator together. The costlier the load generator, the closer every
// ratio is pulled to 1. net/http's client costs about 30 µs of CPU a
// request on the project's machine, more than the hello handler's
// server; fasthttp's costs 13–15 µs, and its ratios track wrk's (whose
// ratios the performance goals were set with): on the same server in the
// same hour, wrk gave JWKS 0.79–0.81 and a token 0.29–0.31 of hello,
// fasthttp 0.79–0.82 and 0.28–0.30, net/http 0.97 and 0.36.
const (
	loadClientFast    = "fasthttp"
	loadClientNetHTTP = "net/http"
)

// loadClients are the values --load-client takes.
var loadClients = []string{loadClientFast, loadClientNetHTTP}

// benchSender sends requests with the chosen client: the measured ones,
// and the set-up that reads an answer (minting tokens, checking seeded
// ones). Signing in for the refresh scenario follows redirects with a
// cookie jar, so it goes through httpc, net/http, whichever is chosen.
type benchSender struct {
	fast  *fasthttp.Client // nil: net/http
	httpc *http.Client
}

// newBenchSender returns the client of --load-client (one of
// loadClients: fasthttp, or else net/http) with conns keep-alive
// connections to each host.
func newBenchSender(client string, conns int) *benchSender {
	s := &benchSender{httpc: benchHTTPClient(conns)}
	if client == loadClientFast {
		s.fast = &fasthttp.Client{
			MaxConnsPerHost:    conns,
			MaxConnWaitTimeout: 10 * time.Second, // a set-up burst waits for a connection instead of failing
			ReadTimeout:        10 * time.Second,
			WriteTimeout:       10 * time.Second,
			// Only the headers a request needs, as wrk sends them.
			NoDefaultUserAgentHeader: true,
		}
	}
	return s
}

// basicAuth is the Authorization header value of HTTP Basic
// authentication as id with secret, as net/http's SetBasicAuth writes it
// ("": no header).
func basicAuth(id, secret string) string {
	if id == "" {
		return ""
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// exchange sends one request (a POST of body with content type ctype,
// or a GET when ctype is empty) with the Authorization header auth when
// set, and returns the status. read, when set, is given the response body
// (valid only during the call).
func (s *benchSender) exchange(u, ctype, auth, body string, read func([]byte) error) (int, error) {
	if s.fast == nil {
		return s.exchangeNetHTTP(u, ctype, auth, body, read)
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(u)
	if ctype != "" {
		req.Header.SetMethod(http.MethodPost)
		req.Header.SetContentType(ctype)
		req.SetBodyString(body)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if err := s.fast.Do(req, resp); err != nil {
		return 0, err
	}
	if read != nil {
		if err := read(resp.Body()); err != nil {
			return resp.StatusCode(), err
		}
	}
	return resp.StatusCode(), nil
}

func (s *benchSender) exchangeNetHTTP(u, ctype, auth, body string, read func([]byte) error) (int, error) {
	method, rd := http.MethodGet, io.Reader(nil)
	if ctype != "" {
		method, rd = http.MethodPost, strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return 0, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := s.httpc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if read == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, err
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	return resp.StatusCode, read(b)
}

// close drops the idle connections of both clients.
func (s *benchSender) close() {
	if s.fast != nil {
		s.fast.CloseIdleConnections()
	}
	s.httpc.CloseIdleConnections()
}
