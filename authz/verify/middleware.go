package verify

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// ErrorHandler answers a request a middleware refused: err says why (see
// WriteError). It must write the whole answer; the next handler is not
// called.
type ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

// Option configures the middlewares of this package and of ginverify,
// which take the same options and behave the same.
type Option func(*options)

type options struct {
	scopes     []string
	onError    ErrorHandler
	introspect bool
	realm      string
	keyHeader  string
	resource   *ProtectedResourceMetadata
	// DPoP (dpop.go): the resource's public base URL for htu, the iat
	// window and the replay cache of proofs.
	baseURL    string
	dpopWindow time.Duration
	replay     ReplayCache
}

// WithBaseURL is the public base URL of the resource server (scheme, host
// and any path prefix a proxy strips), to check the htu of DPoP proofs
// against what the client called (RFC 9449 §4.3). Without it, the URL is
// the connection's scheme with the request's Host and path.
func WithBaseURL(base string) Option { return func(o *options) { o.baseURL = base } }

// WithDPoPWindow sets how far a DPoP proof's iat may be from now, either
// way (default DefaultDPoPWindow).
func WithDPoPWindow(d time.Duration) Option { return func(o *options) { o.dpopWindow = d } }

// WithReplayCache sets where accepted DPoP proofs are remembered (RFC 9449
// §11.1); share one between the instances of a resource server. Default:
// a NewMemoryReplayCache per middleware.
func WithReplayCache(c ReplayCache) Option { return func(o *options) { o.replay = c } }

// WithScopes requires every one of scopes (403 insufficient_scope otherwise).
func WithScopes(scopes ...string) Option {
	return func(o *options) { o.scopes = append(o.scopes, scopes...) }
}

// WithErrorHandler replaces WriteError as the answer to a refused request.
// The handler receives the error that says which check failed; to log it
// and still answer the default way, call WriteError from it.
func WithErrorHandler(h ErrorHandler) Option { return func(o *options) { o.onError = h } }

// WithIntrospection makes the token middleware ask the issuer about every
// token (IntrospectAccessToken) instead of verifying it locally only, so
// a revoked token is refused at once and opaque tokens work; it costs a
// request to the issuer per request. It needs Config.ClientID and
// ClientSecret. API-key middlewares always ask the issuer.
func WithIntrospection() Option { return func(o *options) { o.introspect = true } }

// WithRealm adds realm="…" to the WWW-Authenticate challenges (RFC 6750 §3).
func WithRealm(realm string) Option { return func(o *options) { o.realm = realm } }

// WithResourceMetadata makes the token middleware protect meta.Resource
// (RFC 9728): a token whose aud does not include it is refused
// (ErrAudience), and every challenge of the default answer carries
// resource_metadata="<meta.MetadataURL()>" (RFC 9728 §5.1), so a client
// that knows only the resource's URL can discover where to get a token.
// Serve meta itself at meta.WellKnownPath(). It panics when meta does not
// Validate, a mistake of the program.
func WithResourceMetadata(meta *ProtectedResourceMetadata) Option {
	if err := meta.Validate(); err != nil {
		panic(err)
	}
	return func(o *options) { o.resource = meta }
}

// WithAPIKeyHeader names the request header an API-key middleware reads
// the key from, instead of X-API-Key. With either, "Authorization: Bearer
// <key>" is read when that header is absent.
func WithAPIKeyHeader(name string) Option { return func(o *options) { o.keyHeader = name } }

func buildOptions(opts []Option) *options {
	o := &options{keyHeader: "X-API-Key", dpopWindow: DefaultDPoPWindow}
	for _, opt := range opts {
		opt(o)
	}
	if o.replay == nil {
		o.replay = NewMemoryReplayCache(0)
	}
	return o
}

// context keys of the verified credentials.
type (
	claimsKey struct{}
	apiKeyKey struct{}
)

// ClaimsFromContext returns the claims the token middleware stored in the
// request's context, or nil.
func ClaimsFromContext(ctx context.Context) *Claims {
	c, _ := ctx.Value(claimsKey{}).(*Claims)
	return c
}

// APIKeyFromContext returns the API key the API-key middleware verified
// for the request, or nil.
func APIKeyFromContext(ctx context.Context) *APIKeyResult {
	r, _ := ctx.Value(apiKeyKey{}).(*APIKeyResult)
	return r
}

// RequireToken returns net/http middleware that admits a request only
// with a valid access token in "Authorization: Bearer" (RFC 6750 §2.1)
// granting every one of scopes; see Middleware.
func RequireToken(v *Verifier, scopes ...string) func(http.Handler) http.Handler {
	return Middleware(v, WithScopes(scopes...))
}

