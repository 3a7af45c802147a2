package main

import (
	"context"
	"strconv"
	"time"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

// newInitialTokens returns the initial access tokens of dynamic client
// registration (RFC 7591 §3), digested with the client-secret hasher.
func newInitialTokens(db database, secret keys.Secret, auditor *store.Auditor) (*clients.InitialTokens, error) {
	return clients.NewInitialTokens(clients.InitialTokensConfig{Store: db, Hasher: clients.NewHasher(secret),
		NewID: newID, Auditor: auditor, Now: nowUTC})
}

const registrationTokensUsage = `usage: keyward registration-tokens create [--expires-in DURATION] [--uses N]
       keyward registration-tokens list [--limit N] [--cursor C]   (--format json: every page unless --limit)
       keyward registration-tokens revoke ID

An initial access token (RFC 7591 §3) lets a developer register one or more
clients at the registration endpoint (--registration initial-token, the
default) by sending it as "Authorization: Bearer TOKEN". It expires
(--expires-in, default 24h) and may be limited to N registrations (--uses,
default unlimited). The token is printed once.`

// registrationTokens is "keyward registration-tokens …".
func (m *Main) registrationTokens(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("%s", registrationTokensUsage)
	}
	ctx = cliContext(ctx)
	sub, args := args[0], args[1:]
	if m.groupHelp(sub, registrationTokensUsage) {
		return nil
	}
	fs := m.flags("registration-tokens " + sub)
	var (
		ttl  time.Duration
		uses int
		list *listing
	)
	switch sub {
	case "create":
		fs.DurationVar(&ttl, "expires-in", clients.DefaultInitialTokenTTL, "lifetime, e.g. 1h or 168h")
		fs.IntVar(&uses, "uses", 0, "how many registrations it allows (0: unlimited)")
	case "list":
		list = bindListing(fs)
	case "revoke":
	default:
		return usagef("unknown subcommand %q\n%s", sub, registrationTokensUsage)
	}
	if err := m.parse(fs, args); err != nil {
		return err
	}
	pos := fs.Args()
	if sub == "revoke" && len(pos) != 1 {
		return usagef("registration-tokens revoke takes exactly one token ID")
	}
	if sub != "revoke" && len(pos) != 0 {
		return usagef("registration-tokens %s: unexpected argument %q", sub, pos[0])
	}
	if sub == "create" && (ttl <= 0 || uses < 0) {
		return usagef("registration-tokens create: --expires-in must be positive and --uses not negative")
	}
	be, err := m.backend(ctx)
	if err != nil {
		return err
	}
	var v clients.InitialTokenView
	switch sub {
	case "create":
		v, err = be.CreateRegistrationToken(ctx, ttl, uses)
	case "list":
		items, more, err := fetch(m, list, func(limit int, cursor string) ([]clients.InitialTokenView, string, error) {
			return be.ListRegistrationTokens(ctx, limit, cursor)
		})
		if err != nil {
			return cliErr(err)
		}
		defer more()
		rows := make([][]string, 0, len(items))
		for _, v := range items {
			rows = append(rows, []string{v.ID, v.State, usesText(v), ts(v.ExpiresAt), ts(v.CreatedAt)})
		}
		return m.emit(items, []string{"ID", "STATE", "USES", "EXPIRES", "CREATED"}, rows)
	default: // revoke
		v, err = be.RevokeRegistrationToken(ctx, pos[0])
	}
	if err != nil {
		return cliErr(err)
	}
	return m.emitInitialToken(v)
}

func (m *Main) emitInitialToken(v clients.InitialTokenView) error {
	fields := [][2]string{{"id", v.ID}}
	if v.Token != "" {
		fields = append(fields, [2]string{"token", v.Token})
	}
	fields = append(fields, [2]string{"state", v.State}, [2]string{"uses", usesText(v)}, [2]string{"expires_at", ts(v.ExpiresAt)})
	return m.emitRecord(v, fields)
}

// usesText is "used/max" ("used/unlimited").
func usesText(v clients.InitialTokenView) string {
	limit := "unlimited"
	if v.MaxUses > 0 {
		limit = strconv.Itoa(v.MaxUses)
	}
	return strconv.Itoa(v.Uses) + "/" + limit
}
