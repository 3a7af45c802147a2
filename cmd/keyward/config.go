package main

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/keyward/keyward/admin/webhooks"
	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/web"
)

// Config is every setting of the program. Each field is a flag and an
// environment variable (CONTRACT.md, "Settings"); a flag overrides its
// variable, which overrides the default shown in the flag's help.
type Config struct {
	// DataDir holds the embedded database and the generated secret.
	DataDir string
	// DatabaseURL is sqlite://PATH or postgres://… (default: SQLite in DataDir).
	DatabaseURL string
	// Issuer is the public base URL and the "iss" of every token.
	Issuer string
	// PublicAddr serves the OAuth2/OIDC endpoints and the login pages.
	PublicAddr string
	// AdminAddr serves the admin API, the console and /metrics.
	AdminAddr string
	// TLSCert and TLSKey (PEM files, both or neither) serve the public
	// listener, and the admin one unless AdminTLSCert and AdminTLSKey are
	// given, over TLS 1.2 or later; changed files are re-read.
	TLSCert, TLSKey string
	// AdminTLSCert and AdminTLSKey (both or neither) serve the admin
	// listener over TLS with a certificate of its own.
	AdminTLSCert, AdminTLSKey string
	// Secret is the system secret (≥ 32 bytes); generated into
	// DataDir/secret on first run with SQLite, required with PostgreSQL.
	Secret string
	// SecretFile names a file holding the secret instead (one trailing
	// newline is dropped); it sets Secret when the settings are read.
	SecretFile string
	// LogFormat is "text" or "json" (default: text on a terminal).
	LogFormat string
	// NoMigrate makes serve skip migrations.
	NoMigrate bool
	// AccessTokenTTL is the lifetime of access tokens.
	AccessTokenTTL time.Duration
	// KeyRotation is the signing-key rotation period (0 disables it).
	KeyRotation time.Duration
	// RefreshGrace is how long a rotated refresh token still answers with
	// the same new pair (0 disables the grace).
	RefreshGrace time.Duration
	// WebhookRetryFor is how long a webhook delivery is retried.
	WebhookRetryFor time.Duration
	// WebhookDisableAfter disables a webhook whose deliveries have failed
	// for this long (0: never).
	WebhookDisableAfter time.Duration
	// BackchannelRetryFor is how long a back-channel logout token is
	// retried.
	BackchannelRetryFor time.Duration
	// TokenRate is the per-client token-endpoint limit per second
	// (negative: off).
	TokenRate float64
	// RequirePAR refuses authorization requests not pushed first to the
	// PAR endpoint (RFC 9126), for every client.
	RequirePAR bool
	// LoginUIURL and ConsentUIURL replace the built-in login and consent
	// pages with an external UI that answers through the admin API.
	LoginUIURL, ConsentUIURL string
	// ProductName, LogoURL and AccentColor brand the public pages;
	// ThemeDir holds templates, static files and message catalogues that
	// replace the built-in ones (docs/THEMING.md).
	ProductName, LogoURL, AccentColor, ThemeDir string
	// Registration is the dynamic client registration policy (RFC 7591):
	// closed, initial-token (default) or open.
	Registration string
	// RegistrationRate is the per-address limit of open registrations per
	// second (negative: off).
	RegistrationRate float64
	// DPoPNonce makes every DPoP proof carry a server nonce (RFC 9449 §8).
	DPoPNonce bool
	// DPoPProofWindow is how far a DPoP proof's iat may be from now.
	DPoPProofWindow time.Duration
	// MFA is the deployment's second-factor policy: optional (default)
	// or required.
	MFA string
	// TrustedProxies are the addresses (IPs or CIDRs, comma-separated)
	// whose X-Forwarded-For is believed for the client address; default
	// none, so login backoff cannot be dodged with a forged header.
	TrustedProxies string
	// APIKeyEnv is the environment of the API keys this deployment issues
	// and accepts: "live" (default; "" means live) or "test". A key of the
	// other environment verifies as NOT_FOUND.
	APIKeyEnv string
	// Format is the output format of management commands: table or json.
	Format string
	// AdminURL, when set, sends the management commands to that running
	// server's admin API instead of the database (remote mode), with the
	// access token of $KEYWARD_ADMIN_TOKEN or AdminTokenFile.
	AdminURL       string
	AdminTokenFile string
	// JWKSMaxAge is how long verifiers may cache the JWKS (its
	// Cache-Control max-age), and so how long a next key is published
	// before an on-demand rotation may promote it.
	JWKSMaxAge time.Duration
	// OTLPEndpoint is the base URL of an OTLP/HTTP collector that serve
	// sends traces to (<URL>/v1/traces); "" exports nothing unless the
	// standard OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT variables are set.
	OTLPEndpoint string
	// OutboundAllowPrivate lets what a client makes Keyward fetch
	// (jwks_uri, Client ID Metadata Documents) reach loopback, private and
	// link-local addresses, and over http: development and tests only.
	OutboundAllowPrivate bool
	// PprofAddr is a loopback host:port serving net/http/pprof; "" is off.
	PprofAddr string
	// MemoryLimit is the Go runtime's soft memory limit as GOMEMLIMIT
	// writes it ("96MiB", "off"); "" is GOMEMLIMIT's when set, else
	// defaultMemoryLimit (memlimit.go).
	MemoryLimit string
	// LogFlushInterval, when not 0, makes serve collect log lines in a
	// buffer written when full, at least this often, and at shutdown,
	// instead of one write per line.
	LogFlushInterval time.Duration

	// readErrs are problems met while reading the settings, kept for
	// Validate*: environment values that do not parse (see applyEnv) and a
	// secret file that cannot be used (see readSecretFile).
	readErrs []error
}

