package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

// newID returns a time-ordered UUIDv7, so lists come out in creation order.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

func newAuditor(s store.AuditStore) *store.Auditor {
	return &store.Auditor{Store: s, NewID: newID, Now: nowUTC}
}

// newClients returns the client registry. onChange tells the caches of
// every instance; nil (the management commands) tells running servers
// through the database.
func newClients(db database, secret keys.Secret, auditor *store.Auditor, onChange func(ctx context.Context, id string)) (*clients.Registry, error) {
	if onChange == nil {
		onChange = func(ctx context.Context, id string) { _ = db.Notify(ctx, clients.Channel, id) }
	}
	return clients.New(clients.Config{Store: db, Hasher: clients.NewHasher(secret), NewID: newID,
		Auditor: auditor, OnChange: onChange})
}

const clientsUsage = `usage: keyward clients create --name NAME [--grant-type T]... [--scope "a b"] [--redirect-uri URI]...
                              [--post-logout-redirect-uri URI]... [--public] [--audience A]...
                              [--skip-consent] [--access-token-format jwt|opaque] [--id-token-alg RS256|ES256|EdDSA]
                              [--pkce-optional] [--resource URI]... [--par-required]
                              [--backchannel-logout-uri URL [--backchannel-logout-session-required]]
                              [--auth-method client_secret_basic|client_secret_post|private_key_jwt|none]
                              [--jwks-file PATH | --jwks-uri URL]   (the client's public keys, for private_key_jwt
                                                                     and signed request objects)
                              [--logo-uri https://…]   (the logo the consent page shows)
       keyward clients update ID [any flag of create]   (only the flags given change; e.g. --par-required=false)
       keyward clients list [--limit N] [--cursor C]   (--format json: every page unless --limit)
       keyward clients get ID
       keyward clients delete ID
       keyward clients disable ID | enable ID   (a disabled client's tokens stop working at once)
       keyward clients rotate-secret ID`

