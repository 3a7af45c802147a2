package store

import (
	"context"
	"encoding/json"
	"time"
)

// Client is an OAuth2 client registration (RFC 6749 §2).
type Client struct {
	ID   string
	Name string
	// SecretDigest is the keyed digest of the client secret (HMAC-SHA-256);
	// empty for public clients. The secret itself is never stored.
	SecretDigest []byte
	Public       bool
	GrantTypes   []string
	Scopes       []string
	RedirectURIs []string
	// PostLogoutRedirectURIs are the URIs allowed after RP-initiated logout.
	PostLogoutRedirectURIs []string
	Audience               []string
	SkipConsent            bool
	// AccessTokenFormat is "jwt" or "opaque".
	AccessTokenFormat string
	// IDTokenAlg is the JWS algorithm of the client's ID tokens ("" = RS256).
	IDTokenAlg string
	// Disabled clients cannot authenticate, and every token they hold is
	// inactive until they are enabled again.
	Disabled bool
	// PKCEOptional lets a (legacy, confidential) client use the
	// authorization code grant without PKCE; PKCE is required otherwise.
	PKCEOptional bool
	// PARRequired: the client's authorization requests must be pushed
	// first (RFC 9126 §6); a front-channel request without a request_uri
	// from the PAR endpoint is refused.
	PARRequired bool
	// DPoPRequired: the client's token requests must carry a DPoP proof
	// (RFC 9449 §5.2), so every token it gets is sender-constrained.
	DPoPRequired bool
	// BackchannelLogoutURI receives the client's logout tokens (OpenID
	// Connect Back-Channel Logout 1.0 §2.2); empty: none are sent.
	BackchannelLogoutURI string
	// BackchannelLogoutSessionRequired: the client's logout tokens must
	// carry a sid (§2.2), so a logout of a whole user is sent per session.
	BackchannelLogoutSessionRequired bool

	// MFA is the client's second-factor policy: "" (the deployment's),
	// "optional" or "required".
	MFA       string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Resources are the RFC 8707 resources the client may ask for; when
	// empty it may ask for any registered resource (CONTRACT.md).
	Resources []string
	// Registered: the client registered itself at the dynamic client
	// registration endpoint (RFC 7591) rather than being created by an
	// administrator.
	Registered bool
	// RegistrationTokenDigest is the keyed digest of the client's
	// registration access token (RFC 7592 §3); empty when it has none.
	RegistrationTokenDigest []byte
	// RegistrationMetadata is the client metadata (RFC 7591 §2) the client
	// registered that Keyward keeps without acting on it: a JSON object,
	// stored byte for byte; nil when there is none.
	RegistrationMetadata json.RawMessage
	// AuthMethod is how the client authenticates at the token endpoint
	// (RFC 7591 §2 token_endpoint_auth_method): client_secret_basic,
	// client_secret_post, private_key_jwt or none; "" is the default of
	// its kind (none for a public client, client_secret_basic otherwise).
	AuthMethod string
	// JWKS is the client's public JWK Set (RFC 7517 §5) as JSON, for
	// private_key_jwt (RFC 7523 §2.2) and signed request objects (RFC
	// 9101); JWKSURI is where to fetch it instead. At most one is set.
	JWKS    string
	JWKSURI string
	// Profile is the security profile the client is held to: "" (none)
	// or "fapi2", the FAPI 2.0 Security Profile, which the server then
	// enforces on the client's every request.
	Profile string
	// LogoURI is the https URL of the client's logo, shown on the consent
	// page (RFC 7591 §2 logo_uri); "" for none.
	LogoURI string
}

// AssertionStore remembers the jti of client assertions (RFC 7523 §3
// item 7) so that one is accepted once, on every instance.
type AssertionStore interface {
	// UseAssertionJTI records jti for clientID until expiresAt and reports
	// whether it was new: false when the same client's jti is recorded and
	// has not expired at now (a replay). An expired record is replaced.
	UseAssertionJTI(ctx context.Context, clientID, jti string, expiresAt, now time.Time) (bool, error)
	// DeleteExpiredAssertionJTIs prunes records that expired before t.
	DeleteExpiredAssertionJTIs(ctx context.Context, before time.Time) (int64, error)
}

// ClientStore persists clients.
type ClientStore interface {
	// CreateClient stores c; ErrConflict if its ID is taken.
	CreateClient(ctx context.Context, c *Client) error
	// GetClient returns the client or ErrNotFound.
	GetClient(ctx context.Context, id string) (*Client, error)
	// ListClients returns one page ordered by ID and the next cursor.
	// Page.Search looks in the id and name.
	ListClients(ctx context.Context, p Page) ([]*Client, string, error)
	// UpdateClient replaces every field but ID and CreatedAt; ErrNotFound.
	UpdateClient(ctx context.Context, c *Client) error
	// DeleteClient removes the client; ErrNotFound.
	DeleteClient(ctx context.Context, id string) error
}