// defaultPublicAddr is the default --public-addr, of serve and healthcheck.
const defaultPublicAddr = "127.0.0.1:8080"

// setting describes one flag with its environment variable.
type setting struct {
	flag, env, usage string
}

var settings = map[string]setting{
	"data-dir":               {"data-dir", "KEYWARD_DATA_DIR", "where the embedded database and generated secret live"},
	"database-url":           {"database-url", "KEYWARD_DATABASE_URL", "sqlite://PATH or postgres://… (default sqlite://<data-dir>/keyward.db)"},
	"issuer":                 {"issuer", "KEYWARD_ISSUER", "the issuer URL; must be the public base URL"},
	"public-addr":            {"public-addr", "KEYWARD_PUBLIC_ADDR", "address of the OAuth2/OIDC endpoints and login pages"},
	"admin-addr":             {"admin-addr", "KEYWARD_ADMIN_ADDR", "address of the admin API, console and metrics"},
	"tls-cert":               {"tls-cert", "KEYWARD_TLS_CERT", "PEM certificate (chain) file: serve both listeners over TLS; re-read when it changes"},
	"tls-key":                {"tls-key", "KEYWARD_TLS_KEY", "PEM private key file of --tls-cert"},
	"admin-tls-cert":         {"admin-tls-cert", "KEYWARD_ADMIN_TLS_CERT", "PEM certificate file of the admin listener, instead of --tls-cert"},
	"admin-tls-key":          {"admin-tls-key", "KEYWARD_ADMIN_TLS_KEY", "PEM private key file of --admin-tls-cert"},
	"secret":                 {"secret", "KEYWARD_SECRET", "system secret, at least 32 bytes (default: generated into <data-dir>/secret)"},
	"secret-file":            {"secret-file", "KEYWARD_SECRET_FILE", "file holding the system secret, instead of --secret (one trailing newline is dropped)"},
	"log-format":             {"log-format", "KEYWARD_LOG_FORMAT", "text or json (default text on a terminal, else json)"},
	"access-token-ttl":       {"access-token-ttl", "KEYWARD_ACCESS_TOKEN_TTL", "lifetime of access tokens"},
	"key-rotation":           {"key-rotation", "KEYWARD_KEY_ROTATION", "signing-key rotation period; 0 disables scheduled rotation"},
	"refresh-grace":          {"refresh-grace", "KEYWARD_REFRESH_GRACE", "how long a rotated refresh token still returns the same new pair (e.g. 10s for SPAs racing two tabs); 0, the default, disables"},
	"webhook-retry-for":      {"webhook-retry-for", "KEYWARD_WEBHOOK_RETRY_FOR", "how long a failed webhook delivery is retried, with exponential backoff, before it is marked failed"},
	"webhook-disable-after":  {"webhook-disable-after", "KEYWARD_WEBHOOK_DISABLE_AFTER", "disable a webhook whose deliveries have all failed for this long (an audit event says so); 0 never disables"},
	"token-rate-limit":       {"token-rate-limit", "KEYWARD_TOKEN_RATE_LIMIT", "token requests per second per client (burst 2x); -1 disables"},
	"require-par":            {"require-par", "KEYWARD_REQUIRE_PAR", "refuse authorization requests not pushed first to /oauth2/par (RFC 9126), for every client; a client can require it alone (clients create --par-required)"},
	"trusted-proxies":        {"trusted-proxies", "KEYWARD_TRUSTED_PROXIES", "comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For is trusted (default none)"},
	"api-key-env":            {"api-key-env", "KEYWARD_API_KEY_ENV", "live or test: the API keys this deployment issues (kw_live_…/kw_test_…) and accepts"},
	"jwks-max-age":           {"jwks-max-age", "KEYWARD_JWKS_MAX_AGE", "how long verifiers may cache the JWKS; a next key is published at least this long before it signs"},
	"outbound-allow-private": {"outbound-allow-private", "KEYWARD_OUTBOUND_ALLOW_PRIVATE", "let fetches a client can cause (jwks_uri, Client ID Metadata Documents) reach loopback, private and link-local addresses, and http URLs: for development and tests only"},
	"otlp-endpoint":          {"otlp-endpoint", "KEYWARD_OTLP_ENDPOINT", "base URL of an OTLP/HTTP collector (e.g. http://127.0.0.1:4318): export traces to <URL>/v1/traces; OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT do too, and the other OTEL_* variables apply (default: no tracing)"},
	"pprof-addr":             {"pprof-addr", "KEYWARD_PPROF_ADDR", "a loopback host:port (e.g. 127.0.0.1:6060) serving Go's runtime profiles at /debug/pprof/ (default: off)"},
	"memory-limit":           {"memory-limit", "KEYWARD_MEMORY_LIMIT", "the Go runtime's soft memory limit, written as GOMEMLIMIT (96MiB, 1GiB, off), raised by 64 MiB while each password hash runs (default: GOMEMLIMIT when set, else 96MiB)"},
	"log-flush-interval":     {"log-flush-interval", "KEYWARD_LOG_FLUSH_INTERVAL", "0 (default): serve writes each log line at once; else it collects lines in a 64 KiB buffer written when full, at least this often (10ms to 10s) and at shutdown; a crash loses up to this much"},

	// Remote mode of the management commands.
	"admin-url":        {"admin-url", "KEYWARD_ADMIN_URL", "a running server's admin URL (e.g. http://127.0.0.1:8081): call its admin API instead of opening the database, with the access token (scope keyward:admin) in $KEYWARD_ADMIN_TOKEN"},
	"admin-token-file": {"admin-token-file", "KEYWARD_ADMIN_TOKEN_FILE", "file holding the admin API's access token, instead of $KEYWARD_ADMIN_TOKEN"},

	"login-ui-url":   {"login-ui-url", "KEYWARD_LOGIN_UI_URL", "an external sign-in page: the authorization endpoint redirects there with login_challenge, answered through /admin/v1/login-requests (default: the built-in page)"},
	"consent-ui-url": {"consent-ui-url", "KEYWARD_CONSENT_UI_URL", "an external consent page: the authorization endpoint redirects there with consent_challenge, answered through /admin/v1/consent-requests (default: the built-in page)"},
	"product-name":   {"product-name", "KEYWARD_PRODUCT_NAME", "the product name the sign-in pages show in their titles and header (default Keyward)"},
	"logo-url":       {"logo-url", "KEYWARD_LOGO_URL", "an https URL, or a path under /static/ (a file of --theme-dir), of a logo shown on every sign-in page"},
	"accent-color":   {"accent-color", "KEYWARD_ACCENT_COLOR", "the sign-in pages' accent colour, #rgb or #rrggbb (buttons, links, header)"},
	"theme-dir":      {"theme-dir", "KEYWARD_THEME_DIR", "a directory whose templates/NAME.html, static/FILE and locales/LANG.json replace or add to the sign-in pages' built-in ones (see docs/THEMING.md)"},
	// Dynamic client registration (RFC 7591, 7592).
	"registration":            {"registration", "KEYWARD_REGISTRATION", "dynamic client registration (RFC 7591) at /oauth2/register: closed, initial-token (an initial access token from 'keyward registration-tokens create') or open (public clients only, rate-limited per address)"},
	"registration-rate-limit": {"registration-rate-limit", "KEYWARD_REGISTRATION_RATE_LIMIT", "open registrations per second per source address (burst 2x, at least 1); -1 disables"},
	"dpop-nonce":              {"dpop-nonce", "KEYWARD_DPOP_NONCE", "require a server nonce (the DPoP-Nonce header) in every DPoP proof (RFC 9449 §8), at the token, PAR and UserInfo endpoints"},
	"dpop-proof-window":       {"dpop-proof-window", "KEYWARD_DPOP_PROOF_WINDOW", "how far a DPoP proof's iat may be from the server's time, either way (RFC 9449 §11.1)"},

	// Back-channel logout (OpenID Connect Back-Channel Logout 1.0).
	"backchannel-logout-retry-for": {"backchannel-logout-retry-for", "KEYWARD_BACKCHANNEL_LOGOUT_RETRY_FOR", "how long a failed back-channel logout delivery (OpenID Connect Back-Channel Logout) is retried, with the webhooks' backoff, before it is given up"},
	"mfa":                          {"mfa", "KEYWARD_MFA", "optional or required: whether every sign-in needs a second factor (TOTP or passkey); with optional, users who set one up use it, and a client (clients create --mfa required) or acr_values can ask for it"},
}

