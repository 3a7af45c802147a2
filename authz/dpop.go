package authz

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DPoP (RFC 9449): a client proves possession of a key with a signed JWT
// in the DPoP header of each request, and the tokens it gets are bound to
// that key (cnf.jkt, RFC 9449 §6). This file checks one proof; the token
// endpoint (dpoptoken.go), UserInfo and introspection use it.

// DPoPAlgs are the proof algorithms accepted (RFC 9449 §4.3: asymmetric
// only), advertised as dpop_signing_alg_values_supported (§5.1).
var dpopAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.PS256, jose.RS256, jose.EdDSA}

// DPoPAlgValues returns the names of the accepted proof algorithms.
func DPoPAlgValues() []string {
	out := make([]string, len(dpopAlgs))
	for i, a := range dpopAlgs {
		out[i] = string(a)
	}
	return out
}

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
	ATH   string
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

// dpopClaims are a proof's claims (RFC 9449 §4.2).
type dpopClaims struct {
	JTI   string          `json:"jti"`
	HTM   string          `json:"htm"`
	HTU   string          `json:"htu"`
	IAT   json.RawMessage `json:"iat"`
	ATH   string          `json:"ath"`
	Nonce string          `json:"nonce"`
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
// nonce, which the caller does): its shape, typ dpop+jwt, an asymmetric
// alg from the allow-list, a public jwk that verifies the signature, htm
// and htu, and iat within window of now. token, when not empty, is the
// access token the proof must carry the hash of (ath, §4.3 check 11).
func parseDPoPProof(raw, htm, htu, token string, now time.Time, window time.Duration) (*dpopProof, *dpopError) {
	if raw == "" || len(raw) > dpopProofMaxLen {
		return nil, badProof("The DPoP header is empty or too long.")
	}
	jws, err := jose.ParseSignedCompact(raw, dpopAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, badProof("The DPoP proof is not a JWS signed with one of %s.", strings.Join(DPoPAlgValues(), ", "))
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return nil, badProof("The DPoP proof's typ must be dpop+jwt.")
	}
	jwk := h.JSONWebKey
	if jwk == nil || !jwk.Valid() || !jwk.IsPublic() {
		return nil, badProof("The DPoP proof's header must hold the public jwk that signed it.")
	}
	if k, ok := jwk.Key.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
		return nil, badProof("The DPoP proof's RSA key is shorter than 2048 bits.")
	}
	payload, err := jws.Verify(jwk.Key)
	if err != nil {
		return nil, badProof("The DPoP proof's signature does not verify with its jwk.")
	}
	var c dpopClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, badProof("The DPoP proof's claims are not a JSON object.")
	}
	var iat float64
	if err := json.Unmarshal(c.IAT, &iat); err != nil || c.JTI == "" || len(c.JTI) > 256 || c.HTM == "" || c.HTU == "" {
		return nil, badProof("The DPoP proof must carry jti, htm, htu and a numeric iat.")
	}
	if c.HTM != htm {
		return nil, badProof("The DPoP proof's htm is %q, this request is %s.", c.HTM, htm)
	}
	if !sameHTU(c.HTU, htu) {
		return nil, badProof("The DPoP proof's htu is not this endpoint (%s).", htu)
	}
	issued := time.Unix(int64(iat), 0)
	if d := now.Sub(issued); d > window || d < -window {
		return nil, badProof("The DPoP proof's iat is more than %s from the server's time.", window)
	}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		if c.ATH != base64.RawURLEncoding.EncodeToString(sum[:]) {
			return nil, badProof("The DPoP proof's ath is not the hash of the access token.")
		}
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, badProof("The DPoP proof's jwk has no thumbprint.")
	}
	return &dpopProof{JKT: base64.RawURLEncoding.EncodeToString(tp), Alg: h.Algorithm, JTI: c.JTI, IAT: issued,
		Nonce: c.Nonce, ATH: c.ATH}, nil
}

// sameHTU compares a proof's htu with the endpoint URL, both without
// query and fragment and normalized as RFC 3986 §6.2.2 and §6.2.3 say
// (case of scheme and host, default port, empty path), per RFC 9449 §4.3
// check 9.
func sameHTU(got, want string) bool {
	a, b := normalHTU(got), normalHTU(want)
	return a != "" && a == b
}

func normalHTU(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https")) {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
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

// validJKT reports whether s has the shape of a base64url SHA-256
// thumbprint (the dpop_jkt parameter, RFC 9449 §10).
func validJKT(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}