// clients is "keyward clients …".
func (m *Main) clients(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("%s", clientsUsage)
	}
	ctx = cliContext(ctx)
	sub, args := args[0], args[1:]
	if m.groupHelp(sub, clientsUsage) {
		return nil
	}
	fs := m.flags("clients " + sub)
	var (
		p        clients.Params
		scope    string
		jwksFile string
		list     *listing
	)
	switch sub {
	case "create", "update":
		fs.StringVar(&p.Name, "name", "", "display name (required)")
		fs.StringArrayVar(&p.GrantTypes, "grant-type", nil, "client_credentials, authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:token-exchange or urn:ietf:params:oauth:grant-type:device_code (repeatable)")
		fs.StringVar(&scope, "scope", "", "space-separated scopes the client may request")
		fs.StringArrayVar(&p.RedirectURIs, "redirect-uri", nil, "redirect URI (repeatable)")
		fs.StringArrayVar(&p.PostLogoutRedirectURIs, "post-logout-redirect-uri", nil, "URI allowed after logout (repeatable)")
		fs.BoolVar(&p.Public, "public", false, "public client (no secret; PKCE required)")
		fs.StringArrayVar(&p.Audience, "audience", nil, "audience the client may request (repeatable)")
		fs.BoolVar(&p.SkipConsent, "skip-consent", false, "do not ask users for consent")
		fs.StringVar(&p.AccessTokenFormat, "access-token-format", "jwt", "jwt or opaque")
		fs.StringVar(&p.IDTokenAlg, "id-token-alg", "", "ID token signing algorithm (default RS256)")
		fs.BoolVar(&p.PKCEOptional, "pkce-optional", false, "let a legacy confidential client skip PKCE (required by default)")
		fs.StringArrayVar(&p.Resources, "resource", nil, "RFC 8707 resource the client may ask for (repeatable; none: any registered resource)")
		fs.BoolVar(&p.PARRequired, "par-required", false, "refuse authorization requests not pushed first to /oauth2/par (RFC 9126)")
		fs.BoolVar(&p.DPoPRequired, "dpop-required", false, "refuse token requests without a DPoP proof, so every token is bound to the client's key (RFC 9449)")
		fs.StringVar(&p.BackchannelLogoutURI, "backchannel-logout-uri", "", "where the client's logout tokens are POSTed (OpenID Connect Back-Channel Logout; https, or http to loopback; \"\" removes it)")
		fs.BoolVar(&p.BackchannelLogoutSessionRequired, "backchannel-logout-session-required", false, "every logout token names the session (sid)")
		fs.StringVar(&p.AuthMethod, "auth-method", "", "token endpoint authentication: client_secret_basic (default), client_secret_post, private_key_jwt (RFC 7523) or none (= --public)")
		fs.StringVar(&jwksFile, "jwks-file", "", "file holding the client's public JWK Set (JSON; private keys are refused)")
		fs.StringVar(&p.JWKSURI, "jwks-uri", "", "URL of the client's public JWK Set")
		fs.StringVar(&p.MFA, "mfa", "", "optional or required: whether the client's sign-ins need a second factor (default: the deployment's --mfa)")
		fs.StringVar(&p.LogoURI, "logo-uri", "", "https URL of the client's logo, shown on the consent page (\"\" removes it)")
		fs.StringVar(&p.Profile, "profile", "", "security profile the client is held to: fapi2 (FAPI 2.0 Security Profile: needs --auth-method private_key_jwt, --par-required, --dpop-required); \"\" removes it")
	case "list":
		list = bindListing(fs)
	case "get", "delete", "rotate-secret", "disable", "enable":
	default:
		return usagef("unknown subcommand %q\n%s", sub, clientsUsage)
	}
	if err := m.parse(fs, args); err != nil {
		return err
	}
	pos := fs.Args()
	needID := sub != "create" && sub != "list"
	if needID && len(pos) != 1 {
		return usagef("clients %s takes exactly one client ID", sub)
	}
	if !needID && len(pos) != 0 {
		return usagef("clients %s: unexpected argument %q", sub, pos[0])
	}
	if jwksFile != "" {
		b, err := readJWKSFile(jwksFile)
		if err != nil {
			return err
		}
		p.JWKS = string(b)
	}
	p.Scopes = strings.Fields(scope)
	be, err := m.backend(ctx)
	if err != nil {
		return err
	}
	var v clients.View
	switch sub {
	case "create":
		v, err = be.CreateClient(ctx, p)
	case "update":
		v, err = be.UpdateClient(ctx, pos[0], p, fs.Changed)
	case "list":
		items, more, err := fetch(m, list, func(limit int, cursor string) ([]clients.View, string, error) {
			return be.ListClients(ctx, limit, cursor)
		})
		if err != nil {
			return cliErr(err)
		}
		defer more()
		rows := make([][]string, 0, len(items))
		for _, v := range items {
			rows = append(rows, []string{v.ClientID, v.Name, strings.Join(v.GrantTypes, ","), v.Scope, ts(v.CreatedAt)})
		}
		return m.emit(items, []string{"CLIENT ID", "NAME", "GRANT TYPES", "SCOPE", "CREATED"}, rows)
	case "get":
		v, err = be.GetClient(ctx, pos[0])
	case "delete":
		if err := be.DeleteClient(ctx, pos[0]); err != nil {
			return cliErr(err)
		}
		return m.emitRecord(map[string]any{"client_id": pos[0], "deleted": true}, [][2]string{{"deleted", pos[0]}})
	case "disable", "enable":
		v, err = be.SetClientDisabled(ctx, pos[0], sub == "disable")
	default: // rotate-secret
		v, err = be.RotateClientSecret(ctx, pos[0])
	}
	if err != nil {
		return cliErr(err)
	}
	return m.emitClient(v)
}

