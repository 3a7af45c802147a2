package authz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/outbound"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/store"
)

// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document,
// as the MCP authorization specification of 2025-11-25 uses them): a
// client_id that is an https URL names a JSON document, served there, that
// describes the client. Keyward fetches it through the outbound Fetcher
// (address guard, limits, HTTP caching), checks it, and treats the client
// as a public one that must use PKCE and always meets the consent page.

// maxCIMDURL bounds a client_id URL (clients.Cache refuses longer ids).
const maxCIMDURL = 255

// cimdScopes are the scopes any metadata-document client may ask for,
// besides those of the registered resources.
var cimdScopes = []string{"openid", "offline_access", "profile", "email"}

// errCIMD is a client_id URL whose document cannot be used: the client is
// unknown (invalid_client at the token endpoint, an error page at the
// authorization endpoint).
var errCIMD = errors.New("client metadata document")

// cimdError says in plain words why a document cannot be used.
type cimdError struct{ reason string }

func (e *cimdError) Error() string { return "client metadata document: " + e.reason }
func (e *cimdError) Is(t error) bool {
	return t == errCIMD || t == store.ErrNotFound
}

func cimdRefused(format string, a ...any) error { return &cimdError{reason: fmt.Sprintf(format, a...)} }

// isCIMDClientID reports whether id is to be read as a metadata
// document's URL: Keyward's own client ids are never URLs.
func isCIMDClientID(id string) bool { return strings.HasPrefix(id, "https://") }

// cimdDoc is the part of the document (RFC 7591 §2 client metadata) that
// Keyward reads; the presence of client_secret is checked separately.
type cimdDoc struct {
	ClientID                string   `json:"client_id"`
	ClientName              string   `json:"client_name"`
	ClientURI               string   `json:"client_uri"`
	LogoURI                 string   `json:"logo_uri"`
	RedirectURIs            []string `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string `json:"post_logout_redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	Scope                   string   `json:"scope"`
}

// cimdClient is a checked document: the client as the rest of authz sees
// it, and what the consent page shows about where it came from.
type cimdClient struct {
	client *store.Client
	// host is the host of the client_id URL: who vouches for the name.
	host string
	// logoURI is the document's logo_uri when it is https, else "".
	logoURI string
}

// cimdResolver turns a client_id URL into a client.
type cimdResolver struct {
	fetch     *outbound.Fetcher
	resources *resources.Cache
	log       *slog.Logger
}

// resolve fetches and checks the document at id. A document that cannot
// be used is a *cimdError (errors.Is errCIMD and store.ErrNotFound); a
// failure to read the registered resources is returned as it is (a store
// outage).
func (r *cimdResolver) resolve(ctx context.Context, id string) (*cimdClient, error) {
	u, err := checkCIMDURL(id)
	if err != nil {
		return nil, err
	}
	raw, err := r.fetch.Get(ctx, id)
	if err != nil {
		return nil, cimdRefused("%s", fetchReason(err))
	}
	var doc cimdDoc
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw.Body, &fields); err != nil {
		return nil, cimdRefused("it is not a JSON object")
	}
	if err := json.Unmarshal(raw.Body, &doc); err != nil {
		return nil, cimdRefused("a member has the wrong type: %v", err)
	}
	for _, k := range []string{"client_secret", "client_secret_expires_at"} {
		if _, ok := fields[k]; ok {
			return nil, cimdRefused("it must not contain %s", k)
		}
	}
	set, err := r.resources.Current(ctx)
	if set == nil && err != nil {
		return nil, err
	}
	c, err := cimdToClient(id, doc, allowedCIMDScopes(set))
	if err != nil {
		return nil, err
	}
	cc := &cimdClient{client: c, host: u.Host}
	if l, err := url.Parse(doc.LogoURI); err == nil && l.Scheme == "https" && l.Host != "" && l.User == nil {
		cc.logoURI = l.String()
	}
	return cc, nil
}

// checkCIMDURL checks a client_id URL (draft §3): https, a path, no
// fragment, no user info, no dot segments.
func checkCIMDURL(id string) (*url.URL, error) {
	if len(id) > maxCIMDURL {
		return nil, cimdRefused("the client_id URL is longer than %d characters", maxCIMDURL)
	}
	u, err := url.Parse(id)
	switch {
	case err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "":
		return nil, cimdRefused("the client_id is not an https URL")
	case u.Fragment != "" || strings.Contains(id, "#"):
		return nil, cimdRefused("the client_id URL must not have a fragment")
	case u.User != nil:
		return nil, cimdRefused("the client_id URL must not contain a user name or password")
	case u.Path == "" || u.Path == "/":
		return nil, cimdRefused("the client_id URL must have a path")
	}
	for _, seg := range strings.Split(u.EscapedPath(), "/") {
		if seg == "." || seg == ".." || strings.EqualFold(seg, "%2e") || strings.EqualFold(seg, "%2e%2e") {
			return nil, cimdRefused("the client_id URL must not contain . or .. segments")
		}
	}
	return u, nil
}

