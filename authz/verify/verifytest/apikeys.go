package verifytest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// APIKeyOptions describe a key for Issuer.APIKey. Zero values mean the defaults.
type APIKeyOptions struct {
	Scopes []string
	// ExpiresAt is when the key stops working (zero: never).
	ExpiresAt time.Time
	// RateLimit is how many verifications the key allows per
	// RateLimitPeriod (default 1 min), in fixed windows aligned to the
	// period as at Keyward; 0 means unlimited.
	RateLimit       int
	RateLimitPeriod time.Duration
	// Owner is the introspection sub (default "apikey:<id>").
	Owner string
}

// APIKey is a key the issuer made.
type APIKey struct {
	ID  string // the public id, key_id in answers
	Key string // the secret string, kw_<env>_<id>_<secret><checksum>
}

type apiKey struct {
	APIKeyOptions
	id, raw string
	revoked bool
	window  time.Time // start of the current rate-limit window
	used    int
}

// APIKey creates an API key in Keyward's format, with a valid checksum.
func (i *Issuer) APIKey(o APIKeyOptions) APIKey {
	if o.RateLimit > 0 && o.RateLimitPeriod <= 0 {
		o.RateLimitPeriod = time.Minute
	}
	id := randomString(16)
	body := "kw_" + i.opts.APIKeyEnv + "_" + id + "_" + randomString(32)
	k := &apiKey{APIKeyOptions: o, id: id, raw: body + checksum(body)}
	if k.Owner == "" {
		k.Owner = "apikey:" + id
	}
	i.mu.Lock()
	i.apiKeys[id] = k
	i.mu.Unlock()
	return APIKey{ID: id, Key: k.raw}
}

// checksum is CRC-32 (IEEE) of s as six big-endian base62 digits.
func checksum(s string) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	v := crc32.ChecksumIEEE([]byte(s))
	var d [6]byte
	for n := len(d) - 1; n >= 0; n-- {
		d[n] = digits[v%62]
		v /= 62
	}
	return string(d[:])
}

func looksLikeKey(s string) bool {
	return strings.HasPrefix(s, "kw_live_") || strings.HasPrefix(s, "kw_test_")
}

// apiKeyLocked returns the key raw is, or nil: a well-formed key of this
// env whose id and secret match. i.mu is held.
func (i *Issuer) apiKeyLocked(raw string) *apiKey {
	prefix := "kw_" + i.opts.APIKeyEnv + "_"
	if !strings.HasPrefix(raw, prefix) || len(raw) != len(prefix)+16+1+32+6 || checksum(raw[:len(raw)-6]) != raw[len(raw)-6:] {
		return nil
	}
	k := i.apiKeys[raw[len(prefix):len(prefix)+16]]
	if k == nil || subtle.ConstantTimeCompare([]byte(k.raw), []byte(raw)) != 1 {
		return nil
	}
	return k
}

// keyResult is the body of POST /v1/apikeys/verify, encoded as Keyward
// encodes it: valid and code only for an unknown key; otherwise also
// key_id, scope, expires_at (null: never) and rate_limit (null: none, or
// not reached).
type keyResult struct {
	valid bool
	code  string
	key   *apiKey
	limit *rateLimit
}

type rateLimit struct {
	Limit     int       `json:"limit"`
	Remaining int       `json:"remaining"`
	Reset     time.Time `json:"reset"`
}

func (r keyResult) MarshalJSON() ([]byte, error) {
	if r.key == nil {
		return json.Marshal(struct {
			Valid bool   `json:"valid"`
			Code  string `json:"code"`
		}{r.valid, r.code})
	}
	out := struct {
		Valid     bool       `json:"valid"`
		Code      string     `json:"code"`
		KeyID     string     `json:"key_id"`
		Scope     string     `json:"scope"`
		ExpiresAt *time.Time `json:"expires_at"`
		RateLimit *rateLimit `json:"rate_limit"`
	}{Valid: r.valid, Code: r.code, KeyID: r.key.id, Scope: strings.Join(r.key.Scopes, " "), RateLimit: r.limit}
	if !r.key.ExpiresAt.IsZero() {
		t := r.key.ExpiresAt.UTC()
		out.ExpiresAt = &t
	}
	return json.Marshal(out)
}