// bindCommon registers the settings every command shares.
func (c *Config) bindCommon(fs *pflag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", "./keyward-data", usage("data-dir"))
	fs.StringVar(&c.DatabaseURL, "database-url", "", usage("database-url"))
	fs.StringVar(&c.Secret, "secret", "", usage("secret"))
	fs.StringVar(&c.SecretFile, "secret-file", "", usage("secret-file"))
	fs.StringVar(&c.LogFormat, "log-format", "", usage("log-format"))
	fs.StringVar(&c.APIKeyEnv, "api-key-env", keys.EnvLive, usage("api-key-env"))
	fs.DurationVar(&c.JWKSMaxAge, "jwks-max-age", signing.DefaultJWKSMaxAge, usage("jwks-max-age"))
	fs.StringVar(&c.Format, "format", "table", "output format: table or json")
	fs.StringVar(&c.AdminURL, "admin-url", "", usage("admin-url"))
	fs.StringVar(&c.AdminTokenFile, "admin-token-file", "", usage("admin-token-file"))
}

// bindServe registers the settings of serve.
func (c *Config) bindServe(fs *pflag.FlagSet) {
	fs.StringVar(&c.Issuer, "issuer", "http://127.0.0.1:8080", usage("issuer"))
	fs.StringVar(&c.PublicAddr, "public-addr", defaultPublicAddr, usage("public-addr"))
	fs.StringVar(&c.AdminAddr, "admin-addr", "127.0.0.1:8081", usage("admin-addr"))
	fs.StringVar(&c.TLSCert, "tls-cert", "", usage("tls-cert"))
	fs.StringVar(&c.TLSKey, "tls-key", "", usage("tls-key"))
	fs.StringVar(&c.AdminTLSCert, "admin-tls-cert", "", usage("admin-tls-cert"))
	fs.StringVar(&c.AdminTLSKey, "admin-tls-key", "", usage("admin-tls-key"))
	fs.DurationVar(&c.AccessTokenTTL, "access-token-ttl", authz.DefaultAccessTokenTTL, usage("access-token-ttl"))
	fs.DurationVar(&c.KeyRotation, "key-rotation", signing.DefaultRotationPeriod, usage("key-rotation"))
	fs.DurationVar(&c.RefreshGrace, "refresh-grace", 0, usage("refresh-grace"))
	fs.Float64Var(&c.TokenRate, "token-rate-limit", authz.DefaultTokenRate, usage("token-rate-limit"))
	fs.DurationVar(&c.WebhookRetryFor, "webhook-retry-for", webhooks.DefaultRetryFor, usage("webhook-retry-for"))
	fs.DurationVar(&c.BackchannelRetryFor, "backchannel-logout-retry-for", webhooks.DefaultLogoutRetryFor, usage("backchannel-logout-retry-for"))
	fs.DurationVar(&c.WebhookDisableAfter, "webhook-disable-after", webhooks.DefaultDisableAfter, usage("webhook-disable-after"))
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", "", usage("trusted-proxies"))
	fs.BoolVar(&c.RequirePAR, "require-par", false, usage("require-par"))
	fs.StringVar(&c.LoginUIURL, "login-ui-url", "", usage("login-ui-url"))
	fs.StringVar(&c.ConsentUIURL, "consent-ui-url", "", usage("consent-ui-url"))
	fs.StringVar(&c.ProductName, "product-name", web.DefaultProductName, usage("product-name"))
	fs.StringVar(&c.LogoURL, "logo-url", "", usage("logo-url"))
	fs.StringVar(&c.AccentColor, "accent-color", "", usage("accent-color"))
	fs.StringVar(&c.ThemeDir, "theme-dir", "", usage("theme-dir"))
	fs.StringVar(&c.Registration, "registration", authz.RegistrationInitialToken, usage("registration"))
	fs.Float64Var(&c.RegistrationRate, "registration-rate-limit", authz.DefaultRegistrationRate, usage("registration-rate-limit"))
	fs.BoolVar(&c.DPoPNonce, "dpop-nonce", false, usage("dpop-nonce"))
	fs.DurationVar(&c.DPoPProofWindow, "dpop-proof-window", authz.DefaultDPoPProofWindow, usage("dpop-proof-window"))
	fs.StringVar(&c.MFA, "mfa", authz.MFAOptional, usage("mfa"))
	fs.BoolVar(&c.NoMigrate, "no-migrate", false, "do not apply pending migrations on start")
	fs.StringVar(&c.OTLPEndpoint, "otlp-endpoint", "", usage("otlp-endpoint"))
	fs.BoolVar(&c.OutboundAllowPrivate, "outbound-allow-private", false, usage("outbound-allow-private"))
	fs.StringVar(&c.PprofAddr, "pprof-addr", "", usage("pprof-addr"))
	fs.StringVar(&c.MemoryLimit, "memory-limit", "", usage("memory-limit"))
	fs.DurationVar(&c.LogFlushInterval, "log-flush-interval", 0, usage("log-flush-interval"))
}

