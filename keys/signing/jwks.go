package signing

import (
	"net/http"
	"strconv"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// emptyJWKS is served before the first load.
var emptyJWKS = []byte(`{"keys":[]}`)

// JWKS returns the JSON Web Key Set (RFC 7517 §5) of the published keys,
// public members only, each with kid, alg and "use": "sig", and its strong
// ETag (RFC 9110 §8.8.3). Both are computed once per key-set change; the
// bytes must not be modified.
func (s *Service) JWKS() (body []byte, etag string) {
	set := s.set.Load()
	if set == nil {
		return emptyJWKS, `"empty"`
	}
	return set.jwks, set.etag
}

// Public returns the published keys as a go-jose key set (a copy).
func (s *Service) Public() jose.JSONWebKeySet {
	set := s.set.Load()
	if set == nil {
		return jose.JSONWebKeySet{}
	}
	return jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), set.public.Keys...)}
}

// JWKSHandler serves JWKS at the jwks_uri (OIDC Discovery §3) with
// Cache-Control max-age Config.JWKSMaxAge, its ETag, 304 Not Modified for
// a matching If-None-Match (RFC 9110 §13.1.2), and CORS open to any origin,
// since the document is public.
func (s *Service) JWKSHandler() http.Handler {
	// Header values shared by every answer: nothing changes a header value
	// in place, and appending to one copies it.
	var (
		cacheControl = []string{"public, max-age=" + strconv.Itoa(int(s.cfg.JWKSMaxAge.Seconds()))}
		anyOrigin    = []string{"*"}
		contentType  = []string{"application/jwk-set+json"}
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Access-Control-Allow-Origin"] = anyOrigin
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, etag, etagValue, lengthValue := s.jwksAnswer()
		h["Cache-Control"] = cacheControl
		h["Etag"] = etagValue
		if etagMatch(r.Header.Values("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h["Content-Type"] = contentType
		h["Content-Length"] = lengthValue
		if r.Method == http.MethodHead {
			return
		}
		w.Write(body)
	})
}

// The header values of the empty JWKS.
var emptyETag, emptyLength = []string{`"empty"`}, []string{strconv.Itoa(len(emptyJWKS))}

// jwksAnswer is JWKS with its ETag and Content-Length header values.
func (s *Service) jwksAnswer() (body []byte, etag string, etagValue, lengthValue []string) {
	set := s.set.Load()
	if set == nil {
		return emptyJWKS, `"empty"`, emptyETag, emptyLength
	}
	return set.jwks, set.etag, set.etagValue, set.lengthValue
}

// etagMatch applies If-None-Match's weak comparison (RFC 9110 §13.1.2).
func etagMatch(values []string, etag string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || strings.TrimPrefix(t, "W/") == etag {
				return true
			}
		}
	}
	return false
}
