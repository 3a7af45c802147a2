package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/jsonenc"
	"github.com/keyward/keyward/store"
)

var (
	_ keys.Store      = (*DB)(nil)
	_ keys.BatchStore = (*DB)(nil)
)

const apiKeyColumns = `id, env, name, hint, owner_type, owner_id, scopes, metadata, rate_limit,
	rate_period_ms, expires_at, disabled, revoked_at, last_used_at, usage_count, created_at, updated_at`

// apiKeySelect is apiKeyColumns read from apiKeyFrom. The usage flush
// writes api_key_usage (migration 00026); a read adds it to what api_keys
// holds, which is zero once migrated but is where a binary of an earlier
// version would still write.
var apiKeySelect = store.SelectColumns(apiKeyColumns, "k", map[string]string{
	"last_used_at": "NULLIF(max(COALESCE(k.last_used_at, 0), COALESCE(u.last_used_at, 0)), 0)",
	"usage_count":  "k.usage_count + COALESCE(u.usage_count, 0)",
})

// apiKeyFrom joins a key to its usage row.
const apiKeyFrom = `api_keys k LEFT JOIN api_key_usage u ON u.key_id = k.id`

// CreateAPIKey implements keys.Store; it returns store.ErrConflict for a
// taken id or digest.
func (d *DB) CreateAPIKey(ctx context.Context, k *keys.APIKey) error {
	if len(k.Secrets) == 0 {
		return errors.New("sqlite: api key without a secret")
	}
	now := d.now()
	k.CreatedAt, k.UpdatedAt = now, now
	tx, err := d.begin(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Env, k.Name, k.Hint, k.OwnerType, k.OwnerID, list(k.Scopes), metadata(k.Metadata),
		k.RateLimit.Limit, k.RateLimit.Period.Milliseconds(), nullMicros(k.ExpiresAt), k.Disabled,
		nullMicros(k.RevokedAt), nullMicros(k.LastUsedAt), k.UsageCount, micros(now), micros(now))
	if err != nil {
		return mapErr(err)
	}
	for i := range k.Secrets {
		s := &k.Secrets[i]
		s.CreatedAt = now
		if _, err := tx.ExecContext(ctx, `INSERT INTO api_key_secrets (digest, key_id, valid_until, created_at)
			VALUES (?, ?, ?, ?)`, s.Digest, k.ID, nullMicros(s.ValidUntil), micros(now)); err != nil {
			return mapErr(err)
		}
	}
	return mapErr(tx.Commit())
}

