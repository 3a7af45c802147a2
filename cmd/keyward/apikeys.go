package main

import (
	"context"
	"strings"
	"time"

	"github.com/keyward/keyward/keys"
)

const apikeysUsage = `usage: keyward apikeys create --name N [--scope "a b"] [--expires-in DURATION] [--rate-limit N/PERIOD]
                               [--owner-user ID | --owner-client ID]
       (the key's environment, kw_live_ or kw_test_, is --api-key-env)
       keyward apikeys list [--limit N] [--cursor C]   (--format json: every page unless --limit)
       keyward apikeys get ID
       keyward apikeys revoke ID
       keyward apikeys roll ID [--grace-period DURATION]`

// apikeys is "keyward apikeys …".
func (m *Main) apikeys(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("%s", apikeysUsage)
	}
	ctx = cliContext(ctx)
	sub, args := args[0], args[1:]
	if m.groupHelp(sub, apikeysUsage) {
		return nil
	}
	fs := m.flags("apikeys " + sub)
	var (
		p                      keys.CreateParams
		scope, rateLimit, env  string
		ownerUser, ownerClient string
		grace                  time.Duration
		list                   *listing
	)
	switch sub {
	case "create":
		fs.StringVar(&p.Name, "name", "", "display name (required)")
		fs.StringVar(&scope, "scope", "", "space-separated scopes")
		fs.DurationVar(&p.ExpiresIn, "expires-in", 0, "lifetime, e.g. 30d or 12h (default: never expires)")
		fs.StringVar(&rateLimit, "rate-limit", "", "N/PERIOD, e.g. 100/1m (default: unlimited)")
		fs.StringVar(&ownerUser, "owner-user", "", "user id that owns the key")
		fs.StringVar(&ownerClient, "owner-client", "", "client id that owns the key")
		fs.StringVar(&env, "env", "", "deprecated: must equal --api-key-env, which sets the key's environment")
	case "list":
		list = bindListing(fs)
	case "roll":
		fs.DurationVar(&grace, "grace-period", 24*time.Hour, "how long the old key keeps working")
	case "get", "revoke":
	default:
		return usagef("unknown subcommand %q\n%s", sub, apikeysUsage)
	}
	if err := m.parse(fs, args); err != nil {
		return err
	}
	pos := fs.Args()
	needID := sub == "get" || sub == "revoke" || sub == "roll"
	if needID && len(pos) != 1 {
		return usagef("apikeys %s takes exactly one key id", sub)
	}
	if !needID && len(pos) != 0 {
		return usagef("apikeys %s: unexpected argument %q", sub, pos[0])
	}
	if sub == "create" {
		if p.ExpiresIn < 0 {
			return usagef("--expires-in must be positive")
		}
		rl, err := keys.ParseRateLimit(rateLimit)
		if err != nil {
			return usagef("--rate-limit: %v", err)
		}
		p.RateLimit, p.Scopes = rl, strings.Fields(scope)
		switch {
		case ownerUser != "" && ownerClient != "":
			return usagef("give at most one of --owner-user and --owner-client")
		case ownerUser != "":
			p.OwnerType, p.OwnerID = keys.OwnerUser, ownerUser
		case ownerClient != "":
			p.OwnerType, p.OwnerID = keys.OwnerClient, ownerClient
		}
		if env != "" && env != m.Config.apiKeyEnv() {
			return usagef("--env %s: this deployment's API keys are %s (--api-key-env, $KEYWARD_API_KEY_ENV); "+
				"a server only accepts keys of its own environment, so create %s keys with --api-key-env %s and serve them with the same setting",
				env, m.Config.apiKeyEnv(), env, env)
		}
	}
	be, err := m.backend(ctx)
	if err != nil {
		return err
	}
	var v keys.View
	switch sub {
	case "create":
		v, err = be.CreateAPIKey(ctx, p)
	case "list":
		items, more, err := fetch(m, list, func(limit int, cursor string) ([]keys.View, string, error) {
			return be.ListAPIKeys(ctx, limit, cursor)
		})
		if err != nil {
			return cliErr(err)
		}
		defer more()
		rows := make([][]string, 0, len(items))
		for _, v := range items {
			rows = append(rows, []string{v.ID, v.Name, v.Hint, v.Scope, keyState(v), ts(deref(v.ExpiresAt)), ts(deref(v.LastUsedAt))})
		}
		return m.emit(items, []string{"ID", "NAME", "HINT", "SCOPE", "STATE", "EXPIRES", "LAST USED"}, rows)
	case "get":
		v, err = be.GetAPIKey(ctx, pos[0])
	case "revoke":
		v, err = be.RevokeAPIKey(ctx, pos[0])
	default: // roll
		v, err = be.RollAPIKey(ctx, pos[0], grace)
	}
	if err != nil {
		return cliErr(err)
	}
	return m.emitKey(v)
}

// keyState is the key's state in the tables: revoked, disabled, expired
// or active.
func keyState(v keys.View) string {
	switch {
	case v.Revoked:
		return "revoked"
	case v.Disabled:
		return "disabled"
	case v.ExpiresAt != nil && !time.Now().Before(*v.ExpiresAt):
		return "expired"
	}
	return "active"
}

// deref is *t, or the zero time for nil.
func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// emitKey prints an API key; the key itself only when just made.
func (m *Main) emitKey(v keys.View) error {
	fields := [][2]string{{"id", v.ID}, {"name", v.Name}, {"prefix", v.Prefix}, {"hint", v.Hint},
		{"scope", v.Scope}, {"state", keyState(v)}, {"expires_at", ts(deref(v.ExpiresAt))}}
	if v.Key != "" {
		fields = append(fields, [2]string{"key", v.Key + "   (shown once; store it now)"})
	}
	return m.emitRecord(v, fields)
}
