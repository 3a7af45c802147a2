package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/store"
)

// PathRegister is the dynamic client registration endpoint (RFC 7591 §3);
// PathRegister/{client_id} is each registered client's configuration
// endpoint (RFC 7592 §2), its registration_client_uri.
const PathRegister = "/oauth2/register"

// Registration policies (--registration).
const (
	// RegistrationClosed: nobody registers; discovery does not advertise
	// registration_endpoint and the endpoint answers 403 access_denied.
	// Clients registered before keep their configuration endpoint.
	RegistrationClosed = "closed"
	// RegistrationInitialToken (the default): a registration presents an
	// initial access token (RFC 7591 §3) an administrator created.
	RegistrationInitialToken = "initial-token"
	// RegistrationOpen: anyone may register a public client with https or
	// loopback redirect URIs and the scopes of openScopes and of the
	// registered resources, at a rate limited per source address.
	RegistrationOpen = "open"
)

// DefaultRegistrationRate is the per-address limit of open registrations
// per second (a burst of one, then one per five seconds).
const DefaultRegistrationRate = 0.2

// RegistrationConfig sets up dynamic client registration (RFC 7591) and
// management (RFC 7592).
type RegistrationConfig struct {
	// Policy is RegistrationClosed, RegistrationInitialToken ("" takes it)
	// or RegistrationOpen.
	Policy string
	// Clients creates and changes the registered clients; nil closes
	// registration whatever the Policy.
	Clients *clients.Registry
	// InitialTokens checks initial access tokens; required for
	// RegistrationInitialToken.
	InitialTokens *clients.InitialTokens
	// Rate limits open registrations per source address per second (burst
	// 2×, at least 1); zero takes DefaultRegistrationRate, negative turns
	// the limit off.
	Rate float64
}

func (c *RegistrationConfig) withDefaults() error {
	if c.Policy == "" {
		c.Policy = RegistrationInitialToken
	}
	if c.Rate == 0 {
		c.Rate = DefaultRegistrationRate
	}
	switch c.Policy {
	case RegistrationClosed, RegistrationOpen:
	case RegistrationInitialToken:
		if c.Clients != nil && c.InitialTokens == nil {
			return errors.New("authz: registration by initial token needs InitialTokens")
		}
	default:
		return fmt.Errorf("authz: registration policy %q is not closed, initial-token or open", c.Policy)
	}
	if c.Clients == nil {
		c.Policy = RegistrationClosed
	}
	return nil
}

// registration serves the registration endpoint and the client
// configuration endpoints.
type registration struct {
	cfg       RegistrationConfig
	issuer    string
	store     any // runs the registration's transaction (store.Atomic)
	hasher    *clients.Hasher
	resources *resources.Cache
	limits    *limiter
	log       *slog.Logger
}

// advertised is the registration_endpoint of discovery: "" when closed.
func (h *registration) advertised() string {
	if h.cfg.Policy == RegistrationClosed {
		return ""
	}
	return h.issuer + PathRegister
}

// register is the client registration endpoint (RFC 7591 §3.1): a JSON
// object of client metadata in, 201 with the client information response
// (§3.2.1) out, or 400 invalid_redirect_uri / invalid_client_metadata
// (§3.2.2), 401 invalid_token for a missing or wrong initial access
// token, 403 when registration is closed, 429 past the open policy's rate.
func (h *registration) register(c *gin.Context) {
	ctx := c.Request.Context()
	var initial string
	switch h.cfg.Policy {
	case RegistrationClosed:
		oauthError(c, http.StatusForbidden, "access_denied", "Dynamic client registration is closed on this server.")
		return
	case RegistrationOpen:
		ok, retry, remaining := h.limits.allow("ip:" + c.ClientIP())
		h.limits.headers(c.Writer.Header(), ok, retry, remaining)
		if !ok {
			oauthError(c, http.StatusTooManyRequests, "temporarily_unavailable", "Too many registrations from this address; retry later.")
			return
		}
	case RegistrationInitialToken:
		if initial = bearerToken(c.Request); initial == "" {
			tokenError(c, "An initial access token (Bearer) is required to register a client.")
			return
		}
	}
	m, ok := h.readMetadata(c)
	if !ok {
		return
	}
	rules := registrationRules{policy: h.cfg.Policy}
	if h.cfg.Policy == RegistrationOpen {
		set, err := h.resources.Current(ctx)
		if err != nil {
			unavailable(c)
			return
		}
		rules.resources = set
	}
	p, kept, err := m.params(rules)
	if err != nil {
		metadataRefused(c, err)
		return
	}
	keptJSON, err := json.Marshal(kept)
	if err != nil {
		h.fail(c, err)
		return
	}
	var (
		cl                  *store.Client
		secret, accessToken string
		errToken            = errors.New("initial access token refused")
	)
	err = store.Atomic(ctx, h.store, func(ctx context.Context) error {
		actor := "registration:open"
		if initial != "" {
			id, err := h.cfg.InitialTokens.Use(ctx, initial)
			if errors.Is(err, clients.ErrSecretMismatch) {
				return errToken
			}
			if err != nil {
				return err
			}
			actor = "registration:token:" + id
		}
		var err error
		cl, secret, accessToken, err = h.cfg.Clients.Register(store.WithActor(ctx, actor), p, keptJSON)
		return err
	})
	switch {
	case errors.Is(err, errToken):
		tokenError(c, "The initial access token is unknown, expired, revoked or used up.")
		return
	case err != nil:
		h.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, h.response(cl, kept, secret, accessToken))
}

