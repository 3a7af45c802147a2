package verify

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DPoP (RFC 9449) for resource servers: a token whose claims carry
// cnf.jkt is sender-constrained, and the middlewares admit it only in
// "Authorization: DPoP <token>" with a DPoP header holding a proof signed
// by that key, for this request (htm, htu), fresh (iat), never seen
// before (jti) and bound to the token (ath), per RFC 9449 §7.1 and §4.3.

// DPoPAlgs are the proof algorithms accepted (asymmetric only, RFC 9449
// §4.3), and the algs of a DPoP challenge (§7.1).
var DPoPAlgs = []string{"ES256", "ES384", "PS256", "RS256", "EdDSA"}

// dpopJOSEAlgs is DPoPAlgs as go-jose takes them.
var dpopJOSEAlgs = func() []jose.SignatureAlgorithm {
	out := make([]jose.SignatureAlgorithm, len(DPoPAlgs))
	for i, a := range DPoPAlgs {
		out[i] = jose.SignatureAlgorithm(a)
	}
	return out
}()

// DefaultDPoPWindow is how far a proof's iat may be from now, either way.
const DefaultDPoPWindow = 60 * time.Second

// ErrDPoPProof matches a refused DPoP proof: missing, malformed, for
// another request, stale, replayed, by another key than the token's
// cnf.jkt, or without the token's hash. It also matches ErrInvalidToken.
var ErrDPoPProof = errors.New("verify: invalid DPoP proof")

// DPoPError is a request refused for DPoP (RFC 9449 §7.1): Code is the
// challenge's error, "invalid_dpop_proof" or "invalid_token" (a
// DPoP-bound token without the DPoP scheme, or a bearer token with it).
// It matches ErrInvalidToken, ErrDPoPProof for invalid_dpop_proof, and
// Check when set.
type DPoPError struct {
	Code   string
	Detail string
	Check  error
}

func (e *DPoPError) Error() string { return "verify: DPoP " + e.Code + ": " + e.Detail }

// Is matches ErrInvalidToken, ErrDPoPProof (invalid_dpop_proof) and Check.
func (e *DPoPError) Is(target error) bool {
	return target == ErrInvalidToken || (target == ErrDPoPProof && e.Code == "invalid_dpop_proof") ||
		(e.Check != nil && target == e.Check)
}

func badProof(format string, args ...any) error {
	return &DPoPError{Code: "invalid_dpop_proof", Detail: fmt.Sprintf(format, args...)}
}

// DPoPProof is a verified proof.
type DPoPProof struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the proof's key, base64url.
	JKT string
	// Alg is the JWS algorithm that signed the proof.
	Alg      string
	JTI      string
	IssuedAt time.Time
	Nonce    string
}

