package authz

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"
)

const (
	// upstreamCookie carries the sealed state of one sign-in at an
	// upstream provider, on the callback's path only.
	upstreamCookie     = "kw_upstream"
	upstreamCookiePath = "/oauth2/upstream/"
	// upstreamStateTTL is how long a person has to sign in upstream.
	upstreamStateTTL = 10 * time.Minute
)

// upstreamState is what Keyward remembers across the round trip to an
// upstream provider, sealed into a cookie so it is bound to the browser
// that started it: the state (RFC 6749 §10.12), the nonce (OIDC Core
// §3.1.2.1) and the PKCE verifier (RFC 7636) sent with it, and the
// pending Keyward authorization request to return to.
type upstreamState struct {
	Provider   string `json:"p"`
	ProviderID string `json:"pid"`
	State      string `json:"s"`
	Nonce      string `json:"n"`
	Verifier   string `json:"v"`
	ReturnTo   string `json:"r,omitempty"`
	Expires    int64  `json:"e"`
}

// stateSealer seals upstream states with AES-256-GCM under a key derived
// from the system secret (keys.PurposeUpstreamState), so a browser can
// neither read the verifier nor forge a state.
type stateSealer struct{ aead cipher.AEAD }

func newStateSealer(key []byte) (*stateSealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, err
	}
	return &stateSealer{aead: aead}, nil
}

var stateAD = []byte("keyward upstream state v1")

func (s *stateSealer) seal(st *upstreamState) string {
	b, _ := json.Marshal(st)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nil, nil, b, stateAD))
}

var errNoState = errors.New("no upstream sign-in state")

// open reads the state cookie of r; errNoState when it is missing or does
// not open.
func (s *stateSealer) open(r *http.Request) (*upstreamState, error) {
	c, err := r.Cookie(upstreamCookie)
	if err != nil || len(c.Value) > 4096 {
		return nil, errNoState
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return nil, errNoState
	}
	b, err := s.aead.Open(nil, nil, raw, stateAD)
	if err != nil {
		return nil, errNoState
	}
	var st upstreamState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, errNoState
	}
	return &st, nil
}

// usedStates remembers the states this instance has seen come back until
// they expire, so a state (and its cookie, should the browser have kept a
// copy) works once. The cookie is also cleared on the first callback.
type usedStates struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// use reports whether state is fresh, and marks it used until exp.
func (u *usedStates) use(state string, exp, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.seen == nil {
		u.seen = map[string]time.Time{}
	}
	for k, t := range u.seen {
		if now.After(t) {
			delete(u.seen, k)
		}
	}
	if _, ok := u.seen[state]; ok {
		return false
	}
	u.seen[state] = exp
	return true
}