// usage is the help text of a setting, naming its variable.
func usage(name string) string {
	s := settings[name]
	return s.usage + " ($" + s.env + ")"
}

// applyEnv sets every setting of fs that was not given on the command line
// from its environment variable, after parsing. Flags are bound with their
// documented defaults, never the variables' values, so --help shows no
// secret; and a bad variable is a problem only when its flag did not
// override it. Problems are kept for Validate*.
func (c *Config) applyEnv(fs *pflag.FlagSet) {
	for _, name := range slices.Sorted(maps.Keys(settings)) {
		s := settings[name]
		f := fs.Lookup(name)
		if f == nil || f.Changed {
			continue
		}
		v, ok := os.LookupEnv(s.env)
		if !ok {
			continue
		}
		if err := f.Value.Set(v); err != nil {
			switch f.Value.Type() {
			case "duration":
				err = fmt.Errorf("%s: %q is not a duration (e.g. 30d, 1h, 30m)", s.env, v)
			case "float64":
				err = fmt.Errorf("%s: %q is not a number", s.env, v)
			case "bool":
				err = fmt.Errorf("%s: %q is not true or false", s.env, v)
			default:
				err = fmt.Errorf("%s: %w", s.env, err)
			}
			c.readErrs = append(c.readErrs, err)
		}
	}
}