// GetAPIKey implements keys.Store; it returns store.ErrNotFound.
func (d *DB) GetAPIKey(ctx context.Context, id string) (*keys.APIKey, error) {
	k, err := scanAPIKey(d.q(ctx).QueryRowContext(ctx, `SELECT `+apiKeySelect+` FROM `+apiKeyFrom+` WHERE k.id = ?`, id))
	if err != nil {
		return nil, mapErr(err)
	}
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT digest, valid_until, created_at FROM api_key_secrets
		WHERE key_id = ? ORDER BY valid_until IS NOT NULL, valid_until DESC, created_at DESC`, id)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			s       keys.SecretDigest
			until   sql.NullInt64
			created int64
		)
		if err := rows.Scan(&s.Digest, &until, &created); err != nil {
			return nil, mapErr(err)
		}
		s.ValidUntil, s.CreatedAt = fromNullMicros(until), fromMicros(created)
		k.Secrets = append(k.Secrets, s)
	}
	return k, mapErr(rows.Err())
}

// GetAPIKeys' two statements, one per padded batch size (store.BatchArgs).
var (
	readAPIKeys = store.NewBatchTexts(0, func(list string) string {
		return `SELECT id, env, owner_type, owner_id, scopes, rate_limit, rate_period_ms,
		expires_at, disabled, revoked_at FROM api_keys WHERE id IN (` + list + `)`
	})
	readAPIKeySecrets = store.NewBatchTexts(0, func(list string) string {
		return `SELECT key_id, digest, valid_until, created_at FROM api_key_secrets
		WHERE key_id IN (` + list + `) ORDER BY key_id, valid_until IS NOT NULL, valid_until DESC, created_at DESC`
	})
)

// GetAPIKeys implements keys.BatchStore: the keys among ids that exist,
// each as GetAPIKey returns it without the descriptive fields
// (keys.APIKey.VerificationView), in two queries whatever their number.
func (d *DB) GetAPIKeys(ctx context.Context, ids []string) (map[string]*keys.APIKey, error) {
	out := make(map[string]*keys.APIKey, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args, n := store.BatchArgs(nil, ids)
	rows, err := d.queryPrepared(ctx, readAPIKeys.For(n), args...)
	if err != nil {
		return nil, mapErr(err)
	}
	if err := scanBatchedKeys(rows, out); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	rows, err = d.queryPrepared(ctx, readAPIKeySecrets.For(n), args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	// Scan gives each secret's digest a copy of its own (database/sql
	// copies into a *[]byte), so one target serves every row.
	var (
		id      string
		sd      keys.SecretDigest
		until   sql.NullInt64
		created int64
	)
	for rows.Next() {
		if err := rows.Scan(&id, &sd.Digest, &until, &created); err != nil {
			return nil, mapErr(err)
		}
		if k := out[id]; k != nil {
			sd.ValidUntil, sd.CreatedAt = fromNullMicros(until), fromMicros(created)
			k.Secrets = append(k.Secrets, sd)
		}
	}
	return out, mapErr(rows.Err())
}

// scanBatchedKeys reads GetAPIKeys' key rows into out, by id, and closes
// rows. The scan targets are made once (each would escape anew each row,
// database/sql taking them as interface values); a row's key is copied
// into its own record.
func scanBatchedKeys(rows *sql.Rows, out map[string]*keys.APIKey) error {
	defer rows.Close()
	var (
		row              keys.APIKey
		scopes           string
		periodMS         int64
		expires, revoked sql.NullInt64
	)
	for rows.Next() {
		row = keys.APIKey{} // each row starts from a zero record: nothing of the last key carries over
		err := rows.Scan(&row.ID, &row.Env, &row.OwnerType, &row.OwnerID, &scopes, &row.RateLimit.Limit, &periodMS,
			&expires, &row.Disabled, &revoked)
		if err != nil {
			return mapErr(err)
		}
		if err := parseList(scopes, &row.Scopes); err != nil {
			return err
		}
		row.RateLimit.Period = time.Duration(periodMS) * time.Millisecond
		row.ExpiresAt, row.RevokedAt = fromNullMicros(expires), fromNullMicros(revoked)
		k := new(keys.APIKey)
		*k = row
		out[k.ID] = k
	}
	return mapErr(rows.Err())
}

// ListAPIKeys implements keys.Store.
func (d *DB) ListAPIKeys(ctx context.Context, limit int, cursor string) ([]*keys.APIKey, string, error) {
	return d.SearchAPIKeys(ctx, "", limit, cursor)
}

// SearchAPIKeys implements keys.Store.
func (d *DB) SearchAPIKeys(ctx context.Context, q string, limit int, cursor string) ([]*keys.APIKey, string, error) {
	p := store.Page{Limit: limit, Cursor: cursor}.Normalize()
	cond, sargs := searchClause(q, "id", "name", "hint")
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT `+apiKeySelect+` FROM `+apiKeyFrom+`
		WHERE k.id > ?`+cond+` ORDER BY k.id LIMIT ?`, pageArgs(p.Cursor, sargs, p.Limit)...)
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
	res, err := d.q(ctx).ExecContext(ctx, `UPDATE api_keys SET name = ?, scopes = ?, metadata = ?,
		rate_limit = ?, rate_period_ms = ?, expires_at = ?, updated_at = ? WHERE id = ?`,
		k.Name, list(k.Scopes), metadata(k.Metadata), k.RateLimit.Limit,
		k.RateLimit.Period.Milliseconds(), nullMicros(k.ExpiresAt), micros(k.UpdatedAt), k.ID)
	return mapErr(affected(res, err))
}

// SetAPIKeyDisabled implements keys.Store; it returns store.ErrNotFound.
func (d *DB) SetAPIKeyDisabled(ctx context.Context, id string, disabled bool) error {
	return mapErr(affected(d.q(ctx).ExecContext(ctx,
		`UPDATE api_keys SET disabled = ?, updated_at = ? WHERE id = ?`, disabled, micros(d.now()), id)))
}

// RevokeAPIKey implements keys.Store; it returns store.ErrNotFound.
func (d *DB) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	return mapErr(affected(d.q(ctx).ExecContext(ctx, `UPDATE api_keys
		SET revoked_at = COALESCE(revoked_at, ?), updated_at = ? WHERE id = ?`,
		micros(at), micros(d.now()), id)))
}

// RollAPIKey implements keys.Store; it returns store.ErrNotFound, or
// store.ErrConflict for a revoked key or a taken digest. BEGIN IMMEDIATE
// serializes concurrent rolls.
func (d *DB) RollAPIKey(ctx context.Context, id string, digest []byte, hint string, graceUntil time.Time) error {
	now := d.now()
	tx, err := d.begin(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback()
	var revoked sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT revoked_at FROM api_keys WHERE id = ?`, id).Scan(&revoked); err != nil {
		return mapErr(err)
	}
	if revoked.Valid {
		return fmt.Errorf("%w: api key %s is revoked", store.ErrConflict, id)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE api_keys SET hint = ?, updated_at = ? WHERE id = ?`, []any{hint, micros(now), id}},
		// Forget secrets whose grace ended before this roll.
		{`DELETE FROM api_key_secrets WHERE key_id = ? AND valid_until <= ?`, []any{id, micros(now)}},
		// The current secret, and any older one, end by graceUntil.
		{`UPDATE api_key_secrets SET valid_until = ? WHERE key_id = ? AND (valid_until IS NULL OR valid_until > ?)`,
			[]any{micros(graceUntil), id, micros(graceUntil)}},
		{`INSERT INTO api_key_secrets (digest, key_id, valid_until, created_at) VALUES (?, ?, NULL, ?)`,
			[]any{digest, id, micros(now)}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return mapErr(err)
		}
	}
	return mapErr(tx.Commit())
}

