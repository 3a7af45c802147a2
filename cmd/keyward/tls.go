package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
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
			w.Header().Set("Strict-Transport-Security", hstsValue)
		}
		h.ServeHTTP(w, r)
	})
}

// serveOn serves srv on ln: over TLS when srv has a TLS config (HTTP/2
// included), plain HTTP otherwise.
func serveOn(srv *http.Server, ln net.Listener) error {
	if srv.TLSConfig != nil {
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}

// baseURL is where srv answers on ln: https when it serves TLS.
func baseURL(srv *http.Server, ln net.Listener) string {
	if srv.TLSConfig != nil {
		return "https://" + ln.Addr().String()
	}
	return "http://" + ln.Addr().String()
}
