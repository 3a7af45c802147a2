package console

import (
	"context"
	"crypto/hmac"
	"strings"
)

// SetupURL returns a one-time link to create the first admin user in the
// console, or "" when an admin user exists (CONTRACT.md: serve prints it).
// The token lives in this process only and is used up by the setup.
func (cs *Server) SetupURL(ctx context.Context, adminURL string) (string, error) {
	n, err := cs.cfg.Store.CountAdmins(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.setupToken == "" {
		cs.setupToken = randomToken(24)
	}
	return strings.TrimSuffix(adminURL, "/") + "/console/setup?token=" + cs.setupToken, nil
}

// useSetupToken reports whether tok is the pending setup token and, when
// consume is set, uses it up.
func (cs *Server) useSetupToken(tok string, consume bool) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.setupToken == "" || !hmac.Equal([]byte(tok), []byte(cs.setupToken)) {
		return false
	}
	if consume {
		cs.setupToken = ""
	}
	return true
}
