package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testCert is a certificate and key in PEM files, as an operator gives
// them to --tls-cert and --tls-key.
type testCert struct {
	certFile, keyFile string
	cert              *x509.Certificate
}

// newTestCert writes a new self-signed ECDSA P-256 certificate for
// 127.0.0.1 named name into a directory of the test.
func newTestCert(t *testing.T, name string) testCert {
	t.Helper()
	dir := t.TempDir()
	c := testCert{certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem")}
	c.replace(t, name)
	return c
}

// replace writes a new certificate named name over the files, each by an
// atomic rename as renewal tools do, and returns it.
func (c *testCert) replace(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeAtomically(t, c.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	writeAtomically(t, c.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	if c.cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	return c.cert
}

func writeAtomically(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// tlsArgs are the serve flags that serve c on both listeners.
func (c testCert) tlsArgs() []string {
	return []string{"--tls-cert", c.certFile, "--tls-key", c.keyFile}
}

// trusting returns the TLS client settings of a client that trusts certs
// only, with a session cache off so every connection is a full handshake.
func trusting(certs ...*x509.Certificate) *tls.Config {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return &tls.Config{RootCAs: pool}
}

// httpsClient returns an HTTP client that trusts certs and returns
// redirects instead of following them.
func httpsClient(certs ...*x509.Certificate) *http.Client {
	return &http.Client{Timeout: 30 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: trusting(certs...), ForceAttemptHTTP2: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// servedCert opens a new TLS connection to addr (host:port) with cfg and
// returns the certificate the server presented.
func servedCert(t *testing.T, addr string, cfg *tls.Config) (*x509.Certificate, error) {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

// cookieRecorder is a RoundTripper that keeps every cookie set by an answer.
type cookieRecorder struct {
	rt      http.RoundTripper
	mu      sync.Mutex
	cookies []*http.Cookie
}

func (r *cookieRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.rt.RoundTrip(req)
	if err == nil {
		r.mu.Lock()
		r.cookies = append(r.cookies, resp.Cookies()...)
		r.mu.Unlock()
	}
	return resp, err
}

// set returns the cookies recorded so far.
func (r *cookieRecorder) set() []*http.Cookie {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Cookie(nil), r.cookies...)
}

// hostOf returns the host:port of a base URL.
func hostOf(t *testing.T, base string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// getWith GETs u with c and returns the answer with its body read.
func getWith(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// discoverWith reads the discovery document of base with c.
func discoverWith(t *testing.T, c *http.Client, base string) metadata {
	t.Helper()
	resp, body := getWith(t, c, base+"/.well-known/openid-configuration")
	var m metadata
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &m) != nil {
		t.Fatalf("discovery: %d %s", resp.StatusCode, body)
	}
	return m
}

// wantCookies fails unless each cookie's Secure flag is secure and each
// name was set.
func wantCookies(t *testing.T, cookies []*http.Cookie, secure bool, names ...string) {
	t.Helper()
	set := map[string]bool{}
	for _, c := range cookies {
		set[c.Name] = true
		if c.Secure != secure {
			t.Errorf("cookie %s: Secure is %v, want %v", c.Name, c.Secure, secure)
		}
	}
	for _, n := range names {
		if !set[n] {
			t.Errorf("cookie %s was not set; got %v", n, cookies)
		}
	}
}

// waitServed waits until new connections to addr get want.
func waitServed(t *testing.T, addr string, cfg *tls.Config, want *x509.Certificate) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := servedCert(t, addr, cfg)
		if err == nil && got.Equal(want) {
			return
		}
		if time.Now().After(deadline) {
			name := ""
			if got != nil {
				name = got.Subject.CommonName
			}
			t.Fatalf("new connections still get %q (%v), want %q", name, err, want.Subject.CommonName)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
