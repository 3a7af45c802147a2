package accounts

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

// UpstreamCallbackPath is the path of an upstream provider's redirect URI
// under the issuer, with NAME for the provider's name: the URI an
// administrator registers at the upstream (OIDC Core §3.1.2.1).
const UpstreamCallbackPath = "/oauth2/upstream/NAME/callback"

// RedirectURI returns the redirect URI of the upstream provider name for
// the issuer: {issuer}/oauth2/upstream/{name}/callback.
func RedirectURI(issuer, name string) string {
	return strings.TrimSuffix(issuer, "/") + strings.Replace(UpstreamCallbackPath, "NAME", url.PathEscape(name), 1)
}

// Default claims that give a new account its username, email and name
// (OIDC Core §5.1).
const (
	DefaultClaimUsername = "preferred_username"
	DefaultClaimEmail    = "email"
	DefaultClaimName     = "name"
)

// DefaultUpstreamScopes are asked of an upstream when none are configured.
var DefaultUpstreamScopes = []string{"openid", "email", "profile"}

var providerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ProviderParams are an upstream provider's settings. Empty claims take
// the defaults; scopes always include openid.
type ProviderParams struct {
	Name, DisplayName, Issuer, ClientID, ClientSecret string
	Scopes                                            []string
	ClaimUsername, ClaimEmail, ClaimName              string
	// Disabled keeps the provider off the login page.
	Disabled bool
}

func (p *ProviderParams) normalize() {
	p.Name = strings.TrimSpace(p.Name)
	p.DisplayName = strings.TrimSpace(p.DisplayName)
	p.Issuer = strings.TrimSpace(p.Issuer)
	p.ClientID = strings.TrimSpace(p.ClientID)
	if len(p.Scopes) == 0 {
		p.Scopes = slices.Clone(DefaultUpstreamScopes)
	}
	if !slices.Contains(p.Scopes, "openid") {
		p.Scopes = append([]string{"openid"}, p.Scopes...)
	}
	p.Scopes = slices.Compact(p.Scopes)
	def := func(s *string, v string) {
		if *s = strings.TrimSpace(*s); *s == "" {
			*s = v
		}
	}
	def(&p.ClaimUsername, DefaultClaimUsername)
	def(&p.ClaimEmail, DefaultClaimEmail)
	def(&p.ClaimName, DefaultClaimName)
	def(&p.DisplayName, p.Name)
}

// Validate lists every problem of p as a *store.ValidationError. The
// issuer must be https, or http on a loopback host (development).
func (p *ProviderParams) Validate() error {
	var probs []string
	if !providerName.MatchString(p.Name) {
		probs = append(probs, "name: 1 to 63 of a-z, 0-9, '-' and '_', starting with a letter or digit")
	}
	u, err := url.Parse(p.Issuer)
	switch {
	case err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		probs = append(probs, fmt.Sprintf("issuer %q: an absolute URL without query or fragment", p.Issuer))
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback(u.Hostname()):
	default:
		probs = append(probs, fmt.Sprintf("issuer %q: must be https (http only on a loopback host)", p.Issuer))
	}
	if p.ClientID == "" || len(p.ClientID) > 512 {
		probs = append(probs, "client_id: 1 to 512 characters")
	}
	if p.ClientSecret == "" || len(p.ClientSecret) > 4096 {
		probs = append(probs, "client_secret: 1 to 4096 characters")
	}
	for _, s := range p.Scopes {
		if s == "" || strings.ContainsAny(s, " \"\\") || len(s) > 128 {
			probs = append(probs, fmt.Sprintf("scope %q: not a scope token (RFC 6749 §3.3)", s))
		}
	}
	if len(p.DisplayName) > 128 || !utf8.ValidString(p.DisplayName) {
		probs = append(probs, "display_name: at most 128 characters of UTF-8")
	}
	for _, c := range []string{p.ClaimUsername, p.ClaimEmail, p.ClaimName} {
		if len(c) > 128 || strings.ContainsAny(c, " \t\r\n") {
			probs = append(probs, fmt.Sprintf("claim %q: a claim name without spaces", c))
		}
	}
	if len(probs) > 0 {
		return &store.ValidationError{Problems: probs}
	}
	return nil
}

