package main

import (
	"context"

	"github.com/keyward/keyward/keys/signing"
)

const keysUsage = `usage: keyward keys list
       keyward keys rotate [--alg ES256|RS256|EdDSA]   (default: every algorithm)`

// keys is "keyward keys …": the signing keys.
func (m *Main) keys(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("%s", keysUsage)
	}
	ctx = cliContext(ctx)
	sub, args := args[0], args[1:]
	fs := m.flags("keys " + sub)
	var alg string
	switch sub {
	case "list":
	case "rotate":
		fs.StringVar(&alg, "alg", "", "rotate only this algorithm")
	default:
		return usagef("unknown subcommand %q\n%s", sub, keysUsage)
	}
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if len(fs.Args()) > 0 {
		return usagef("keys %s: unexpected argument %q", sub, fs.Args()[0])
	}
	db, secret, err := m.openMigrated(ctx)
	if err != nil {
		return err
	}
	svc, err := newSigning(db, secret, 0, newAuditor(db), m.log())
	if err != nil {
		return err
	}
	if sub == "rotate" {
		if err := svc.Bootstrap(ctx); err != nil {
			return err
		}
		var recs []*signing.Record
		if alg != "" {
			r, err := svc.Rotate(ctx, alg)
			if err != nil {
				return usagef("%v", err)
			}
			recs = []*signing.Record{r}
		} else if recs, err = svc.RotateAll(ctx); err != nil {
			return err
		}
		return m.emitSigningKeys(recs)
	}
	recs, err := svc.List(ctx)
	if err != nil {
		return err
	}
	return m.emitSigningKeys(recs)
}

func (m *Main) emitSigningKeys(recs []*signing.Record) error {
	rows := make([][]string, 0, len(recs))
	for _, r := range recs {
		rows = append(rows, []string{r.KID, r.Alg, string(r.State), ts(r.CreatedAt), ts(r.ActivatedAt)})
	}
	if recs == nil {
		recs = []*signing.Record{}
	}
	return m.emit(recs, []string{"KID", "ALG", "STATE", "CREATED", "ACTIVATED"}, rows)
}