// VerifyDPoPProof checks one DPoP proof (RFC 9449 §4.3) for a request
// with method to the URL htu (compared without query and fragment, case
// and default port normalized), at now give or take window, carrying the
// hash of accessToken (ath) when it is not "", and signed by the key with
// thumbprint jkt when it is not "". It does not check jti replay (the
// middlewares do, with a ReplayCache). The error matches ErrDPoPProof.
func VerifyDPoPProof(proof, method, htu, accessToken, jkt string, now time.Time, window time.Duration) (*DPoPProof, error) {
	if proof == "" || len(proof) > 8<<10 {
		return nil, badProof("no proof, or one over 8 KiB")
	}
	jws, err := jose.ParseSignedCompact(proof, dpopJOSEAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, badProof("not a JWS signed with one of %s", strings.Join(DPoPAlgs, ", "))
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return nil, badProof("typ %q, want dpop+jwt", typ)
	}
	key := h.JSONWebKey
	if key == nil || !key.Valid() || !key.IsPublic() {
		return nil, badProof("no public jwk in the header")
	}
	if k, ok := key.Key.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
		return nil, badProof("RSA key shorter than 2048 bits")
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, badProof("the signature does not verify with the header's jwk")
	}
	var c struct {
		JTI   string          `json:"jti"`
		HTM   string          `json:"htm"`
		HTU   string          `json:"htu"`
		IAT   json.RawMessage `json:"iat"`
		ATH   string          `json:"ath"`
		Nonce string          `json:"nonce"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, badProof("the claims are not a JSON object")
	}
	var iat float64
	if err := json.Unmarshal(c.IAT, &iat); err != nil || c.JTI == "" || len(c.JTI) > 256 || c.HTM == "" || c.HTU == "" {
		return nil, badProof("jti, htm, htu or a numeric iat missing")
	}
	if c.HTM != method {
		return nil, badProof("htm %q, request %s", c.HTM, method)
	}
	if a, b := normalHTU(c.HTU), normalHTU(htu); a == "" || a != b {
		return nil, badProof("htu %q, request %q", c.HTU, htu)
	}
	issued := time.Unix(int64(iat), 0)
	if d := now.Sub(issued); d > window || d < -window {
		return nil, badProof("iat %s is more than %s from now", issued.UTC().Format(time.RFC3339), window)
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		if c.ATH != base64.RawURLEncoding.EncodeToString(sum[:]) {
			return nil, badProof("ath is not the hash of the access token")
		}
	}
	tp, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, badProof("the jwk has no thumbprint")
	}
	p := &DPoPProof{JKT: base64.RawURLEncoding.EncodeToString(tp), Alg: h.Algorithm, JTI: c.JTI, IssuedAt: issued, Nonce: c.Nonce}
	if jkt != "" && p.JKT != jkt {
		return nil, badProof("the proof's key is not the token's cnf.jkt")
	}
	return p, nil
}

// normalHTU is an http(s) URL without query and fragment, with scheme and
// host lower-cased, the default port dropped and an empty path as "/"
// (RFC 3986 §6.2.2, §6.2.3); "" for anything else.
func normalHTU(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return ""
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path
}

// requestURL is the URL a client sent r to, for htu: base (WithBaseURL)
// with r's path, or the scheme of the connection and r's Host.
func requestURL(r *http.Request, base string) string {
	if base != "" {
		return strings.TrimSuffix(base, "/") + r.URL.EscapedPath()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.EscapedPath()
}

// dpopHeader returns the one DPoP header of r ("" when there is none; an
// error when there are several, RFC 9449 §4.3).
func dpopHeader(r *http.Request) (string, error) {
	vals := r.Header["Dpop"] // the canonical form of DPoP: no allocation per request
	switch {
	case len(vals) == 0:
		return "", nil
	case len(vals) > 1 || strings.Contains(vals[0], ","):
		return "", badProof("more than one DPoP header")
	}
	return strings.TrimSpace(vals[0]), nil
}

// checkDPoP holds the token of r to its binding: a DPoP-bound token
// (claims.JKT) only with the DPoP scheme and a valid, fresh proof by its
// key (RFC 9449 §7.1); a bearer token never with the DPoP scheme.
func (o *options) checkDPoP(ctx context.Context, r *http.Request, token string, dpopScheme bool, claims *Claims, now time.Time) error {
	switch {
	case claims.JKT == "" && !dpopScheme:
		return nil
	case claims.JKT == "":
		return &DPoPError{Code: "invalid_token", Detail: "a bearer token presented with the DPoP scheme", Check: ErrTokenType}
	case !dpopScheme:
		return &DPoPError{Code: "invalid_token", Detail: "a DPoP-bound token (cnf.jkt) presented as a bearer token", Check: ErrTokenType}
	}
	raw, err := dpopHeader(r)
	if err != nil {
		return err
	}
	if raw == "" {
		return badProof("no DPoP header")
	}
	p, err := VerifyDPoPProof(raw, r.Method, requestURL(r, o.baseURL), token, claims.JKT, now, o.dpopWindow)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(p.JKT + "\x00" + p.JTI))
	fresh, err := o.replay.Use(ctx, base64.RawURLEncoding.EncodeToString(sum[:]), p.IssuedAt.Add(o.dpopWindow+time.Second))
	if err != nil {
		return fmt.Errorf("%w: DPoP replay cache: %v", ErrUnavailable, err)
	}
	if !fresh {
		return badProof("the proof was used before (jti replay)")
	}
	return nil
}
