package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

var (
	_ keys.Store      = (*DB)(nil)
	_ keys.BatchStore = (*DB)(nil)
)

const apiKeyColumns = `id, env, name, hint, owner_type, owner_id, scopes, metadata, rate_limit,
	rate_period_ms, expires_at, disabled, revoked_at, last_used_at, usage_count, created_at, updated_at`

// CreateAPIKey implements keys.Store; it returns store.ErrConflict for a
// taken id or digest.
func (d *DB) CreateAPIKey(ctx context.Context, k *keys.APIKey) error {
	if len(k.Secrets) == 0 {
		return errors.New("postgres: api key without a secret")
	}
	now := d.now()
	k.CreatedAt, k.UpdatedAt = now, now
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO api_keys (`+apiKeyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		k.ID, k.Env, k.Name, k.Hint, k.OwnerType, k.OwnerID, list(k.Scopes), metadata(k.Metadata),
		k.RateLimit.Limit, k.RateLimit.Period.Milliseconds(), nullTime(k.ExpiresAt), k.Disabled,
		nullTime(k.RevokedAt), nullTime(k.LastUsedAt), k.UsageCount, now, now)
	for i := range k.Secrets {
		k.Secrets[i].CreatedAt = now
		b.Queue(`INSERT INTO api_key_secrets (digest, key_id, valid_until, created_at)
			VALUES ($1, $2, $3, $4)`, k.Secrets[i].Digest, k.ID, nullTime(k.Secrets[i].ValidUntil), now)
	}
	// A batch runs as one implicit transaction.
	return mapErr(d.q(ctx).SendBatch(ctx, b).Close())
}

// GetAPIKey implements keys.Store; it returns store.ErrNotFound.
func (d *DB) GetAPIKey(ctx context.Context, id string) (*keys.APIKey, error) {
	// One round trip: the key's row, with its usage, once per secret
	// (usually one, two while a rolled-over secret is in its grace period).
	// This is the admin read; a cache miss on the verification path reads
	// through GetAPIKeys, which leaves the usage table alone.
	rows, err := d.q(ctx).Query(ctx, `SELECT `+apiKeyColumnsK+`, s.digest, s.valid_until, s.created_at
		FROM api_keys k`+apiKeyUsageJoin+` LEFT JOIN api_key_secrets s ON s.key_id = k.id
		WHERE k.id = $1 ORDER BY s.valid_until DESC NULLS FIRST, s.created_at DESC`, id)
	if err != nil {
		return nil, mapErr(err)
	}
	var k *keys.APIKey
	err = scanKeysWithSecrets(rows, func(row *keys.APIKey) *keys.APIKey {
		if k == nil {
			k = row
		}
		return k
	})
	if err != nil {
		return nil, err
	}
	if k == nil {
		return nil, store.ErrNotFound
	}
	return k, nil
}

// readAPIKeys is GetAPIKeys' statement, the ids an array of parameters as
// readTokenStates has them (one generic plan per length). The lateral
// subquery (OFFSET 0 keeps the planner from flattening it) reads each
// key's secrets through the key_id index: as a plain join, the generic
// plan hashes the whole secrets table for a handful of keys (seen with
// 100,000 keys).
var readAPIKeys = store.NewBatchTexts(1, func(list string) string {
	return `SELECT k.id, k.env, k.owner_type, k.owner_id, k.scopes, k.rate_limit,
		k.rate_period_ms, k.expires_at, k.disabled, k.revoked_at, s.digest, s.valid_until, s.created_at
		FROM api_keys k LEFT JOIN LATERAL (
			SELECT digest, valid_until, created_at FROM api_key_secrets WHERE key_id = k.id OFFSET 0) s ON true
		WHERE k.id = ANY(ARRAY[` + list + `]) ORDER BY k.id, s.valid_until DESC NULLS FIRST, s.created_at DESC`
})

// GetAPIKeys implements keys.BatchStore in one round trip: the keys among
// ids that exist, each as GetAPIKey returns it without the descriptive
// fields (keys.APIKey.VerificationView), which a cache miss on the
// verification path neither reads nor keeps: a tenth of the columns' bytes
// and a third of the allocations of a full record (no metadata to decode).
func (d *DB) GetAPIKeys(ctx context.Context, ids []string) (map[string]*keys.APIKey, error) {
	out := make(map[string]*keys.APIKey, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args, n := store.BatchArgs(nil, ids)
	rows, err := d.q(ctx).Query(ctx, readAPIKeys.For(n), args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	// The scan targets are made once per batch (each would escape anew
	// each row); what a row yields is copied out of them: the key record
	// into its own allocation, the digest as a fresh slice, the times by
	// value.
	var (
		row              keys.APIKey
		scopes, digest   []byte
		periodMS         int64
		expires, revoked *time.Time
		until, created   *time.Time
	)
	for rows.Next() {
		row, digest = keys.APIKey{}, nil
		err := rows.Scan(&row.ID, &row.Env, &row.OwnerType, &row.OwnerID, &scopes, &row.RateLimit.Limit, &periodMS,
			&expires, &row.Disabled, &revoked, &digest, &until, &created)
		if err != nil {
			return nil, mapErr(err)
		}
		k := out[row.ID]
		if k == nil { // the key's first row
			if err := parseList(scopes, &row.Scopes); err != nil {
				return nil, err
			}
			row.RateLimit.Period = time.Duration(periodMS) * time.Millisecond
			row.ExpiresAt, row.RevokedAt = fromNullTime(expires), fromNullTime(revoked)
			k = new(keys.APIKey)
			*k = row
			out[k.ID] = k
		}
		if digest != nil {
			sd := keys.SecretDigest{Digest: digest, ValidUntil: fromNullTime(until)}
			if created != nil {
				sd.CreatedAt = created.UTC()
			}
			k.Secrets = append(k.Secrets, sd)
		}
	}
	return out, mapErr(rows.Err())
}

// scanKeysWithSecrets reads rows of a key's columns followed by one of its
// secrets (NULL for a key without one) and closes them; key returns the
// record a row's secret belongs to (the row's own for a key's first row).
func scanKeysWithSecrets(rows pgx.Rows, key func(row *keys.APIKey) *keys.APIKey) error {
	defer rows.Close()
	for rows.Next() {
		var (
			digest         []byte
			until, created *time.Time
		)
		row, err := scanAPIKey(withColumns{rows, []any{&digest, &until, &created}})
		if err != nil {
			return err
		}
		k := key(row)
		if digest != nil {
			s := keys.SecretDigest{Digest: digest, ValidUntil: fromNullTime(until)}
			if created != nil {
				s.CreatedAt = created.UTC()
			}
			k.Secrets = append(k.Secrets, s)
		}
	}
	return mapErr(rows.Err())
}

// apiKeyColumnsK is apiKeyColumns read from api_keys k joined to its
// usage row u (apiKeyUsageJoin). The usage flush writes api_key_usage
// (migration 00026); a read adds it to what api_keys holds, which is zero
// once migrated but is where an instance of an earlier version still
// writes during a rolling upgrade.
var apiKeyColumnsK = store.SelectColumns(apiKeyColumns, "k", map[string]string{
	"last_used_at": "GREATEST(k.last_used_at, u.last_used_at)",
	"usage_count":  "k.usage_count + COALESCE(u.usage_count, 0)",
})

// apiKeyUsageJoin joins a key k to its usage row u.
const apiKeyUsageJoin = ` LEFT JOIN api_key_usage u ON u.key_id = k.id`

// withColumns scans a row whose first columns are what the caller's scan
// function expects and whose last ones go to extra.
type withColumns struct {
	s     scanner
	extra []any
}

func (w withColumns) Scan(dest ...any) error { return w.s.Scan(append(dest, w.extra...)...) }

// ListAPIKeys implements keys.Store. Ids are in the "C" collation, so the
// order is byte order, as on SQLite.
func (d *DB) ListAPIKeys(ctx context.Context, limit int, cursor string) ([]*keys.APIKey, string, error) {
	return d.SearchAPIKeys(ctx, "", limit, cursor)
}

// SearchAPIKeys implements keys.Store.
func (d *DB) SearchAPIKeys(ctx context.Context, q string, limit int, cursor string) ([]*keys.APIKey, string, error) {
	p := store.Page{Limit: limit, Cursor: cursor}.Normalize()
	cond, sargs := searchClause(q, "id", "name", "hint")
	rows, err := d.q(ctx).Query(ctx, `SELECT `+apiKeyColumnsK+` FROM api_keys k`+apiKeyUsageJoin+`
		WHERE k.id > $1`+cond+` ORDER BY k.id LIMIT $2`, append([]any{p.Cursor, p.Limit}, sargs...)...)
	if err != nil {
		return nil, "", mapErr(err)
	}
	defer rows.Close()
	var out []*keys.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, "", mapErr(err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, "", mapErr(err)
	}
	last := ""
	if len(out) > 0 {
		last = out[len(out)-1].ID
	}
	return out, store.NextCursor(p, len(out), last), nil
}

// UpdateAPIKey implements keys.Store; it returns store.ErrNotFound.
func (d *DB) UpdateAPIKey(ctx context.Context, k *keys.APIKey) error {
	k.UpdatedAt = d.now()
	return mapErr(affected(d.q(ctx).Exec(ctx, `UPDATE api_keys SET name = $1, scopes = $2,
		metadata = $3, rate_limit = $4, rate_period_ms = $5, expires_at = $6, updated_at = $7
		WHERE id = $8`,
		k.Name, list(k.Scopes), metadata(k.Metadata), k.RateLimit.Limit,
		k.RateLimit.Period.Milliseconds(), nullTime(k.ExpiresAt), k.UpdatedAt, k.ID)))
}

// SetAPIKeyDisabled implements keys.Store; it returns store.ErrNotFound.
func (d *DB) SetAPIKeyDisabled(ctx context.Context, id string, disabled bool) error {
	return mapErr(affected(d.q(ctx).Exec(ctx,
		`UPDATE api_keys SET disabled = $1, updated_at = $2 WHERE id = $3`, disabled, d.now(), id)))
}

// RevokeAPIKey implements keys.Store; it returns store.ErrNotFound.
func (d *DB) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	return mapErr(affected(d.q(ctx).Exec(ctx, `UPDATE api_keys
		SET revoked_at = COALESCE(revoked_at, $1), updated_at = $2 WHERE id = $3`, at, d.now(), id)))
}

// RollAPIKey implements keys.Store; it returns store.ErrNotFound, or
// store.ErrConflict for a revoked key or a taken digest. The key's row is
// locked first (FOR UPDATE), which serializes concurrent rolls.
func (d *DB) RollAPIKey(ctx context.Context, id string, digest []byte, hint string, graceUntil time.Time) error {
	now := d.now()
	tx, err := d.q(ctx).Begin(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var revoked *time.Time
	if err := tx.QueryRow(ctx, `SELECT revoked_at FROM api_keys WHERE id = $1 FOR UPDATE`, id).Scan(&revoked); err != nil {
		return mapErr(err)
	}
	if revoked != nil {
		return fmt.Errorf("%w: api key %s is revoked", store.ErrConflict, id)
	}
	b := &pgx.Batch{}
	b.Queue(`UPDATE api_keys SET hint = $1, updated_at = $2 WHERE id = $3`, hint, now, id)
	// Forget secrets whose grace ended before this roll.
	b.Queue(`DELETE FROM api_key_secrets WHERE key_id = $1 AND valid_until <= $2`, id, now)
	// The current secret, and any older one, end by graceUntil.
	b.Queue(`UPDATE api_key_secrets SET valid_until = $1
		WHERE key_id = $2 AND (valid_until IS NULL OR valid_until > $1)`, graceUntil, id)
	b.Queue(`INSERT INTO api_key_secrets (digest, key_id, valid_until, created_at)
		VALUES ($1, $2, NULL, $3)`, digest, id, now)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return mapErr(err)
	}
	return mapErr(tx.Commit(ctx))
}

// DeleteAPIKey implements keys.Store; it returns store.ErrNotFound.
func (d *DB) DeleteAPIKey(ctx context.Context, id string) error {
	return mapErr(affected(d.q(ctx).Exec(ctx, `DELETE FROM api_keys WHERE id = $1`, id)))
}

// RecordAPIKeyUsage implements keys.Store: one statement per
// usageChunk keys (a flush after a tour of 100,000 keys is ten statements,
// not 100,000). Each statement locks its rows in id order before it
// updates them, and the chunks follow id order too, so flushes from
// several instances cannot deadlock. More than one statement run in one
// transaction.
func (d *DB) RecordAPIKeyUsage(ctx context.Context, usage []keys.Usage) error {
	// One row an id: an UPDATE ... FROM updates a row once whatever
	// joins it.
	usage = keys.SortedUsage(usage)
	if len(usage) > usageChunk {
		// All or none: a failed flush is retried whole.
		return d.InTx(ctx, func(ctx context.Context) error { return d.recordUsage(ctx, usage) })
	}
	return d.recordUsage(ctx, usage)
}

func (d *DB) recordUsage(ctx context.Context, usage []keys.Usage) error {
	for chunk := range slices.Chunk(usage, usageChunk) {
		ids := make([]string, len(chunk))
		counts := make([]int64, len(chunk))
		last := make([]time.Time, len(chunk))
		for i, u := range chunk {
			ids[i], counts[i], last[i] = u.ID, u.Count, u.LastUsedAt
		}
		// In id order, so flushes of two instances lock usage rows in the
		// same order; keys that do not exist are skipped (the foreign key
		// would refuse them).
		_, err := d.q(ctx).Exec(ctx, `INSERT INTO api_key_usage (key_id, usage_count, last_used_at)
			SELECT u.id, u.n, u.at FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS u(id, n, at)
			JOIN api_keys k ON k.id = u.id ORDER BY u.id
			ON CONFLICT (key_id) DO UPDATE SET usage_count = api_key_usage.usage_count + EXCLUDED.usage_count,
				last_used_at = GREATEST(api_key_usage.last_used_at, EXCLUDED.last_used_at)`, ids, counts, last)
		if err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// usageChunk is how many keys' usage one statement of RecordAPIKeyUsage
// writes.
const usageChunk = 10_000

func scanAPIKey(s scanner) (*keys.APIKey, error) {
	var (
		k                          keys.APIKey
		scopes, meta               []byte
		periodMS                   int64
		expires, revoked, lastUsed *time.Time
	)
	err := s.Scan(&k.ID, &k.Env, &k.Name, &k.Hint, &k.OwnerType, &k.OwnerID, &scopes, &meta,
		&k.RateLimit.Limit, &periodMS, &expires, &k.Disabled, &revoked, &lastUsed, &k.UsageCount,
		&k.CreatedAt, &k.UpdatedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	if err := parseList(scopes, &k.Scopes); err != nil {
		return nil, err
	}
	if err := parseMetadata(meta, &k.Metadata); err != nil {
		return nil, err
	}
	k.RateLimit.Period = time.Duration(periodMS) * time.Millisecond
	k.ExpiresAt, k.RevokedAt, k.LastUsedAt = fromNullTime(expires), fromNullTime(revoked), fromNullTime(lastUsed)
	k.CreatedAt, k.UpdatedAt = k.CreatedAt.UTC(), k.UpdatedAt.UTC()
	return &k, nil
}

func metadata(m map[string]string) []byte {
	if m == nil {
		return []byte("{}")
	}
	b, _ := json.Marshal(m)
	return b
}

func parseMetadata(b []byte, dst *map[string]string) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if len(m) == 0 {
		m = nil
	}
	*dst = m
	return nil
}
