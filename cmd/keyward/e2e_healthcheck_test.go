package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runHealthcheck runs keyward healthcheck with args and returns its exit
// code and standard error.
func runHealthcheck(args ...string) (int, string) {
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	code := m.Run(context.Background(), append([]string{"healthcheck"}, args...))
	m.Close()
	return code, errb.String()
}

// TestHealthcheckTLS: keyward healthcheck probes a TLS listener over https
// (a self-signed certificate on loopback passes), and by default finds
// the listener the way serve's variables name it: KEYWARD_PUBLIC_ADDR,
// and https with KEYWARD_TLS_CERT.
func TestHealthcheckTLS(t *testing.T) {
	e := sqliteEnv(t)
	e.issuerScheme = "https"
	cert := newTestCert(t, "keyward test")
	s := e.serve(cert.tlsArgs()...)
	plain := sqliteEnv(t).serve()
	if code, stderr := runHealthcheck("--url", s.PublicURL+"/readyz"); code != 0 {
		t.Errorf("healthcheck --url %s/readyz: exit %d\n%s", s.PublicURL, code, stderr)
	}
	if code, _ := runHealthcheck("--url", "http://"+hostOf(t, s.PublicURL)+"/readyz"); code == 0 {
		t.Error("healthcheck over plain http passed against a TLS listener")
	}

	t.Setenv("KEYWARD_PUBLIC_ADDR", hostOf(t, s.PublicURL))
	t.Setenv("KEYWARD_TLS_CERT", cert.certFile)
	if code, stderr := runHealthcheck(); code != 0 {
		t.Errorf("healthcheck from the variables of a TLS server: exit %d\n%s", code, stderr)
	}

	t.Setenv("KEYWARD_PUBLIC_ADDR", strings.Replace(hostOf(t, plain.PublicURL), "127.0.0.1", "0.0.0.0", 1))
	t.Setenv("KEYWARD_TLS_CERT", "")
	if code, stderr := runHealthcheck(); code != 0 {
		t.Errorf("healthcheck from the variables of a plain server on 0.0.0.0: exit %d\n%s", code, stderr)
	}
}
