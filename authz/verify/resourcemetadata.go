package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// WellKnownResourcePath is the well-known URI suffix of protected resource
// metadata (RFC 9728 §3).
const WellKnownResourcePath = "/.well-known/oauth-protected-resource"

// ProtectedResourceMetadata is the metadata of an OAuth 2.0 protected
// resource (RFC 9728 §2), served at its well-known URL so that a client
// that knows only the resource's URL can find the authorization servers
// to ask for a token (the discovery MCP clients do). Resource is
// required; the other members are sent when set.
//
//	meta := &verify.ProtectedResourceMetadata{
//		Resource:             "https://mcp.example.com/mcp",
//		AuthorizationServers: []string{"https://auth.example.com"},
//		ScopesSupported:      []string{"tools:call"},
//	}
//	mux.Handle(meta.WellKnownPath(), meta) // /.well-known/oauth-protected-resource/mcp
//
// A request without a valid token is then answered 401 with
// WWW-Authenticate: Bearer resource_metadata="…" (RFC 9728 §5.1); see
// Challenge and ginverify.RequireResource. The Verifier that checks those
// tokens should have Config.Audience set to Resource, so that a token for
// another resource is refused; ginverify.RequireResource checks it too.
type ProtectedResourceMetadata struct {
	// Resource is the protected resource's identifier: an https URL
	// without a fragment (RFC 9728 §1.2), the value clients send as the
	// resource parameter (RFC 8707) and tokens carry as aud.
	Resource string `json:"resource"`
	// AuthorizationServers are the issuer identifiers of the
	// authorization servers that issue tokens for the resource.
	AuthorizationServers []string `json:"authorization_servers,omitempty"`
	JWKSURI              string   `json:"jwks_uri,omitempty"`
	ScopesSupported      []string `json:"scopes_supported,omitempty"`
	// BearerMethodsSupported defaults to ["header"] (RFC 6750 §2.1): the
	// middleware of this SDK reads only the Authorization header.
	BearerMethodsSupported            []string `json:"bearer_methods_supported,omitempty"`
	ResourceSigningAlgValuesSupported []string `json:"resource_signing_alg_values_supported,omitempty"`
	ResourceName                      string   `json:"resource_name,omitempty"`
	ResourceDocumentation             string   `json:"resource_documentation,omitempty"`
	ResourcePolicyURI                 string   `json:"resource_policy_uri,omitempty"`
	ResourceTOSURI                    string   `json:"resource_tos_uri,omitempty"`
	// DPoPSigningAlgValuesSupported and DPoPBoundAccessTokensRequired are
	// RFC 9449 §5.2's members.
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
	DPoPBoundAccessTokensRequired bool     `json:"dpop_bound_access_tokens_required,omitempty"`
}

// Validate reports whether the metadata can be served: a Resource that is
// an absolute http(s) URL with a host, without a fragment, and
// authorization servers that are http(s) URLs.
func (m *ProtectedResourceMetadata) Validate() error {
	u, err := url.Parse(m.Resource)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("verify: resource %q is not an http(s) URL", m.Resource)
	}
	if u.Fragment != "" || strings.Contains(m.Resource, "#") {
		return fmt.Errorf("verify: resource %q has a fragment (RFC 9728 §1.2)", m.Resource)
	}
	for _, as := range m.AuthorizationServers {
		if a, err := url.Parse(as); err != nil || (a.Scheme != "https" && a.Scheme != "http") || a.Host == "" {
			return fmt.Errorf("verify: authorization server %q is not an http(s) URL", as)
		}
	}
	return nil
}

// WellKnownPath returns the path of the metadata on the resource's host:
// the well-known suffix inserted before the resource's path (RFC 9728
// §3.1), "/.well-known/oauth-protected-resource/mcp" for
// https://example.com/mcp, or the suffix alone for a resource without a
// path. A trailing slash of the resource's path is dropped.
func (m *ProtectedResourceMetadata) WellKnownPath() string {
	u, err := url.Parse(m.Resource)
	if err != nil {
		return WellKnownResourcePath
	}
	p := strings.TrimSuffix(u.EscapedPath(), "/")
	return WellKnownResourcePath + p
}

// MetadataURL returns the absolute URL of the metadata (RFC 9728 §3.1),
// the value of the resource_metadata parameter of a challenge. A query of
// the resource is kept after the path.
func (m *ProtectedResourceMetadata) MetadataURL() string {
	u, err := url.Parse(m.Resource)
	if err != nil {
		return ""
	}
	out := url.URL{Scheme: u.Scheme, Host: u.Host, RawQuery: u.RawQuery}
	out.Path, _ = url.PathUnescape(m.WellKnownPath())
	out.RawPath = m.WellKnownPath()
	return out.String()
}

// Challenge returns a WWW-Authenticate value for a request refused for
// want of a valid token: the Bearer scheme of RFC 6750 §3 with
// resource_metadata (RFC 9728 §5.1), followed by params (e.g.
// `error="invalid_token"`), each already in auth-param form.
func (m *ProtectedResourceMetadata) Challenge(params ...string) string {
	out := `Bearer resource_metadata=` + quote(m.MetadataURL())
	for _, p := range params {
		out += ", " + p
	}
	return out
}

// CheckAudience returns an error matching ErrInvalidToken and ErrAudience
// unless the token's aud includes Resource (RFC 8707 §2, RFC 9068 §4):
// a token issued for another resource is refused.
func (m *ProtectedResourceMetadata) CheckAudience(c *Claims) error {
	if c == nil || !slices.Contains(c.Audience, m.Resource) {
		return newTokenError(ErrAudience, fmt.Sprintf("the token is not for %s", m.Resource))
	}
	return nil
}

// ServeHTTP serves the metadata as JSON to GET and HEAD at WellKnownPath
// (404 elsewhere, 405 for other methods), readable from any origin, as a
// browser-based client fetches it (RFC 9728 §3.2).
func (m *ProtectedResourceMetadata) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if r.URL.EscapedPath() != m.WellKnownPath() {
		http.NotFound(w, r)
		return
	}
	h.Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		h.Set("Access-Control-Allow-Methods", "GET, HEAD")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		h.Set("Allow", "GET, HEAD, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := m.document()
	if err != nil {
		http.Error(w, "protected resource metadata: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=3600")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}

func (m *ProtectedResourceMetadata) document() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	doc := *m
	if len(doc.BearerMethodsSupported) == 0 {
		doc.BearerMethodsSupported = []string{"header"}
	}
	return json.Marshal(doc)
}

// FetchResourceMetadata is how a client reads metadata: resourceMetadata
// is the URL of a resource_metadata challenge parameter (or one built
// from the resource, MetadataURL), resource the resource the client
// expected. The document's resource must equal it (RFC 9728 §3.3), or an
// attacker's metadata could send the client to another server.
func FetchResourceMetadata(c *http.Client, resourceMetadata, resource string) (*ProtectedResourceMetadata, error) {
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Get(resourceMetadata)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: HTTP %d", ErrUnavailable, resourceMetadata, resp.StatusCode)
	}
	var m ProtectedResourceMetadata
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, maxResponse)).Decode(&m); err != nil {
		return nil, fmt.Errorf("verify: resource metadata: %w", err)
	}
	if m.Resource != resource {
		return nil, errors.New("verify: resource metadata names resource " + strconv.Quote(m.Resource) + ", not " + strconv.Quote(resource))
	}
	return &m, nil
}
