package verify

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// WriteError is the middlewares' default answer to a refused request
// (RFC 6750 §3): a JSON body {"error", "error_description"} and, for 401
// and 403, a WWW-Authenticate challenge, by the kind of err:
//
//   - ErrNoCredentials: 401, `Bearer` without an error code (§3.1);
//   - ErrInvalidToken: 401, `Bearer error="invalid_token", error_description="…"`,
//     the description naming the check that failed (expired, audience,
//     issuer, signature, type, revoked, …) but no claim values, keys or
//     parser messages;
//   - ErrInsufficientScope: 403, `Bearer error="insufficient_scope",
//     error_description="…", scope="<the required scopes>"`;
//   - ErrRateLimited: 429 with Retry-After;
//   - anything else (ErrUnavailable, *ServerError): 503 with Retry-After,
//     saying nothing about the cause.
//
// Every answer has Cache-Control: no-store.
func WriteError(w http.ResponseWriter, r *http.Request, err error) { writeError(w, err, "", "") }

// writeError is WriteError with realm and resource_metadata (RFC 9728
// §5.1) in the challenges when they are not "".
func writeError(w http.ResponseWriter, err error, realm, metadata string) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	challenge := func(params ...string) {
		if metadata != "" {
			params = append([]string{"resource_metadata=" + quote(metadata)}, params...)
		}
		if realm != "" {
			params = append([]string{"realm=" + quote(realm)}, params...)
		}
		if len(params) == 0 {
			h.Set("WWW-Authenticate", "Bearer")
			return
		}
		h.Set("WWW-Authenticate", "Bearer "+strings.Join(params, ", "))
	}
	var (
		scopeErr *ScopeError
		dpopErr  *DPoPError
	)
	switch {
	case errors.As(err, &dpopErr):
		// RFC 9449 §7.1: the DPoP scheme's challenge, with the algorithms
		// proofs may use.
		desc := "The DPoP proof is not valid."
		if dpopErr.Code == "invalid_token" {
			desc = "The access token is not valid with this authentication scheme."
		}
		params := []string{`error="` + dpopErr.Code + `"`, "error_description=" + quote(desc),
			"algs=" + quote(strings.Join(DPoPAlgs, " "))}
		if metadata != "" {
			params = append([]string{"resource_metadata=" + quote(metadata)}, params...)
		}
		if realm != "" {
			params = append([]string{"realm=" + quote(realm)}, params...)
		}
		h.Set("WWW-Authenticate", "DPoP "+strings.Join(params, ", "))
		writeJSON(w, http.StatusUnauthorized, dpopErr.Code, desc)
	case errors.Is(err, ErrNoCredentials):
		challenge()
		writeJSON(w, http.StatusUnauthorized, "invalid_request", "Authentication is required.")
	case errors.As(err, &scopeErr):
		desc := "The access token lacks a required scope."
		if scopeErr.apiKey {
			desc = "The API key lacks a required scope."
		}
		challenge(`error="insufficient_scope"`, "error_description="+quote(desc),
			"scope="+quote(strings.Join(scopeErr.Required, " ")))
		writeJSON(w, http.StatusForbidden, "insufficient_scope", desc)
	case errors.Is(err, ErrRateLimited):
		h.Set("Retry-After", strconv.Itoa(retryAfter(err)))
		writeJSON(w, http.StatusTooManyRequests, "rate_limited", "The API key's rate limit is used up.")
	case errors.Is(err, ErrInvalidToken):
		desc := describe(err)
		challenge(`error="invalid_token"`, "error_description="+quote(desc))
		writeJSON(w, http.StatusUnauthorized, "invalid_token", desc)
	default:
		h.Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, "temporarily_unavailable", "The credentials cannot be verified now.")
	}
}

// describe names the failed check of a rejected credential in a fixed
// sentence: never a claim value, a key id or a parser message.
func describe(err error) string {
	var keyErr *APIKeyError
	if errors.As(err, &keyErr) {
		switch keyErr.Code {
		case CodeRevoked:
			return "The API key was revoked."
		case CodeExpired:
			return "The API key expired."
		}
		return "The API key is not valid."
	}
	for _, d := range []struct {
		check error
		desc  string
	}{
		{ErrExpired, "The access token expired."},
		{ErrNotYetValid, "The access token is not valid yet."},
		{ErrAudience, "The access token is meant for another audience."},
		{ErrIssuer, "The access token is from another issuer."},
		{ErrSignature, "The access token signature is not valid."},
		{ErrTokenType, "The token is not an access token."},
		{ErrRevoked, "The access token is not active."},
		{ErrMalformed, "The access token is malformed."},
	} {
		if errors.Is(err, d.check) {
			return d.desc
		}
	}
	return "The access token is not valid."
}

// retryAfter is the whole seconds until the rate-limit window of a
// refused key resets, at least 1.
func retryAfter(err error) int {
	var keyErr *APIKeyError
	if errors.As(err, &keyErr) && keyErr.Result != nil && keyErr.Result.RateLimit != nil {
		if s := math.Ceil(time.Until(keyErr.Result.RateLimit.Reset).Seconds()); s > 1 {
			return int(min(s, 86400))
		}
	}
	return 1
}

// quote makes a quoted-string of s with only the characters RFC 6750 §3
// allows in its attributes (%x20-21 / %x23-5B / %x5D-7E), dropping the rest.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := range len(s) {
		if c := s[i]; c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' {
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func writeJSON(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}
