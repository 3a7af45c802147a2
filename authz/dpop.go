package authz

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/keyward/keyward/authz/verify"
)

// DPoP (RFC 9449): a client proves possession of a key with a signed JWT
// in the DPoP header of each request, and the tokens it gets are bound to
// that key (cnf.jkt, RFC 9449 §6). This file checks one proof; the token
// endpoint (dpoptoken.go), UserInfo and introspection use it.

// DPoPAlgValues returns the proof algorithms accepted (RFC 9449 §4.3:
// asymmetric only), advertised as dpop_signing_alg_values_supported
// (§5.1): the SDK's, so a resource server accepts exactly what the token
// endpoint does.
func DPoPAlgValues() []string { return slices.Clone(verify.DPoPAlgs) }

// DefaultDPoPProofWindow is how far a proof's iat may be from now (either
// way) before the proof is refused (RFC 9449 §11.1).
const DefaultDPoPProofWindow = 60 * time.Second

// dpopProofMaxLen caps the DPoP header before it is parsed.
const dpopProofMaxLen = 8 << 10

// dpopProof is a verified DPoP proof.
type dpopProof struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the proof's key,
	// base64url (the cnf.jkt of a bound token, RFC 9449 §6.1).
	JKT string
	// Alg is the JWS algorithm that signed the proof.
	Alg   string
	JTI   string
	IAT   time.Time
	Nonce string
}

// dpopError is a refused proof: Code is invalid_dpop_proof or
// use_dpop_nonce (RFC 9449 §5, §8, §9).
type dpopError struct {
	Code, Description string
}

func (e *dpopError) Error() string { return e.Code + ": " + e.Description }

func badProof(format string, args ...any) *dpopError {
	return &dpopError{Code: "invalid_dpop_proof", Description: fmt.Sprintf(format, args...)}
}

// dpopHeader returns the one DPoP header of r: ok false when there is
// none, an error when there are several (RFC 9449 §4.3 check 1).
func dpopHeader(r *http.Request) (string, bool, *dpopError) {
	vals := r.Header["Dpop"] // the canonical form of DPoP: no allocation per request
	switch {
	case len(vals) == 0:
		return "", false, nil
	case len(vals) > 1 || strings.Contains(vals[0], ","):
		return "", true, badProof("The request has more than one DPoP header.")
	}
	return strings.TrimSpace(vals[0]), true, nil
}

// parseDPoPProof checks the proof jwt of a request with method htm to the
// URL htu (RFC 9449 §4.3, checks 2 to 11 except jti replay and the
// nonce, which the caller does) with the SDK's verify.VerifyDPoPProof,
// the one implementation of those checks: its shape, typ dpop+jwt, an
// asymmetric alg from the allow-list, a public jwk that verifies the
// signature, htm and htu, and iat within window of now. token, when not
// empty, is the access token the proof must carry the hash of (ath).
func parseDPoPProof(raw, htm, htu, token string, now time.Time, window time.Duration) (*dpopProof, *dpopError) {
	if raw == "" || len(raw) > dpopProofMaxLen {
		return nil, badProof("The DPoP header is empty or too long.")
	}
	p, err := verify.VerifyDPoPProof(raw, htm, htu, token, "", now, window)
	if err != nil {
		var de *verify.DPoPError
		if errors.As(err, &de) {
			return nil, badProof("The DPoP proof was refused: %s.", de.Detail)
		}
		return nil, badProof("The DPoP proof was refused.")
	}
	return &dpopProof{JKT: p.JKT, Alg: p.Alg, JTI: p.JTI, IAT: p.IssuedAt, Nonce: p.Nonce}, nil
}

// validJKT reports whether s has the shape of a base64url SHA-256
// thumbprint (the dpop_jkt parameter, RFC 9449 §10).
func validJKT(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}
