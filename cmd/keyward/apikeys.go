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
	db, secret, err := m.openMigrated(ctx)
	if err != nil {
		return err
	}
	svc, err := newAPIKeys(db, secret, m.Config.apiKeyEnv(), newAuditor(db), m.log(), nil)
	if err != nil {
		return err
	}
	defer svc.Close()
	switch sub {
	case "create":
		k, raw, err := svc.Create(ctx, p)
		if err != nil {
			return cliErr(err)
		}
		return m.emitKey(k, raw)
	case "list":
		items, more, err := fetch(m, list, func(limit int, cursor string) ([]*keys.APIKey, string, error) {
			return svc.List(ctx, limit, cursor)
		})
		if err != nil {
			return err
		}
		defer more()
		views := make([]keys.View, 0, len(items))
		rows := make([][]string, 0, len(items))
		for _, k := range items {
			v := keys.NewView(k, "")
			views = append(views, v)
			rows = append(rows, []string{k.ID, k.Name, k.Hint, v.Scope, keyState(k), ts(k.ExpiresAt), ts(k.LastUsedAt)})
		}
		return m.emit(views, []string{"ID", "NAME", "HINT", "SCOPE", "STATE", "EXPIRES", "LAST USED"}, rows)
	case "get":
		k, err := svc.Get(ctx, pos[0])
		if err != nil {
			return cliErr(err)
		}
		return m.emitKey(k, "")
	case "revoke":
		if err := svc.Revoke(ctx, pos[0]); err != nil {
			return cliErr(err)
		}
		k, err := svc.Get(ctx, pos[0])
		if err != nil {
			return cliErr(err)
		}
		return m.emitKey(k, "")
	default: // roll
		k, raw, err := svc.Roll(ctx, pos[0], grace)
		if err != nil {
			return cliErr(err)
		}
		return m.emitKey(k, raw)
	}
}

func keyState(k *keys.APIKey) string {
	switch {
	case k.Revoked():
		return "revoked"
	case k.Disabled:
		return "disabled"
	case k.Expired(time.Now()):
		return "expired"
	}
	return "active"
}

func (m *Main) emitKey(k *keys.APIKey, raw string) error {
	v := keys.NewView(k, raw)
	fields := [][2]string{{"id", k.ID}, {"name", k.Name}, {"prefix", v.Prefix}, {"hint", k.Hint},
		{"scope", v.Scope}, {"state", keyState(k)}, {"expires_at", ts(k.ExpiresAt)}}
	if raw != "" {
		fields = append(fields, [2]string{"key", raw + "   (shown once; store it now)"})
	}
	return m.emitRecord(v, fields)
}