// check verifies raw as Keyward does, in its order: found, revoked,
// expired, rate limit (counted when count), scope.
func (i *Issuer) check(raw, requiredScope string, count bool) keyResult {
	now := i.opts.Now()
	i.mu.Lock()
	defer i.mu.Unlock()
	k := i.apiKeyLocked(raw)
	switch {
	case k == nil:
		return keyResult{code: "NOT_FOUND"}
	case k.revoked:
		return keyResult{code: "REVOKED", key: k}
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return keyResult{code: "EXPIRED", key: k}
	}
	r := keyResult{code: "VALID", key: k}
	if k.RateLimit > 0 {
		if start := now.Truncate(k.RateLimitPeriod); !start.Equal(k.window) {
			k.window, k.used = start, 0
		}
		allowed := k.used < k.RateLimit
		if allowed && count {
			k.used++
		}
		r.limit = &rateLimit{Limit: k.RateLimit, Remaining: max(0, k.RateLimit-k.used), Reset: k.window.Add(k.RateLimitPeriod).UTC()}
		if !allowed {
			r.code = "RATE_LIMITED"
			return r
		}
	}
	for _, s := range strings.Fields(requiredScope) {
		if !slices.Contains(k.Scopes, s) {
			r.code = "INSUFFICIENT_SCOPE"
			return r
		}
	}
	r.valid = true
	return r
}

// introspectKey answers introspection for an API key without counting it:
// active unless unknown, revoked or expired (a key over its rate limit is
// still active).
func (i *Issuer) introspectKey(raw string, now time.Time) map[string]any {
	r := i.check(raw, "", false)
	if r.key == nil || !(r.valid || r.code == "RATE_LIMITED") {
		return inactive
	}
	out := map[string]any{"active": true, "scope": strings.Join(r.key.Scopes, " "), "sub": r.key.Owner,
		"token_type": "api_key", "iss": i.URL, "key_id": r.key.id}
	if !r.key.ExpiresAt.IsZero() {
		out["exp"] = r.key.ExpiresAt.Unix()
	}
	return out
}

// verifyKey is POST /v1/apikeys/verify with Keyward's behaviour: client
// authentication by HTTP Basic or client_id and client_secret in the
// body; a JSON body (or a form) {"key", "required_scope"}; 413 for a body
// over 1 MiB, 415 for another Content-Type, 400 for a body that does not
// parse; otherwise 200 with the answer, every call counting against the
// key's rate limit.
func (i *Issuer) verifyKey(w http.ResponseWriter, r *http.Request) {
	i.keyVerifications.Add(1)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			oauthError(w, http.StatusRequestEntityTooLarge, "invalid_request", "The request body is larger than 1 MiB.")
			return
		}
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request body could not be read.")
		return
	}
	var req struct {
		Key           string `json:"key"`
		RequiredScope string `json:"required_scope"`
		ClientID      string `json:"client_id"`
		ClientSecret  string `json:"client_secret"`
	}
	known, ok := true, false
	switch ct := strings.ToLower(r.Header.Get("Content-Type")); {
	case strings.HasPrefix(ct, "application/json"):
		trimmed := bytes.TrimSpace(body)
		ok = len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &req) == nil
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		form, err := url.ParseQuery(string(body))
		if ok = err == nil; ok {
			req.Key, req.RequiredScope = form.Get("key"), form.Get("required_scope")
			req.ClientID, req.ClientSecret = form.Get("client_id"), form.Get("client_secret")
		}
	default:
		known = false
	}
	if !i.authenticate(w, r, url.Values{"client_id": {req.ClientID}, "client_secret": {req.ClientSecret}}) {
		return
	}
	if !known {
		oauthError(w, http.StatusUnsupportedMediaType, "invalid_request", "Content-Type must be application/json.")
		return
	}
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_request", `The body must be {"key": "…", "required_scope": "optional"}.`)
		return
	}
	res := i.check(req.Key, req.RequiredScope, true)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, res)
}