func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1" || strings.HasPrefix(host, "127.")
}

// ProvidersConfig is what Providers needs; Store, Secret and NewID are
// required.
type ProvidersConfig struct {
	Store  store.UpstreamStore
	Secret keys.Secret
	NewID  func() string
	// Issuer gives the redirect URIs (RedirectURI).
	Issuer string
	// Auditor records upstream_provider.* events (nil: none).
	Auditor *store.Auditor
}

// Providers creates and manages the upstream OpenID providers. Their
// client secrets are sealed at rest with AES-256-GCM under a key derived
// from the system secret (keys.PurposeUpstreamSecret), bound to the
// provider's id, as the signing keys' private keys are. Its methods
// return store.ErrNotFound, store.ErrConflict (a name taken) and
// *store.ValidationError.
type Providers struct {
	cfg  ProvidersConfig
	aead cipher.AEAD
}

// NewProviders checks cfg; it does no I/O.
func NewProviders(cfg ProvidersConfig) (*Providers, error) {
	if cfg.Store == nil || cfg.NewID == nil {
		return nil, errors.New("accounts: Store and NewID are required")
	}
	if err := cfg.Secret.Validate(); err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	block, err := aes.NewCipher(cfg.Secret.Derive(keys.PurposeUpstreamSecret))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, err
	}
	return &Providers{cfg: cfg, aead: aead}, nil
}

// sealVersion prefixes every secret this package seals (upstream client
// secrets, TOTP keys), so the scheme can change.
const sealVersion = 1

// ErrUnseal is returned when a client secret does not open: another
// system secret, or a sealed value moved to another row.
var ErrUnseal = errors.New("accounts: cannot decrypt the upstream client secret (another system secret?)")

func sealAD(id string) []byte { return []byte("keyward upstream client secret\x00" + id) }

func (ps *Providers) seal(id, secret string) []byte {
	return ps.aead.Seal([]byte{sealVersion}, nil, []byte(secret), sealAD(id))
}

// ClientSecret opens p's client secret; ErrUnseal.
func (ps *Providers) ClientSecret(p *store.UpstreamProvider) (string, error) {
	if len(p.ClientSecret) < 1 || p.ClientSecret[0] != sealVersion {
		return "", ErrUnseal
	}
	pt, err := ps.aead.Open(nil, nil, p.ClientSecret[1:], sealAD(p.ID))
	if err != nil {
		return "", ErrUnseal
	}
	return string(pt), nil
}

// RedirectURI is RedirectURI for the configured issuer.
func (ps *Providers) RedirectURI(name string) string { return RedirectURI(ps.cfg.Issuer, name) }

// Create validates p and stores a new provider with its event.
func (ps *Providers) Create(ctx context.Context, p ProviderParams) (*store.UpstreamProvider, error) {
	p.normalize()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	id := ps.cfg.NewID()
	up := &store.UpstreamProvider{ID: id, Name: p.Name, DisplayName: p.DisplayName, Issuer: p.Issuer,
		ClientID: p.ClientID, ClientSecret: ps.seal(id, p.ClientSecret), Scopes: p.Scopes,
		ClaimUsername: p.ClaimUsername, ClaimEmail: p.ClaimEmail, ClaimName: p.ClaimName, Enabled: !p.Disabled}
	err := ps.atomic(ctx, func(ctx context.Context) error {
		if err := ps.cfg.Store.CreateUpstreamProvider(ctx, up); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("%w: a provider named %q exists", store.ErrConflict, p.Name)
			}
			return err
		}
		return ps.audit(ctx, "upstream_provider.created", up)
	})
	if err != nil {
		return nil, err
	}
	return up, nil
}

// ProviderPatch changes some settings of a provider; nil fields stay.
type ProviderPatch struct {
	DisplayName, Issuer, ClientID, ClientSecret *string
	Scopes                                      *[]string
	ClaimUsername, ClaimEmail, ClaimName        *string
	Enabled                                     *bool
}

