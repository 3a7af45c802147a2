package main

import (
	"crypto/tls"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// certCheckEvery is how often, at most, a handshake looks whether the
// certificate files changed: a renewal takes effect within this time.
const certCheckEvery = 2 * time.Second

// certReloader serves a certificate and key from PEM files and re-reads
// them when either file's size or modification time changes, so that a
// renewed certificate (certbot, cert-manager) is served without a restart.
// It needs no goroutine: the first handshake after certCheckEvery looks.
type certReloader struct {
	certFile, keyFile string
	now               func() time.Time
	log               *slog.Logger

	cert atomic.Pointer[tls.Certificate] // the last good pair

	mu      sync.Mutex // guards the fields below: one handshake looks at a time
	checked time.Time
	seen    [2]fileVersion // of the files when last looked at
}

// fileVersion tells one content of a file from the next.
type fileVersion struct{ size, modNanos int64 }

// newCertReloader loads the pair; its error (a missing file, a key that
// does not match) is a settings problem.
func newCertReloader(certFile, keyFile string, now func() time.Time, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, now: now, log: log}
	// Versions first: a change while loading is then seen and loaded again.
	seen, err := r.versions()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	r.cert.Store(&cert)
	r.seen, r.checked = seen, now()
	return r, nil
}

// GetCertificate is tls.Config.GetCertificate: the current pair, re-read
// first when the files changed. A pair that cannot be loaded keeps the
// last good one serving, with a warning logged once per change.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.reloadIfChanged()
	return r.cert.Load(), nil
}

func (r *certReloader) reloadIfChanged() {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if now.Sub(r.checked) < certCheckEvery {
		return
	}
	r.checked = now
	seen, err := r.versions()
	if err == nil && seen == r.seen {
		return
	}
	// Looked at once per change, good or bad: a bad pair is not retried
	// (nor warned about) until one of the files changes again.
	r.seen = seen
	if err == nil {
		var cert tls.Certificate
		if cert, err = tls.LoadX509KeyPair(r.certFile, r.keyFile); err == nil {
			r.cert.Store(&cert)
			r.log.Info("TLS certificate reloaded", "cert", r.certFile)
			return
		}
	}
	r.log.Warn("TLS certificate files changed but cannot be loaded; still serving the last good certificate",
		"cert", r.certFile, "key", r.keyFile, "err", err)
}

// versions returns the versions of the certificate and key files.
func (r *certReloader) versions() ([2]fileVersion, error) {
	var v [2]fileVersion
	for i, name := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(name)
		if err != nil {
			return [2]fileVersion{}, err
		}
		v[i] = fileVersion{size: fi.Size(), modNanos: fi.ModTime().UnixNano()}
	}
	return v, nil
}
