package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/spf13/pflag"
)

// healthcheck is "keyward healthcheck [--url URL]": exit 0 when URL
// answers 200, for container health checks on images without curl. The
// default URL is /readyz on --public-addr, https with --tls-cert: the
// variables of serve's container name it.
func (m *Main) healthcheck(ctx context.Context, args []string) error {
	fs := pflag.NewFlagSet("keyward healthcheck", pflag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	target := fs.String("url", "", "URL that must answer 200 (default: /readyz on --public-addr, https with --tls-cert)")
	fs.StringVar(&m.Config.PublicAddr, "public-addr", defaultPublicAddr, usage("public-addr"))
	fs.StringVar(&m.Config.TLSCert, "tls-cert", "", usage("tls-cert"))
	if err := m.parse(fs, args); err != nil {
		return err
	}
	raw := *target
	if raw == "" {
		var err error
		if raw, err = m.Config.readyzURL(); err != nil {
			return usageError{err}
		}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("--url: %q is not an absolute http(s) URL", raw)
	}
	client, err := probeClient(u, m.Config.TLSCert)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return usageError{err}
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d", u, resp.StatusCode)
	}
	return nil
}

// readyzURL is the default URL of healthcheck: /readyz on the public
// listener, through loopback when it listens on every address.
func (c *Config) readyzURL() (string, error) {
	host, port, err := net.SplitHostPort(c.PublicAddr)
	if err != nil {
		return "", fmt.Errorf("--public-addr: %q is not host:port", c.PublicAddr)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // a listener on every address, IPv6 too, takes IPv4 loopback
	}
	scheme := "http"
	if c.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/readyz", nil
}

// probeClient returns the HTTP client of a probe of target. Over https to
// a loopback host it does not verify the certificate: the probe sends
// nothing secret and reads only a status code, a loopback connection
// cannot be intercepted from the network, and the certificate names the
// public host, not 127.0.0.1. Any other host is verified against the
// system's roots and the certificates in certFile (--tls-cert), so that a
// self-signed certificate passes too.
func probeClient(target *url.URL, certFile string) (*http.Client, error) {
	if target.Scheme != "https" {
		return http.DefaultClient, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case isLoopback(target.Hostname()):
		cfg.InsecureSkipVerify = true // see above
	case certFile != "":
		pem, err := os.ReadFile(certFile)
		if err != nil {
			return nil, usagef("--tls-cert: %w", err)
		}
		if cfg.RootCAs, err = x509.SystemCertPool(); err != nil {
			cfg.RootCAs = x509.NewCertPool()
		}
		cfg.RootCAs.AppendCertsFromPEM(pem)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}, nil
}