// emitClient prints a client; its secret only when just made.
func (m *Main) emitClient(v clients.View) error {
	fields := [][2]string{
		{"client_id", v.ClientID}, {"name", v.Name}, {"grant_types", strings.Join(v.GrantTypes, " ")},
		{"scope", v.Scope}, {"redirect_uris", strings.Join(v.RedirectURIs, " ")},
		{"audience", strings.Join(v.Audience, " ")}, {"resources", strings.Join(v.Resources, " ")}, {"public", boolStr(v.Public)},
		{"skip_consent", boolStr(v.SkipConsent)}, {"access_token_format", v.AccessTokenFormat},
		{"pkce_required", boolStr(v.PKCERequired)}, {"disabled", boolStr(v.Disabled)},
		{"token_endpoint_auth_method", v.TokenEndpointAuth},
	}
	if v.Profile != "" {
		fields = append(fields, [2]string{"profile", v.Profile})
	}
	if v.LogoURI != "" {
		fields = append(fields, [2]string{"logo_uri", v.LogoURI})
	}
	if v.JWKSURI != "" {
		fields = append(fields, [2]string{"jwks_uri", v.JWKSURI})
	}
	if len(v.JWKS) > 0 {
		fields = append(fields, [2]string{"jwks", jwksSummary(string(v.JWKS))})
	}
	if v.ClientSecret != "" {
		fields = append(fields, [2]string{"client_secret", v.ClientSecret + "   (shown once; store it now)"})
	}
	return m.emitRecord(v, fields)
}

func boolStr(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// updatedParams is the settings of cur with those of the flags given
// (changed) taken from p instead.
func updatedParams(cur *store.Client, p clients.Params, changed func(string) bool) clients.Params {
	up := clients.ParamsOf(cur)
	for flag, apply := range map[string]func(){
		"name":                     func() { up.Name = p.Name },
		"grant-type":               func() { up.GrantTypes = p.GrantTypes },
		"scope":                    func() { up.Scopes = p.Scopes },
		"redirect-uri":             func() { up.RedirectURIs = p.RedirectURIs },
		"post-logout-redirect-uri": func() { up.PostLogoutRedirectURIs = p.PostLogoutRedirectURIs },
		"public":                   func() { up.Public = p.Public },
		"audience":                 func() { up.Audience = p.Audience },
		"skip-consent":             func() { up.SkipConsent = p.SkipConsent },
		"access-token-format":      func() { up.AccessTokenFormat = p.AccessTokenFormat },
		"id-token-alg":             func() { up.IDTokenAlg = p.IDTokenAlg },
		"pkce-optional":            func() { up.PKCEOptional = p.PKCEOptional },
		"par-required":             func() { up.PARRequired = p.PARRequired },
		"dpop-required":            func() { up.DPoPRequired = p.DPoPRequired },
		"mfa":                      func() { up.MFA = p.MFA },
		"resource":                 func() { up.Resources = p.Resources },
		"backchannel-logout-uri":   func() { up.BackchannelLogoutURI = p.BackchannelLogoutURI },
		"backchannel-logout-session-required": func() {
			up.BackchannelLogoutSessionRequired = p.BackchannelLogoutSessionRequired
		},
		"auth-method": func() { up.AuthMethod = p.AuthMethod },
		// A JWK Set by value replaces one by reference, and the other way round.
		"jwks-file": func() { up.JWKS, up.JWKSURI = p.JWKS, "" },
		"jwks-uri":  func() { up.JWKS, up.JWKSURI = "", p.JWKSURI },
		"profile":   func() { up.Profile = p.Profile },
		"logo-uri":  func() { up.LogoURI = p.LogoURI },
	} {
		if changed(flag) {
			apply()
		}
	}
	return up
}

// readJWKSFile reads the JWK Set of --jwks-file ("-": standard input),
// at most clients.MaxJWKSBytes.
func readJWKSFile(path string) ([]byte, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, usageError{fmt.Errorf("--jwks-file: %w", err)}
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, clients.MaxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("--jwks-file: %w", err)
	}
	// Not JSON at all: refused here, in the registry's words, so that
	// remote mode need not send it.
	var v any
	if err := json.Unmarshal(b, &v); err != nil && len(b) <= clients.MaxJWKSBytes {
		return nil, cliErr(store.Invalid("jwks: not a JSON JWK Set: " + err.Error()))
	}
	return b, nil
}

// jwksSummary names the keys of a JWK Set for the human table.
func jwksSummary(raw string) string {
	set, err := clients.ParseJWKS([]byte(raw))
	if err != nil {
		return "(unreadable)"
	}
	var ids []string
	for _, k := range set.Keys {
		id := k.KeyID
		if id == "" {
			id = "(no kid)"
		}
		ids = append(ids, id)
	}
	return fmt.Sprintf("%d key(s): %s", len(set.Keys), strings.Join(ids, " "))
}