// DeleteAPIKey implements keys.Store; it returns store.ErrNotFound.
func (d *DB) DeleteAPIKey(ctx context.Context, id string) error {
	return mapErr(affected(d.q(ctx).ExecContext(ctx, `DELETE FROM api_keys WHERE id = ?`, id)))
}

// RecordAPIKeyUsage implements keys.Store: the counts go in as JSON
// arrays of [id, count, last used (µs)], one entry an id (repeats merged
// first, so an id twice counts twice), which SQLite reads with json_each
// and joins to the keys by their primary key. An UPDATE a key, each
// parsed anew, took 20 µs a key: 2 s for 100,000 keys, with the write
// lock held all along (BenchmarkRecordAPIKeyUsage: 197 ms for 10,000
// keys, now about 50 ms). A batch larger than usageStatementKeys is
// written in statements of that many, in one transaction (atomic as one
// statement is).
func (d *DB) RecordAPIKeyUsage(ctx context.Context, usage []keys.Usage) error {
	if len(usage) == 0 {
		return nil
	}
	usage = keys.SortedUsage(usage)
	if len(usage) > usageStatementKeys {
		return d.InTx(ctx, func(ctx context.Context) error { return d.recordUsage(ctx, usage) })
	}
	return d.recordUsage(ctx, usage)
}

// usageStatementKeys is the most keys one usage statement names. SQLite
// parses the statement's JSON and joins it in memory outside the Go heap,
// where its allocator keeps what a large statement took: statements of
// 10,000 keys left the process 1.4 MiB larger after a flush of 100,000
// keys, 20,000 left it 3 MiB larger, 2,000 no larger, in as much time.
const usageStatementKeys = 2000

// recordUsage writes usage (merged ids only) in statements of at most
// usageStatementKeys keys.
func (d *DB) recordUsage(ctx context.Context, usage []keys.Usage) error {
	for chunk := range slices.Chunk(usage, usageStatementKeys) {
		if _, err := d.q(ctx).ExecContext(ctx, recordUsageSQL, usageJSON(chunk)); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// usageJSON is the JSON array recordUsageSQL reads, built in the string
// the driver binds rather than in a []byte copied into one.
func usageJSON(usage []keys.Usage) string {
	var arr strings.Builder
	arr.Grow(len(usage)*56 + 2)
	arr.WriteByte('[')
	var buf [128]byte
	for i, u := range usage {
		b := buf[:0]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = jsonenc.String(b, u.ID)
		b = append(b, ',')
		b = strconv.AppendInt(b, u.Count, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, micros(u.LastUsedAt), 10)
		b = append(b, ']')
		arr.Write(b)
	}
	arr.WriteByte(']')
	return arr.String()
}

// recordUsageSQL adds a JSON array of [id, count, last used] to the keys'
// usage rows, skipping ids of keys that do not exist (the join: the
// foreign key would refuse them). WHERE true lets SQLite parse the upsert
// after a join.
const recordUsageSQL = `INSERT INTO api_key_usage (key_id, usage_count, last_used_at)
	SELECT u.id, u.n, NULLIF(u.at, 0) FROM (SELECT value ->> 0 AS id, value ->> 1 AS n, value ->> 2 AS at FROM json_each(?)) AS u
	JOIN api_keys k ON k.id = u.id WHERE true
	ON CONFLICT (key_id) DO UPDATE SET usage_count = usage_count + excluded.usage_count,
		last_used_at = NULLIF(max(COALESCE(last_used_at, 0), COALESCE(excluded.last_used_at, 0)), 0)`

func scanAPIKey(s scanner) (*keys.APIKey, error) {
	var (
		k                          keys.APIKey
		scopes, meta               string
		periodMS, created, updated int64
		expires, revoked, lastUsed sql.NullInt64
	)
	err := s.Scan(&k.ID, &k.Env, &k.Name, &k.Hint, &k.OwnerType, &k.OwnerID, &scopes, &meta,
		&k.RateLimit.Limit, &periodMS, &expires, &k.Disabled, &revoked, &lastUsed, &k.UsageCount,
		&created, &updated)
	if err != nil {
		return nil, mapErr(err)
	}
	if err := parseList(scopes, &k.Scopes); err != nil {
		return nil, err
	}
	if err := parseMetadata([]byte(meta), &k.Metadata); err != nil {
		return nil, err
	}
	k.RateLimit.Period = time.Duration(periodMS) * time.Millisecond
	k.ExpiresAt, k.RevokedAt, k.LastUsedAt = fromNullMicros(expires), fromNullMicros(revoked), fromNullMicros(lastUsed)
	k.CreatedAt, k.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &k, nil
}

func metadata(m map[string]string) string {
	if m == nil {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
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
