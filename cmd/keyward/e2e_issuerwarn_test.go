package main

import (
	"strings"
	"testing"
)

// TestIssuerWarnings: serve warns at start about an http issuer on a host
// other than loopback, and about an http issuer on a TLS public
// listener; a loopback or https issuer gets no warning.
func TestIssuerWarnings(t *testing.T) {
	const (
		plain    = "the issuer is plain http on a non-loopback host"
		mismatch = "the public listener serves TLS but the issuer is http"
	)
	cert := newTestCert(t, "keyward test")
	e := sqliteEnv(t)
	tests := []struct {
		name string
		args []string
		want []string // warnings expected; the others must be absent
	}{
		{"http, public host", []string{"--issuer", "http://auth.example.com:8080"}, []string{plain}},
		{"http, loopback", nil, nil},
		{"http, localhost", []string{"--issuer", "http://localhost:8080"}, nil},
		{"https, public host", []string{"--issuer", "https://auth.example.com"}, nil},
		{"http, loopback, TLS listener", cert.tlsArgs(), []string{mismatch}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := e.serve(tc.args...)
			s.stop()
			logs := s.logs.String()
			for _, w := range []string{plain, mismatch} {
				wanted := strings.Contains(strings.Join(tc.want, "\n"), w)
				if got := strings.Contains(logs, w); got != wanted {
					t.Errorf("warning %q logged: %v, want %v\n%s", w, got, wanted, logs)
				}
			}
		})
	}
}
