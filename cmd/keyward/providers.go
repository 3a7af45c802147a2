package main

import (
	"context"
	"os"
	"strconv"
	"strings"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

// newProviders returns the upstream-provider registry; issuer gives the
// redirect URIs.
func newProviders(db database, secret keys.Secret, issuer string, auditor *store.Auditor) (*accounts.Providers, error) {
	return accounts.NewProviders(accounts.ProvidersConfig{Store: db, Secret: secret, NewID: newID, Issuer: issuer, Auditor: auditor})
}

const providersUsage = `usage: keyward providers create --name NAME --issuer URL --client-id ID --client-secret-stdin
                                [--scope "openid email"] [--display-name TEXT]
                                [--username-claim C] [--email-claim C] [--name-claim C] [--disabled]
                                [--public-issuer URL]
       keyward providers list [--limit N] [--cursor C]   (--format json: every page unless --limit)
       keyward providers delete ID|NAME

Providers are upstream OpenID providers people may sign in with: each is a
"Sign in with …" link on the login page. Register the redirect_uri that
create prints as a redirect URI of the client at the upstream. --issuer is
the UPSTREAM's issuer; --public-issuer is this server's (default
$KEYWARD_ISSUER, else http://127.0.0.1:8080), which the redirect_uri is
under. The client secret is read from standard input and kept encrypted.`

// providers is "keyward providers …".
func (m *Main) providers(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("%s", providersUsage)
	}
	ctx = cliContext(ctx)
	sub, args := args[0], args[1:]
	if m.groupHelp(sub, providersUsage) {
		return nil
	}
	fs := m.flags("providers " + sub)
	var (
		p      accounts.ProviderParams
		scope  string
		stdin  bool
		list   *listing
		public string
	)
	fs.StringVar(&public, "public-issuer", "", "this server's issuer URL, under which the redirect_uri is (default $KEYWARD_ISSUER)")
	switch sub {
	case "create":
		fs.StringVar(&p.Name, "name", "", "short name: a-z, 0-9, '-', '_' (required)")
		fs.StringVar(&p.Issuer, "issuer", "", "the upstream provider's issuer URL (required)")
		fs.StringVar(&p.ClientID, "client-id", "", "this server's client id at the upstream (required)")
		fs.BoolVar(&stdin, "client-secret-stdin", false, "read the client secret from standard input (required)")
		fs.StringVar(&scope, "scope", "", `space-separated scopes to ask for (default "openid email profile")`)
		fs.StringVar(&p.DisplayName, "display-name", "", "the name on the login page's button (default: --name)")
		fs.StringVar(&p.ClaimUsername, "username-claim", accounts.DefaultClaimUsername, "the claim that gives a new account its username")
		fs.StringVar(&p.ClaimEmail, "email-claim", accounts.DefaultClaimEmail, "the claim that gives a new account its email")
		fs.StringVar(&p.ClaimName, "name-claim", accounts.DefaultClaimName, "the claim that gives a new account its name")
		fs.BoolVar(&p.Disabled, "disabled", false, "create the provider turned off")
	case "list":
		list = bindListing(fs)
	case "delete":
	default:
		return usagef("unknown subcommand %q\n%s", sub, providersUsage)
	}
	if err := m.parse(fs, args); err != nil {
		return err
	}
	pos := fs.Args()
	if sub == "delete" && len(pos) != 1 {
		return usagef("providers delete takes exactly one provider ID or name")
	}
	if sub != "delete" && len(pos) != 0 {
		return usagef("providers %s: unexpected argument %q", sub, pos[0])
	}
	if sub == "create" {
		if p.Name == "" || p.Issuer == "" || p.ClientID == "" {
			return usagef("providers create: --name, --issuer and --client-id are required\n%s", providersUsage)
		}
		if !stdin {
			return usagef("--client-secret-stdin is required (secrets are never taken as arguments)")
		}
		secret, err := readPassword(m.Stdin)
		if err != nil {
			return err
		}
		p.ClientSecret = secret
		p.Scopes = strings.Fields(scope)
	}
	if public != "" && m.Config.AdminURL != "" {
		return usagef("--public-issuer does not apply with --admin-url: the server's own issuer gives the redirect_uri")
	}
	m.publicIssuer = public
	be, err := m.backend(ctx)
	if err != nil {
		return err
	}
	switch sub {
	case "create":
		v, err := be.CreateProvider(ctx, p)
		if err != nil {
			return cliErr(err)
		}
		return m.emitRecord(v, [][2]string{{"id", v.ID}, {"name", v.Name}, {"issuer", v.Issuer},
			{"client_id", v.ClientID}, {"scope", v.Scope}, {"enabled", strconv.FormatBool(v.Enabled)},
			{"redirect_uri", v.RedirectURI}})
	case "list":
		items, more, err := fetch(m, list, func(limit int, cursor string) ([]accounts.ProviderView, string, error) {
			return be.ListProviders(ctx, limit, cursor)
		})
		if err != nil {
			return cliErr(err)
		}
		defer more()
		rows := make([][]string, 0, len(items))
		for _, v := range items {
			rows = append(rows, []string{v.ID, v.Name, v.Issuer, v.ClientID, strconv.FormatBool(v.Enabled), v.RedirectURI})
		}
		return m.emit(items, []string{"ID", "NAME", "ISSUER", "CLIENT ID", "ENABLED", "REDIRECT URI"}, rows)
	default: // delete
		up, err := be.DeleteProvider(ctx, pos[0])
		if err != nil {
			return cliErr(err)
		}
		return m.emitRecord(map[string]any{"id": up.ID, "name": up.Name, "deleted": true},
			[][2]string{{"deleted", up.ID}, {"name", up.Name}})
	}
}

// providersIssuer is the issuer the redirect URIs of local mode are under:
// --public-issuer, else $KEYWARD_ISSUER, else the default issuer.
func (m *Main) providersIssuer() string {
	for _, s := range []string{m.publicIssuer, os.Getenv("KEYWARD_ISSUER")} {
		if s != "" {
			return s
		}
	}
	return "http://127.0.0.1:8080"
}