// Middleware returns net/http middleware that admits a request only with
// a valid access token in "Authorization: Bearer" (RFC 6750 §2.1), or,
// for a DPoP-bound token (cnf.jkt), in "Authorization: DPoP" with a DPoP
// proof of its key (RFC 9449 §7.1: htm, htu, iat, ath, jti replay),
// verified locally (VerifyAccessToken) or, WithIntrospection, at the
// issuer. The next handler finds the claims with ClaimsFromContext. A
// refused request is answered by WriteError or WithErrorHandler's
// handler:
//
//   - 401 without an error code when there is no bearer token (ErrNoCredentials),
//
//   - 401 error="invalid_token" when the token does not verify (ErrInvalidToken),
//
//   - 403 error="insufficient_scope" when a scope is missing (ErrInsufficientScope),
//
//   - 503 when the issuer cannot be asked (ErrUnavailable).
//
//   - 401 with a DPoP challenge (RFC 9449 §7.1) for a DPoP-bound token
//     presented as a bearer token or a bearer token with the DPoP scheme
//     (error="invalid_token"), or a missing or bad proof
//     (error="invalid_dpop_proof"): a *DPoPError.
//
// Middleware panics when WithIntrospection is given but v has
// no client credentials.
func Middleware(v *Verifier, opts ...Option) func(http.Handler) http.Handler {
	o := buildOptions(opts)
	if o.introspect && v.cfg.ClientID == "" {
		panic("verify: WithIntrospection needs Config.ClientID and Config.ClientSecret")
	}
	check := v.VerifyAccessToken
	if o.introspect {
		check = v.IntrospectAccessToken
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			claims, err := o.tokenFor(r, check, v.cfg.Now)
			if err == nil && o.resource != nil {
				err = o.resource.CheckAudience(claims)
			}
			if err == nil {
				err = checkScopes(o.scopes, claims.HasScope)
			}
			if err != nil {
				o.refuse(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
		})
	}
}

func (o *options) tokenFor(r *http.Request, check func(context.Context, string) (*Claims, error), now func() time.Time) (*Claims, error) {
	token, ok := bearer(r.Header.Get("Authorization"))
	dpopScheme := false
	if !ok {
		token, ok = authScheme(r.Header.Get("Authorization"), "DPoP")
		dpopScheme = ok
	}
	if !ok {
		return nil, ErrNoCredentials
	}
	claims, err := check(r.Context(), token)
	if err != nil {
		return nil, err
	}
	if err := o.checkDPoP(r.Context(), r, token, dpopScheme, claims, now()); err != nil {
		return nil, err
	}
	return claims, nil
}

// RequireAPIKey returns net/http middleware that admits a request only
// with a valid API key holding every one of scopes; see APIKeyMiddleware.
func RequireAPIKey(k *APIKeys, scopes ...string) func(http.Handler) http.Handler {
	return APIKeyMiddleware(k, WithScopes(scopes...))
}

// APIKeyMiddleware returns net/http middleware that admits a request only
// with a valid API key in the X-API-Key header (see WithAPIKeyHeader) or
// in "Authorization: Bearer", verified by k. The next handler finds the
// issuer's answer with APIKeyFromContext. A refused request is answered
// like Middleware's, and 429 with Retry-After for a key whose rate limit
// is used up (ErrRateLimited).
func APIKeyMiddleware(k *APIKeys, opts ...Option) func(http.Handler) http.Handler {
	o := buildOptions(opts)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := strings.TrimSpace(r.Header.Get(o.keyHeader))
			if key == "" {
				key, _ = bearer(r.Header.Get("Authorization"))
			}
			if key == "" {
				o.refuse(w, r, ErrNoCredentials)
				return
			}
			res, err := k.Verify(r.Context(), key, o.scopes...)
			if err != nil {
				o.refuse(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), apiKeyKey{}, res)))
		})
	}
}

func (o *options) refuse(w http.ResponseWriter, r *http.Request, err error) {
	if o.onError != nil {
		o.onError(w, r, err)
		return
	}
	metadata := ""
	if o.resource != nil {
		metadata = o.resource.MetadataURL()
	}
	writeError(w, err, o.realm, metadata)
}

// bearer extracts the token of an "Authorization: Bearer" header; the
// scheme is case-insensitive (RFC 9110 §11.1).
func bearer(h string) (string, bool) { return authScheme(h, "Bearer") }

// authScheme extracts the credentials of an Authorization header of the
// scheme name (case-insensitive).
func authScheme(h, name string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, name) {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