// readMetadata reads the request's JSON body (RFC 7591 §3.1); it answers
// 400 invalid_client_metadata (413 over the body cap) and returns false
// when the body is not a JSON object of client metadata.
func (h *registration) readMetadata(c *gin.Context) (*clientMetadata, bool) {
	r := c.Request
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		oauthError(c, http.StatusBadRequest, "invalid_client_metadata", "The body must be application/json (RFC 7591 §3.1).")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			oauthError(c, http.StatusRequestEntityTooLarge, "invalid_client_metadata", "The request body is larger than 1 MiB.")
			return nil, false
		}
		oauthError(c, http.StatusBadRequest, "invalid_client_metadata", "The request body could not be read.")
		return nil, false
	}
	m, err := parseClientMetadata(body)
	if err != nil {
		metadataRefused(c, err)
		return nil, false
	}
	return m, true
}

// fail answers an error that is not the client's: 400 for the registry's
// refusal, 503 for a store failure, else 500.
func (h *registration) fail(c *gin.Context, err error) {
	if me, ok := validationProblem(err); ok {
		metadataRefused(c, me)
		return
	}
	if storeFailure(err) {
		unavailable(c)
		return
	}
	h.log.Error("client registration", "err", err)
	oauthError(c, http.StatusInternalServerError, "server_error", "The client could not be registered.")
}

// metadataRefused answers a *metadataError as RFC 7591 §3.2.2 has it.
func metadataRefused(c *gin.Context, err error) {
	var me *metadataError
	if !errors.As(err, &me) {
		me = invalidMetadata("%v", err)
	}
	oauthError(c, http.StatusBadRequest, me.code, me.desc)
}

// tokenError answers 401 invalid_token with the RFC 6750 §3 challenge.
func tokenError(c *gin.Context, desc string) {
	c.Header("WWW-Authenticate", `Bearer realm="keyward", error="invalid_token"`)
	oauthError(c, http.StatusUnauthorized, "invalid_token", desc)
}

// bearerToken returns the token of an "Authorization: Bearer" header
// (RFC 6750 §2.1), or "".
func bearerToken(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// clientInformation is the client information response (RFC 7591 §3.2.1,
// RFC 7592 §3): the registered metadata, as the server settled it, with
// the client's credentials and its configuration endpoint.
type clientInformation struct {
	ClientID                string          `json:"client_id"`
	ClientSecret            string          `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64           `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64          `json:"client_secret_expires_at,omitempty"`
	RegistrationAccessToken string          `json:"registration_access_token,omitempty"`
	RegistrationClientURI   string          `json:"registration_client_uri"`
	ClientName              string          `json:"client_name"`
	RedirectURIs            []string        `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string        `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes              []string        `json:"grant_types"`
	ResponseTypes           []string        `json:"response_types"`
	Scope                   string          `json:"scope"`
	IDTokenSignedAlg        string          `json:"id_token_signed_response_alg"`
	JWKS                    json.RawMessage `json:"jwks,omitempty"`
	JWKSURI                 string          `json:"jwks_uri,omitempty"`
	keptMetadata
}

// response renders cl; secret and accessToken only when just issued.
func (h *registration) response(cl *store.Client, kept keptMetadata, secret, accessToken string) clientInformation {
	info := clientInformation{
		ClientID: cl.ID, ClientSecret: secret, ClientIDIssuedAt: cl.CreatedAt.Unix(),
		RegistrationAccessToken: accessToken, RegistrationClientURI: h.issuer + PathRegister + "/" + cl.ID,
		ClientName: cl.Name, RedirectURIs: nonNilList(cl.RedirectURIs), PostLogoutRedirectURIs: cl.PostLogoutRedirectURIs,
		GrantTypes: nonNilList(cl.GrantTypes), ResponseTypes: []string{}, Scope: strings.Join(cl.Scopes, " "),
		IDTokenSignedAlg: cl.IDTokenAlg, JWKSURI: cl.JWKSURI, keptMetadata: kept,
	}
	if cl.JWKS != "" {
		info.JWKS = json.RawMessage(cl.JWKS)
	}
	if info.IDTokenSignedAlg == "" {
		info.IDTokenSignedAlg = DefaultIDTokenAlg
	}
	for _, g := range cl.GrantTypes {
		if g == clients.GrantAuthorizationCode {
			info.ResponseTypes = []string{"code"}
		}
	}
	if clients.HasSecret(cl) {
		// RFC 7591 §3.2.1: required with a secret; 0 is "does not expire".
		never := int64(0)
		info.ClientSecretExpiresAt = &never
	}
	if info.AuthMethod == "" {
		info.AuthMethod = clients.AuthMethodOf(cl)
	}
	// The policy the client registered under is Keyward's own business.
	info.Policy = ""
	return info
}

func nonNilList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// registrationCORS lets a page of any origin register a client and manage
// its registration (a browser app, or an agent's web client, has no
// registered origin yet): the endpoints read no cookie, and each call
// needs a Bearer token the page itself holds (or, for open registration,
// nothing a foreign page could abuse beyond the per-address limit).
func registrationCORS(c *gin.Context) {
	c.Header("Access-Control-Allow-Origin", "*")
	c.Header("Access-Control-Expose-Headers", "WWW-Authenticate, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset")
}

// registrationPreflight answers a CORS preflight for the registration
// endpoint or a client configuration endpoint, allowing methods with the
// Authorization and Content-Type headers from any origin.
func registrationPreflight(methods string) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Allow", methods+", OPTIONS")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", methods)
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
		h.Set("Access-Control-Max-Age", corsMaxAge)
		c.AbortWithStatus(http.StatusNoContent)
	}
}
