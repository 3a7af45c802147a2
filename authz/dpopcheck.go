package authz

import (
	"context"
	"net/http"
	"time"
)

// dpopChecker checks the DPoP proof of a request in full: the proof
// itself (parseDPoPProof), the server nonce when one is required (RFC
// 9449 §8) and jti replay (§11.1).
type dpopChecker struct {
	window       time.Duration
	now          func() time.Time
	replay       *dpopReplay
	nonces       *dpopNonces
	requireNonce bool
}

// check returns the request's verified proof, nil when it has none, a
// *dpopError when it is refused, or the store's error when replay cannot
// be checked. htm and htu are the request's method and the endpoint's
// URL; token, when not empty, the access token the proof must be bound
// to (ath).
func (d *dpopChecker) check(ctx context.Context, r *http.Request, htu, token string) (*dpopProof, error) {
	raw, present, derr := dpopHeader(r)
	if derr != nil {
		return nil, derr
	}
	if !present {
		return nil, nil
	}
	now := d.now()
	p, derr := parseDPoPProof(raw, r.Method, htu, token, now, d.window)
	if derr != nil {
		return nil, derr
	}
	if d.requireNonce && !d.nonces.valid(p.Nonce) {
		return nil, &dpopError{Code: "use_dpop_nonce", Description: "Authorization server requires nonce in DPoP proof."}
	}
	exp := p.IAT
	if now.After(exp) {
		exp = now
	}
	fresh, err := d.replay.use(ctx, p.JKT, p.JTI, exp.Add(d.window+time.Second))
	if err != nil {
		return nil, err
	}
	if !fresh {
		return nil, badProof("The DPoP proof was used before (jti replay).")
	}
	return p, nil
}

// setNonce adds a fresh DPoP-Nonce header when nonces are required (RFC
// 9449 §8.2: a server may hand out the next nonce on any response).
func (d *dpopChecker) setNonce(h http.Header) {
	if d.requireNonce {
		h.Set("DPoP-Nonce", d.nonces.current())
	}
}
