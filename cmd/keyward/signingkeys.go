package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
)

const keysUsage = `usage: keyward keys list
       keyward keys rotate [--alg ES256|RS256|EdDSA] [--force]   (default: every algorithm)
       keyward keys import --file PEM_OR_JWK [--alg ALG] [--state next|active|retiring]
       keyward keys revoke KID   (emergency: unpublished at once; an active key is replaced)`

// keys is "keyward keys …": the signing keys.
func (m *Main) keys(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("%s", keysUsage)
	}
	ctx = cliContext(ctx)
	sub, args := args[0], args[1:]
	if m.groupHelp(sub, keysUsage) {
		return nil
	}
	fs := m.flags("keys " + sub)
	var alg, file, state string
	var force bool
	switch sub {
	case "list":
	case "rotate":
		fs.StringVar(&alg, "alg", "", "rotate only this algorithm")
		fs.BoolVar(&force, "force", false, "promote a next key published for less than the JWKS cache lifetime\n"+
			"(resource servers with an older cached JWKS may refuse its tokens until they refetch)")
	case "import":
		fs.StringVar(&file, "file", "", "PEM (PKCS #8, PKCS #1, SEC 1) or private JWK file (required)")
		fs.StringVar(&alg, "alg", "", "algorithm (default: from the JWK or the key type)")
		fs.StringVar(&state, "state", "next", "next (publish first, recommended), active or retiring")
	case "revoke":
	default:
		return usagef("unknown subcommand %q\n%s", sub, keysUsage)
	}
	if err := m.parse(fs, args); err != nil {
		return err
	}
	pos := fs.Args()
	if sub == "revoke" {
		if len(pos) != 1 {
			return usagef("keys revoke takes exactly one kid")
		}
	} else if len(pos) > 0 {
		return usagef("keys %s: unexpected argument %q", sub, pos[0])
	}
	var data []byte
	if sub == "import" {
		if file == "" {
			return usagef("keys import: --file is required")
		}
		var err error
		if data, err = os.ReadFile(file); err != nil {
			return usageError{err}
		}
	}
	be, err := m.backend(ctx)
	if err != nil {
		return err
	}
	switch sub {
	case "import":
		rec, err := be.ImportSigningKey(ctx, data, alg, signing.State(state))
		if err != nil {
			return cliErr(err)
		}
		return m.emitSigningKeys([]*signing.Record{rec})
	case "revoke":
		rec, err := be.RevokeSigningKey(ctx, pos[0])
		if err != nil {
			return cliErr(err)
		}
		return m.emitSigningKeys([]*signing.Record{rec})
	case "rotate":
		recs, err := be.RotateSigningKeys(ctx, alg, force)
		if err != nil {
			return cliErr(err)
		}
		for _, r := range recs {
			if age := time.Since(r.CreatedAt); age < m.Config.JWKSMaxAge {
				fmt.Fprintf(m.Stderr, "warning: %s key %s was published %s ago, less than the JWKS cache lifetime (%s);\n"+
					"         resource servers with an older cached JWKS may refuse its tokens until they refetch it.\n",
					r.Alg, r.KID, keys.FormatDuration(age.Round(time.Second)), keys.FormatDuration(m.Config.JWKSMaxAge))
			}
		}
		return m.emitSigningKeys(recs)
	}
	recs, err := be.ListSigningKeys(ctx)
	if err != nil {
		return cliErr(err)
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
