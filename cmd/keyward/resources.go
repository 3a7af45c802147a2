package main

import (
	"context"
	"strings"

	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/store"
)

// newResources returns the resource registry. onChange tells the caches
// of every instance; nil (the management commands) tells running servers
// through the database.
func newResources(db database, auditor *store.Auditor, onChange func(ctx context.Context)) (*resources.Registry, error) {
	if onChange == nil {
		onChange = func(ctx context.Context) { _ = db.Notify(ctx, resources.Channel, "changed") }
	}
	return resources.NewRegistry(resources.Config{Store: db, NewID: newID, Auditor: auditor, OnChange: onChange})
}

const resourcesUsage = `usage: keyward resources create --uri URI [--name NAME] [--scope "a b"]
       keyward resources list [--limit N] [--cursor C]   (--format json: every page unless --limit)
       keyward resources delete ID|URI

Resources are the resource servers (RFC 8707) clients may ask tokens for
with the resource parameter; a token's aud is the resource's URI. A client
may ask for any registered resource unless its own --resource list leaves
it out.`

// resources is "keyward resources …".
func (m *Main) resources(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("%s", resourcesUsage)
	}
	ctx = cliContext(ctx)
	sub, args := args[0], args[1:]
	if m.groupHelp(sub, resourcesUsage) {
		return nil
	}
	fs := m.flags("resources " + sub)
	var (
		p     resources.Params
		scope string
		list  *listing
	)
	switch sub {
	case "create":
		fs.StringVar(&p.URI, "uri", "", "the resource identifier: an absolute URI without a fragment (required)")
		fs.StringVar(&p.Name, "name", "", "display name")
		fs.StringVar(&scope, "scope", "", "space-separated scopes the resource accepts (empty: any)")
	case "list":
		list = bindListing(fs)
	case "delete":
	default:
		return usagef("unknown subcommand %q\n%s", sub, resourcesUsage)
	}
	if err := m.parse(fs, args); err != nil {
		return err
	}
	pos := fs.Args()
	if sub == "delete" && len(pos) != 1 {
		return usagef("resources delete takes exactly one resource ID or URI")
	}
	if sub != "delete" && len(pos) != 0 {
		return usagef("resources %s: unexpected argument %q", sub, pos[0])
	}
	if sub == "create" && p.URI == "" {
		return usagef("resources create: --uri is required\n%s", resourcesUsage)
	}
	be, err := m.backend(ctx)
	if err != nil {
		return err
	}
	switch sub {
	case "create":
		p.Scopes = strings.Fields(scope)
		v, err := be.CreateResource(ctx, p)
		if err != nil {
			return cliErr(err)
		}
		return m.emitResource(v)
	case "list":
		items, more, err := fetch(m, list, func(limit int, cursor string) ([]resources.View, string, error) {
			return be.ListResources(ctx, limit, cursor)
		})
		if err != nil {
			return cliErr(err)
		}
		defer more()
		rows := make([][]string, 0, len(items))
		for _, v := range items {
			rows = append(rows, []string{v.ID, v.URI, v.Name, v.Scope, ts(v.CreatedAt)})
		}
		return m.emit(items, []string{"ID", "URI", "NAME", "SCOPE", "CREATED"}, rows)
	default: // delete
		r, err := be.DeleteResource(ctx, pos[0])
		if err != nil {
			return cliErr(err)
		}
		return m.emitRecord(map[string]any{"id": r.ID, "uri": r.URI, "deleted": true},
			[][2]string{{"deleted", r.ID}, {"uri", r.URI}})
	}
}

func (m *Main) emitResource(v resources.View) error {
	return m.emitRecord(v, [][2]string{{"id", v.ID}, {"uri", v.URI}, {"name", v.Name}, {"scope", v.Scope}})
}