// Update applies patch to the provider with id or name ref.
func (ps *Providers) Update(ctx context.Context, ref string, patch ProviderPatch) (*store.UpstreamProvider, error) {
	var up *store.UpstreamProvider
	err := ps.atomic(ctx, func(ctx context.Context) error {
		var err error
		if up, err = ps.Get(ctx, ref); err != nil {
			return err
		}
		secret, err := ps.ClientSecret(up)
		if err != nil && patch.ClientSecret == nil {
			return err
		}
		p := ProviderParams{Name: up.Name, DisplayName: up.DisplayName, Issuer: up.Issuer, ClientID: up.ClientID,
			ClientSecret: secret, Scopes: up.Scopes, ClaimUsername: up.ClaimUsername, ClaimEmail: up.ClaimEmail,
			ClaimName: up.ClaimName, Disabled: !up.Enabled}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&p.DisplayName, patch.DisplayName)
		set(&p.Issuer, patch.Issuer)
		set(&p.ClientID, patch.ClientID)
		set(&p.ClientSecret, patch.ClientSecret)
		set(&p.ClaimUsername, patch.ClaimUsername)
		set(&p.ClaimEmail, patch.ClaimEmail)
		set(&p.ClaimName, patch.ClaimName)
		if patch.Scopes != nil {
			p.Scopes = *patch.Scopes
		}
		if patch.Enabled != nil {
			p.Disabled = !*patch.Enabled
		}
		p.normalize()
		if err := p.Validate(); err != nil {
			return err
		}
		up.DisplayName, up.Issuer, up.ClientID, up.Scopes = p.DisplayName, p.Issuer, p.ClientID, p.Scopes
		up.ClaimUsername, up.ClaimEmail, up.ClaimName, up.Enabled = p.ClaimUsername, p.ClaimEmail, p.ClaimName, !p.Disabled
		up.ClientSecret = ps.seal(up.ID, p.ClientSecret)
		if err := ps.cfg.Store.UpdateUpstreamProvider(ctx, up); err != nil {
			return err
		}
		return ps.audit(ctx, "upstream_provider.updated", up)
	})
	if err != nil {
		return nil, err
	}
	return up, nil
}

// Get returns the provider with id, or with that name.
func (ps *Providers) Get(ctx context.Context, ref string) (*store.UpstreamProvider, error) {
	up, err := ps.cfg.Store.GetUpstreamProvider(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return ps.cfg.Store.GetUpstreamProviderByName(ctx, ref)
	}
	return up, err
}

// List returns one page of providers.
func (ps *Providers) List(ctx context.Context, p store.Page) ([]*store.UpstreamProvider, string, error) {
	return ps.cfg.Store.ListUpstreamProviders(ctx, p)
}

// Delete removes the provider with id or name ref, and every identity
// linked through it: its people can no longer sign in with it (their
// accounts stay).
func (ps *Providers) Delete(ctx context.Context, ref string) (*store.UpstreamProvider, error) {
	var up *store.UpstreamProvider
	err := ps.atomic(ctx, func(ctx context.Context) error {
		var err error
		if up, err = ps.Get(ctx, ref); err != nil {
			return err
		}
		if err := ps.cfg.Store.DeleteUpstreamProvider(ctx, up.ID); err != nil {
			return err
		}
		return ps.audit(ctx, "upstream_provider.deleted", up)
	})
	if err != nil {
		return nil, err
	}
	return up, nil
}

func (ps *Providers) atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	return store.Atomic(ctx, ps.cfg.Store, fn)
}

func (ps *Providers) audit(ctx context.Context, typ string, up *store.UpstreamProvider) error {
	if ps.cfg.Auditor == nil {
		return nil
	}
	return ps.cfg.Auditor.Record(ctx, typ, up.ID, map[string]any{"name": up.Name, "issuer": up.Issuer,
		"client_id": up.ClientID, "scope": strings.Join(up.Scopes, " "), "enabled": up.Enabled})
}
