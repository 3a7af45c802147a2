package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// hstsValue is the Strict-Transport-Security of every https answer: one
// year, for this host only (a deployment's other hosts are not ours to
// pin to https).
const hstsValue = "max-age=31536000"

// loadTLS loads the certificates of the listeners that serve TLS (nil for
// one that serves plain HTTP): --tls-cert for both, the admin one's own
// pair when given. A pair that does not load is a settings problem; one
// with a half missing is ValidateServe's to report.
func (m *Main) loadTLS(log *slog.Logger) (public, admin *certReloader, err error) {
	var errs []error
	load := func(certFlag, cert, key string) *certReloader {
		if cert == "" || key == "" {
			return nil
		}
		r, err := newCertReloader(cert, key, time.Now, log)
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", certFlag, err))
		}
		return r
	}
	public = load("tls-cert", m.Config.TLSCert, m.Config.TLSKey)
	if cert, key := m.Config.adminTLS(); cert == m.Config.TLSCert && key == m.Config.TLSKey {
		admin = public
	} else {
		admin = load("admin-tls-cert", cert, key)
	}
	return public, admin, errors.Join(errs...)
}

// tlsConfig is the TLS of a listener with the certificates of r: TLS 1.2
// at least, whatever the Go defaults or GODEBUG say.
func tlsConfig(r *certReloader) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate}
}

// hsts adds Strict-Transport-Security to every answer over TLS, and never
// to one over plain HTTP (RFC 6797 §7.2).
func hsts(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.Header()["Strict-Transport-Security"] = hstsValues
		}
		h.ServeHTTP(w, r)
	})
}

// hstsValues is the header's value, shared by every answer (nothing
// modifies a header value in place, and appending to it copies it).
var hstsValues = []string{hstsValue}

// serveOn serves srv on ln: over TLS when newHTTPServer gave it a TLS
// config (HTTP/2 included), plain HTTP otherwise. It looks before serving:
// net/http sets a TLS config of its own on a plain server once it serves.
func serveOn(srv *http.Server, ln net.Listener) error {
	if srv.TLSConfig != nil {
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}

// baseURL is where ln answers: https when it serves certs.
func baseURL(ln net.Listener, certs *certReloader) string {
	if certs != nil {
		return "https://" + ln.Addr().String()
	}
	return "http://" + ln.Addr().String()
}

// warnIssuer logs what an http issuer puts at risk: on a host other than
// loopback, codes, tokens and passwords cross the network in clear; with
// a TLS public listener, discovery advertises URLs that do not answer.
func warnIssuer(log *slog.Logger, issuer string, publicTLS bool) {
	u, err := url.Parse(issuer)
	if err != nil || u.Scheme != "http" {
		return
	}
	if !isLoopback(u.Hostname()) {
		log.Warn("the issuer is plain http on a non-loopback host: codes, tokens and passwords cross the network "+
			"unencrypted; serve TLS (--tls-cert) or put a TLS proxy in front, and give an https --issuer", "issuer", issuer)
	}
	if publicTLS {
		log.Warn("the public listener serves TLS but the issuer is http: discovery names URLs that do not answer; "+
			"give an https --issuer", "issuer", issuer)
	}
}

// isLoopback reports whether host names the loopback interface.
func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback()
}