// readSecretFile sets Secret from SecretFile, dropping one trailing
// newline. Giving both, a file that cannot be read and a secret shorter
// than keys.MinSecretLen are problems kept for Validate*.
func (c *Config) readSecretFile() {
	if c.SecretFile == "" {
		return
	}
	if c.Secret != "" {
		c.readErrs = append(c.readErrs, errors.New("--secret and --secret-file: give one of them, not both"))
		return
	}
	b, err := os.ReadFile(c.SecretFile)
	if err != nil {
		c.readErrs = append(c.readErrs, fmt.Errorf("--secret-file: %w", err))
		return
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if len(s) < keys.MinSecretLen {
		c.readErrs = append(c.readErrs, fmt.Errorf("--secret-file %s: must be at least %d bytes (got %d)", c.SecretFile, keys.MinSecretLen, len(s)))
		return
	}
	c.Secret = s
}

// Engine returns "sqlite" or "postgres" and the DSN for it.
func (c *Config) Engine() (engine, dsn string, err error) {
	u := c.DatabaseURL
	if u == "" {
		return "sqlite", filepath.Join(c.DataDir, "keyward.db"), nil
	}
	switch {
	case strings.HasPrefix(u, "sqlite://"):
		p := strings.TrimPrefix(u, "sqlite://")
		if p == "" {
			return "", "", errors.New("--database-url: sqlite:// needs a path, e.g. sqlite://./keyward-data/keyward.db")
		}
		return "sqlite", p, nil
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		if _, err := url.Parse(u); err != nil {
			return "", "", errors.New("--database-url: not a valid postgres:// URL")
		}
		return "postgres", u, nil
	default:
		return "", "", errors.New("--database-url: must start with sqlite://, postgres:// or postgresql://")
	}
}

// ValidateCommon reports every problem with the shared settings at once.
func (c *Config) ValidateCommon() error { return c.validateCommon(true) }

// ValidateMigrate is ValidateCommon for migrate, which never reads the
// secret, so PostgreSQL does not need one there.
func (c *Config) ValidateMigrate() error { return c.validateCommon(false) }

func (c *Config) validateCommon(needSecret bool) error {
	errs := append([]error(nil), c.readErrs...)
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir: must not be empty"))
	}
	engine, _, err := c.Engine()
	if err != nil {
		errs = append(errs, err)
	}
	if c.Secret != "" && len(c.Secret) < 32 {
		errs = append(errs, fmt.Errorf("--secret: must be at least 32 bytes (got %d)", len(c.Secret)))
	}
	if needSecret && engine == "postgres" && c.Secret == "" && c.SecretFile == "" {
		errs = append(errs, errors.New("--secret (KEYWARD_SECRET) is required with PostgreSQL, so every instance shares it; "+
			"generate one with: openssl rand -hex 32 (or give a file holding it with --secret-file)"))
	}
	switch c.LogFormat {
	case "", "text", "json":
	default:
		errs = append(errs, fmt.Errorf("--log-format: %q is not text or json", c.LogFormat))
	}
	switch c.APIKeyEnv {
	case "", keys.EnvLive, keys.EnvTest:
	default:
		errs = append(errs, fmt.Errorf("--api-key-env: %q is not live or test", c.APIKeyEnv))
	}
	switch c.Format {
	case "table", "json":
	default:
		errs = append(errs, fmt.Errorf("--format: %q is not table or json", c.Format))
	}
	if c.JWKSMaxAge < 10*time.Second || c.JWKSMaxAge > 24*time.Hour {
		errs = append(errs, fmt.Errorf("--jwks-max-age: %s must be between 10s and 24h", c.JWKSMaxAge))
	}
	return errors.Join(errs...)
}