// cimdToClient checks doc against the URL it came from and builds the
// public client it describes.
func cimdToClient(id string, doc cimdDoc, allowed []string) (*store.Client, error) {
	if doc.ClientID != id {
		return nil, cimdRefused("its client_id %q is not the URL it was fetched from", doc.ClientID)
	}
	if m := doc.TokenEndpointAuthMethod; m != "" && m != "none" {
		return nil, cimdRefused("token_endpoint_auth_method %q is not supported; use none", m)
	}
	grants := doc.GrantTypes
	if len(grants) == 0 {
		grants = []string{clients.GrantAuthorizationCode} // RFC 7591 §2
	}
	for _, g := range grants {
		if g != clients.GrantAuthorizationCode && g != clients.GrantRefreshToken {
			return nil, cimdRefused("grant type %q is not allowed; use authorization_code and refresh_token", g)
		}
	}
	if !slices.Contains(grants, clients.GrantAuthorizationCode) {
		return nil, cimdRefused("grant_types must include authorization_code")
	}
	for _, rt := range doc.ResponseTypes {
		if rt != "code" {
			return nil, cimdRefused("response type %q is not allowed; use code", rt)
		}
	}
	if len(doc.RedirectURIs) == 0 {
		return nil, cimdRefused("it has no redirect_uris")
	}
	for _, list := range [][]string{doc.RedirectURIs, doc.PostLogoutRedirectURIs} {
		for _, ru := range list {
			if err := clients.ValidateRedirectURI(ru); err != nil {
				return nil, cimdRefused("redirect URI %q: %v", ru, err)
			}
		}
	}
	scopes := allowed
	if doc.Scope != "" {
		scopes = strings.Fields(doc.Scope)
		for _, s := range scopes {
			if !slices.Contains(allowed, s) {
				return nil, cimdRefused("scope %q is not one this server grants to such clients", s)
			}
		}
	}
	name := strings.TrimSpace(doc.ClientName)
	if name == "" || len(name) > 200 {
		name = id
	}
	return &store.Client{
		ID: id, Name: name, Public: true,
		GrantTypes: slices.Clone(grants), Scopes: slices.Clone(scopes),
		RedirectURIs: slices.Clone(doc.RedirectURIs), PostLogoutRedirectURIs: slices.Clone(doc.PostLogoutRedirectURIs),
		AccessTokenFormat: "jwt",
	}, nil
}

// allowedCIMDScopes are cimdScopes and every scope a registered resource
// declared, as for openly registered clients.
func allowedCIMDScopes(set *resources.Set) []string {
	out := slices.Clone(cimdScopes)
	for _, u := range set.URIs() {
		if r, ok := set.Lookup(u); ok {
			for _, s := range r.Scopes {
				if !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// fetchReason says why the outbound Fetcher could not fetch a document,
// without internals.
func fetchReason(err error) string {
	var se *outbound.StatusError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("fetching it answered HTTP %d", se.Code)
	case errors.Is(err, outbound.ErrForbiddenAddress):
		return "its host is a loopback, private or link-local address, which this server does not fetch from"
	case errors.Is(err, outbound.ErrForbiddenURL):
		return "it cannot be fetched from that URL"
	case errors.Is(err, outbound.ErrTooLarge):
		return "it is too large"
	case errors.Is(err, outbound.ErrTimeout):
		return "fetching it timed out"
	case errors.Is(err, outbound.ErrTooManyRedirects):
		return "fetching it was redirected too often"
	default:
		return "it could not be fetched"
	}
}

// cimdGetter is the client cache's source: metadata-document clients from
// the resolver, every other id from the store.
type cimdGetter struct {
	store clients.Getter
	cimd  *cimdResolver
}

var _ clients.Getter = cimdGetter{}

// GetClient implements clients.Getter: store.ErrNotFound (a *cimdError)
// for a document that cannot be used.
func (g cimdGetter) GetClient(ctx context.Context, id string) (*store.Client, error) {
	if !isCIMDClientID(id) {
		return g.store.GetClient(ctx, id)
	}
	// Called on a client-cache miss only: a line per client and cache
	// period, not per request.
	c, err := g.cimd.resolve(ctx, id)
	var ce *cimdError
	switch {
	case errors.As(err, &ce):
		g.cimd.log.Info("client metadata document refused", "client_id", id, "reason", ce.reason)
		return nil, err
	case err != nil:
		return nil, err
	}
	g.cimd.log.Info("client metadata document loaded", "client_id", id, "client_name", c.client.Name,
		"redirect_uris", c.client.RedirectURIs, "scope", strings.Join(c.client.Scopes, " "))
	return c.client, nil
}

// checkCIMD answers an authorization request whose client_id is a
// metadata document's URL that cannot be used with an error page saying
// why (no redirect: the redirect URIs are unknown), and reports whether
// the request may go on. The document comes from the Fetcher's cache when
// fresh, so fosite's own client lookup costs no second fetch.
func (b *browserFlow) checkCIMD(c *gin.Context) bool {
	id := c.Request.Form.Get("client_id")
	if b.cimd == nil || !isCIMDClientID(id) {
		return true
	}
	_, err := b.cimd.resolve(c.Request.Context(), id)
	var ce *cimdError
	switch {
	case err == nil:
		return true
	case errors.As(err, &ce):
		b.log.Debug("authorize: client metadata document refused", "client_id", id, "reason", ce.reason)
		e := fosite.ErrInvalidClient.WithHint("The client_id " + strconv.Quote(id) + " is a client metadata document URL, but the document cannot be used: " + ce.reason + ".")
		e.CodeField = http.StatusBadRequest
		b.errorPage(c.Writer, c.Request, e)
	default:
		b.log.Warn("authorize: store unavailable", "err", err)
		b.outagePage(c.Writer, c.Request)
	}
	return false
}
