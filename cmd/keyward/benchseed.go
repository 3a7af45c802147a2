package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

// benchTokenTTL is the lifetime of the seeded opaque tokens: longer than
// any run.
const benchTokenTTL = 24 * time.Hour

// tokenFile holds the introspection form bodies of the seeded tokens, one
// per fixed-width record, in a file beside the bench's database: kept out
// of the process's memory, so the RSS bench reports is the server's and not
// a million tokens held by the load generator (the file's pages sit in the
// kernel's page cache, which RSS does not count).
type tokenFile struct {
	f     *os.File
	width int
	n     int
}

// tokenWidth is a record's width: an opaque token's form body is about
// 100 bytes; the rest is padding.
const tokenWidth = 192

// body returns the form body of record i.
func (t *tokenFile) body(i int) (string, error) {
	bodies, err := t.bodies(i, 1)
	if err != nil {
		return "", err
	}
	return bodies[0], nil
}

// bodies returns the form bodies of n records from record i, read at once.
func (t *tokenFile) bodies(i, n int) ([]string, error) {
	buf := make([]byte, n*t.width)
	if _, err := t.f.ReadAt(buf, int64(i)*int64(t.width)); err != nil {
		return nil, err
	}
	out := make([]string, n)
	for j := range out {
		out[j] = string(bytes.TrimRight(buf[j*t.width:(j+1)*t.width], " "))
	}
	return out, nil
}

// tokenCursor hands out the records of a tokenFile in order, from the
// first again after the last, reading them a block at a time: a tour's
// load generator then makes one read of the file per tokenBlock requests
// instead of a system call per request, which the one-token scenario it
// is compared with does not make.
type tokenCursor struct {
	f     *tokenFile
	mu    sync.Mutex
	taken int      // records handed out
	start int      // the record block begins with
	block []string // bodies of records start, start+1, …
}

// tokenBlock is how many records a tokenCursor reads at once (48 KiB).
const tokenBlock = 256

// take returns how many records were handed out before this one, and its
// body.
func (c *tokenCursor) take() (int, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.taken
	i := n % c.f.n
	if i < c.start || i >= c.start+len(c.block) {
		block, err := c.f.bodies(i, min(tokenBlock, c.f.n-i))
		if err != nil {
			return n, "", err
		}
		c.start, c.block = i, block
	}
	c.taken++
	return n, c.block[i-c.start], nil
}