// ValidateServe reports every problem with serve's settings at once.
func (c *Config) ValidateServe() error {
	errs := []error{c.ValidateCommon()}
	if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" {
		errs = append(errs, fmt.Errorf("--issuer: %q must be an absolute http(s) URL without query or fragment", c.Issuer))
	}
	for _, a := range []struct{ name, v string }{{"--public-addr", c.PublicAddr}, {"--admin-addr", c.AdminAddr}} {
		if _, _, err := net.SplitHostPort(a.v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not host:port", a.name, a.v))
		}
	}
	if c.MFA != "" && c.MFA != authz.MFAOptional && c.MFA != authz.MFARequired {
		errs = append(errs, fmt.Errorf("--mfa: %q is not optional or required", c.MFA))
	}
	if c.PublicAddr == c.AdminAddr && c.PublicAddr != "" && !strings.HasSuffix(c.PublicAddr, ":0") {
		errs = append(errs, errors.New("--public-addr and --admin-addr must differ"))
	}
	errs = append(errs, pairProblem("tls-cert", c.TLSCert, "tls-key", c.TLSKey),
		pairProblem("admin-tls-cert", c.AdminTLSCert, "admin-tls-key", c.AdminTLSKey))
	if c.AccessTokenTTL < time.Minute || c.AccessTokenTTL > 24*time.Hour {
		errs = append(errs, fmt.Errorf("--access-token-ttl: %s must be between 1m and 24h", c.AccessTokenTTL))
	}
	for _, p := range c.proxies() {
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				errs = append(errs, fmt.Errorf("--trusted-proxies: %q is not an IP address or CIDR", p))
			}
		}
	}
	if c.TokenRate == 0 {
		errs = append(errs, errors.New("--token-rate-limit: must be positive, or -1 to disable"))
	}
	for flag, v := range map[string]string{"login-ui-url": c.LoginUIURL, "consent-ui-url": c.ConsentUIURL} {
		if u, err := url.Parse(v); v != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "") {
			errs = append(errs, fmt.Errorf("--%s: %q must be an absolute http(s) URL without a fragment", flag, v))
		}
	}
	if n := strings.TrimSpace(c.ProductName); n == "" || len(c.ProductName) > 64 {
		errs = append(errs, fmt.Errorf("--product-name: %q must be 1 to 64 characters", c.ProductName))
	}
	if err := web.CheckLogoURL(c.LogoURL); err != nil {
		errs = append(errs, fmt.Errorf("--logo-url: %w", err))
	}
	if err := web.CheckAccentColor(c.AccentColor); err != nil {
		errs = append(errs, fmt.Errorf("--accent-color: %w", err))
	}
	if c.ThemeDir != "" {
		if st, err := os.Stat(c.ThemeDir); err != nil || !st.IsDir() {
			errs = append(errs, fmt.Errorf("--theme-dir: %q is not a directory", c.ThemeDir))
		}
	}
	switch c.Registration {
	case authz.RegistrationClosed, authz.RegistrationInitialToken, authz.RegistrationOpen:
	default:
		errs = append(errs, fmt.Errorf("--registration: %q must be closed, initial-token or open", c.Registration))
	}
	if c.RegistrationRate == 0 {
		errs = append(errs, errors.New("--registration-rate-limit: must be positive, or -1 to disable"))
	}
	if c.BackchannelRetryFor < time.Second {
		errs = append(errs, fmt.Errorf("--backchannel-logout-retry-for: %s must be at least 1s", c.BackchannelRetryFor))
	}
	if c.WebhookRetryFor < time.Minute {
		errs = append(errs, fmt.Errorf("--webhook-retry-for: %s must be at least 1m", c.WebhookRetryFor))
	}
	if c.WebhookDisableAfter < 0 || c.WebhookDisableAfter > 0 && c.WebhookDisableAfter < time.Hour {
		errs = append(errs, fmt.Errorf("--webhook-disable-after: %s must be 0 (never) or at least 1h", c.WebhookDisableAfter))
	}
	if c.DPoPProofWindow != 0 && (c.DPoPProofWindow < time.Second || c.DPoPProofWindow > 10*time.Minute) {
		errs = append(errs, fmt.Errorf("--dpop-proof-window: %s must be between 1s and 10m", c.DPoPProofWindow))
	}
	if c.RefreshGrace < 0 || c.RefreshGrace > time.Minute {
		errs = append(errs, fmt.Errorf("--refresh-grace: %s must be between 0 (off) and 1m", c.RefreshGrace))
	}
	if c.KeyRotation != 0 && c.KeyRotation < max(time.Hour, c.JWKSMaxAge) {
		errs = append(errs, fmt.Errorf("--key-rotation: %s must be 0 (off) or at least 1h and the --jwks-max-age", c.KeyRotation))
	}
	if c.LogFlushInterval != 0 && (c.LogFlushInterval < 10*time.Millisecond || c.LogFlushInterval > 10*time.Second) {
		errs = append(errs, fmt.Errorf("--log-flush-interval: %s must be 0 (off) or between 10ms and 10s", c.LogFlushInterval))
	}
	errs = append(errs, c.validateTracing(), validatePprofAddr(c.PprofAddr))
	if c.MemoryLimit != "" {
		if _, err := parseMemoryLimit(c.MemoryLimit); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// pairProblem reports a certificate given without its key, or a key
// without its certificate (nil when both or neither are given).
func pairProblem(certName, cert, keyName, key string) error {
	if (cert == "") == (key == "") {
		return nil
	}
	given := certName
	if cert == "" {
		given = keyName
	}
	return fmt.Errorf("--%s and --%s (%s, %s): give both or neither; only --%s is set",
		certName, keyName, settings[certName].env, settings[keyName].env, given)
}

// adminTLS returns the certificate and key files of the admin listener:
// its own pair when given, else the public one ("" for plain HTTP).
func (c *Config) adminTLS() (cert, key string) {
	if c.AdminTLSCert != "" || c.AdminTLSKey != "" {
		return c.AdminTLSCert, c.AdminTLSKey
	}
	return c.TLSCert, c.TLSKey
}

// apiKeyEnv returns APIKeyEnv with its default applied.
func (c *Config) apiKeyEnv() string {
	if c.APIKeyEnv == "" {
		return keys.EnvLive
	}
	return c.APIKeyEnv
}

// proxies returns the trusted proxies as a list (nil: trust none).
func (c *Config) proxies() []string {
	var out []string
	for _, p := range strings.Split(c.TrustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// jsonLogs reports whether logs are JSON: asked for, or not on a terminal.
func (c *Config) jsonLogs(f *os.File) bool {
	switch c.LogFormat {
	case "json":
		return true
	case "text":
		return false
	}
	return !term.IsTerminal(int(f.Fd()))
}