// seedOpaqueTokens stores n opaque access tokens of clientID, made as the
// token endpoint makes them, and writes each one's introspection form body
// to a tokenFile in dir. On PostgreSQL the records go in with COPY (pgx CopyFrom), 50,000
// to a batch; on SQLite in transactions of 5,000 inserts
// (ApplyTokenChanges).
func seedOpaqueTokens(ctx context.Context, db database, secret keys.Secret, clientID string, n int, dir string,
	progress io.Writer) (*tokenFile, time.Duration, error) {
	start := time.Now()
	sig, err := newSigning(db, secret, 0, signing.DefaultJWKSMaxAge, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, 0, err
	}
	prov, err := authz.New(ctx, authz.Config{Issuer: "http://keyward-bench.invalid", Store: db, Signer: sig,
		Secret: secret, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, 0, err
	}
	defer prov.Close()
	f, err := os.CreateTemp(dir, "tokens-")
	if err != nil {
		return nil, 0, err
	}
	out := bufio.NewWriterSize(f, 1<<20)
	written := 0
	batch := make([]*store.TokenRecord, 0, 5000)
	pool := poolOf(db)
	if pool != nil {
		batch = make([]*store.TokenRecord, 0, 50_000)
	}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var err error
		if pool != nil {
			err = copyTokens(ctx, pool, batch)
		} else {
			changes := make([]store.TokenChange, len(batch))
			for i, r := range batch {
				changes[i].Create = r
			}
			err = db.ApplyTokenChanges(ctx, changes)
		}
		batch = batch[:0]
		if progress != nil && n > 5000 {
			fmt.Fprintf(progress, "\rseeding opaque tokens: %d of %d", written, n)
		}
		return err
	}
	err = prov.MintOpaqueTokens(ctx, clientID, []string{"read"}, benchTokenTTL, n, func(tok string, r *store.TokenRecord) error {
		body := "token=" + tok
		if len(body) > tokenWidth {
			return fmt.Errorf("a token of %d bytes", len(tok))
		}
		out.WriteString(body)
		out.WriteString(strings.Repeat(" ", tokenWidth-len(body)))
		written++
		batch = append(batch, r)
		if len(batch) == cap(batch) {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = out.Flush()
	}
	if progress != nil && n > 5000 {
		fmt.Fprintln(progress)
	}
	if err != nil {
		// The file holds live bearer tokens: it goes with the failure.
		f.Close()
		os.Remove(f.Name())
		return nil, 0, fmt.Errorf("seeding opaque tokens: %w", err)
	}
	return &tokenFile{f: f, width: tokenWidth, n: written}, time.Since(start), nil
}

// poolOf is the PostgreSQL pool behind db, or nil for SQLite.
func poolOf(db database) *pgxpool.Pool {
	if p, ok := db.(interface{ Pool() *pgxpool.Pool }); ok {
		return p.Pool()
	}
	return nil
}

// copyTokens writes records with one COPY.
func copyTokens(ctx context.Context, pool *pgxpool.Pool, recs []*store.TokenRecord) error {
	_, err := pool.CopyFrom(ctx, pgx.Identifier{"oauth_tokens"},
		[]string{"kind", "signature", "request_id", "client_id", "subject", "active", "access_signature", "data",
			"requested_at", "expires_at"},
		pgx.CopyFromSlice(len(recs), func(i int) ([]any, error) {
			r := recs[i]
			return []any{string(r.Kind), r.Signature, r.RequestID, r.ClientID, r.Subject, r.Active, r.AccessSignature,
				r.Data, r.RequestedAt, r.ExpiresAt}, nil
		}))
	return err
}

// benchBulkRows is how many rows make a seeded table one that
// settleSeeded vacuums.
const benchBulkRows = 1000

// settleSeeded does on PostgreSQL what follows a bulk load there: VACUUM
// (ANALYZE) of the seeded tables, so that the planner has their
// statistics and the visibility map is set, and a CHECKPOINT, so that the
// seeding's dirty pages are written now. Without it autovacuum and the
// checkpointer did that work during the first scenarios, on the cores
// the bench measures (the hello runs beside verify-many fell by a
// sixth), and the prepared statements' generic plans were made without
// statistics. CHECKPOINT needs the pg_checkpoint role (PostgreSQL 15) or
// a superuser; without it the bench goes on.
//
// Only tables given rows in bulk (benchBulkRows or more) are vacuumed: a
// vacuumed table that is nearly empty tells the planner it is as small
// as it looks, so the first generic plans of its lookups read it whole,
// and they stay cached on their connections while the table grows under
// the scenario (on a fresh database the refresh scenario ran at 300–500
// rotations a second this way, 1,500–1,600 without); a table never
// vacuumed is planned as ten pages at least, by its index, as on a new
// deployment.
func settleSeeded(ctx context.Context, db database, opts benchOptions, progress io.Writer) error {
	pool := poolOf(db)
	if pool == nil {
		return nil
	}
	var tables []string
	for _, t := range []struct {
		rows  int
		names []string
	}{{opts.keys, []string{"api_keys", "api_key_secrets"}}, {opts.tokens, []string{"oauth_tokens"}}, {opts.clients, []string{"clients"}}} {
		if t.rows >= benchBulkRows {
			tables = append(tables, t.names...)
		}
	}
	if len(tables) == 0 {
		return nil
	}
	start := time.Now()
	if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) `+strings.Join(tables, ", ")); err != nil {
		return fmt.Errorf("bench: VACUUM after seeding: %w", err)
	}
	if _, err := pool.Exec(ctx, `CHECKPOINT`); err != nil && progress != nil {
		fmt.Fprintf(progress, "bench: no CHECKPOINT after seeding (%v); background writes may reach the first scenarios\n", err)
	}
	if progress != nil && time.Since(start) > time.Second {
		fmt.Fprintf(progress, "settled the seeded tables (VACUUM ANALYZE, CHECKPOINT) in %v\n", time.Since(start).Round(100*time.Millisecond))
	}
	return nil
}
