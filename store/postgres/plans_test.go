package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/postgres"
	"github.com/keyward/keyward/store/postgres/pgtest"
)

// TestBatchedReadsKeepGenericPlans: the batched reads (ReadTokens,
// GetAPIKeys) run as prepared statements that PostgreSQL plans once per
// shape and then executes with that generic plan, never planning a batch
// again. Before, the keys went in one array parameter (`= ANY($2)`), and
// PostgreSQL planned every execution: the generic plan of an array of
// unknown length looked dearer than a batch of eight's custom plan, so
// it was never chosen (planning was 20–29% of such a batch's database
// time). The plan counts come from pg_prepared_statements, read on the
// pool's one connection.
func TestBatchedReadsKeepGenericPlans(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.Schema(t), postgres.Config{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := store.Truncate(time.Now())
	var sigs, ids []string
	for i := range 8 {
		sig, id := fmt.Sprintf("sig%d", i), fmt.Sprintf("key%d", i)
		sigs, ids = append(sigs, sig), append(ids, id)
		if err := db.CreateToken(ctx, &store.TokenRecord{Kind: store.KindAccessToken, Signature: sig,
			RequestID: "req" + sig, ClientID: "c", Active: true, Data: []byte(`{}`), RequestedAt: now,
			ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateAPIKey(ctx, &keys.APIKey{ID: id, Env: keys.EnvLive, Name: id, Hint: id,
			OwnerType: keys.OwnerUser, OwnerID: "u", Secrets: []keys.SecretDigest{{Digest: bytes.Repeat([]byte{byte(i)}, 32)}}}); err != nil {
			t.Fatal(err)
		}
	}
	// Statistics of a table of some size: on a nearly empty one every
	// plan costs about the same, and PostgreSQL takes the generic plan
	// whatever the statement's form.
	for _, q := range []string{
		`INSERT INTO oauth_tokens (kind, signature, request_id, client_id, data, requested_at, expires_at)
			SELECT 'access', 'filler' || i, 'r' || i, 'c', '\x7b7d', now(), now() + interval '1 hour'
			FROM generate_series(1, 20000) i`,
		`INSERT INTO api_keys (id, env, name, hint, owner_type, owner_id, scopes, metadata, created_at, updated_at)
			SELECT 'filler' || i, 'live', 'f', 'f', 'user', 'u', '[]', '{}', now(), now()
			FROM generate_series(1, 20000) i`,
		`INSERT INTO api_key_secrets (digest, key_id, created_at)
			SELECT sha256(('filler' || i)::bytea), 'filler' || i, now() FROM generate_series(1, 20000) i`,
		`ANALYZE oauth_tokens`, `ANALYZE api_keys`, `ANALYZE api_key_secrets`,
	} {
		if _, err := db.Pool().Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	const runs = 12
	for i := range runs {
		// Batches of five to eight keys share the statement for eight.
		n := 5 + i%4
		seen := 0
		if err := db.ReadTokens(ctx, store.KindAccessToken, sigs[:n], func([]byte, bool, []byte) error {
			seen++
			return nil
		}); err != nil || seen != n {
			t.Fatalf("ReadTokens(%d signatures): %d records, %v", n, seen, err)
		}
		got, err := db.GetAPIKeys(ctx, ids[:n])
		if err != nil || len(got) != n {
			t.Fatalf("GetAPIKeys(%d ids): %d keys, %v", n, len(got), err)
		}
	}
	rows, err := db.Pool().Query(ctx, `SELECT name, statement, generic_plans, custom_plans FROM pg_prepared_statements`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	found := map[string]string{} // the statement's name, by read
	for rows.Next() {
		var (
			name, text      string
			generic, custom int64
		)
		if err := rows.Scan(&name, &text, &generic, &custom); err != nil {
			t.Fatal(err)
		}
		for _, read := range []string{"FROM oauth_tokens WHERE kind", "FROM api_keys k LEFT JOIN LATERAL"} {
			if !strings.Contains(text, read) {
				continue
			}
			found[read] = name
			// PostgreSQL makes five custom plans before it weighs the
			// generic one; every execution after them must use it.
			if custom > 5 || generic < runs-5 {
				t.Errorf("%q: %d generic and %d custom plans in %d executions, want the generic plan after the fifth",
					read, generic, custom, runs)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if len(found) != 2 {
		t.Fatalf("the batched reads' statements are not among the connection's prepared statements (found %v)", found)
	}
	// The generic plans read through the indexes, as the custom ones did.
	quoted := func(vs []string) string { return "'" + strings.Join(vs, "', '") + "'" }
	for read, args := range map[string]string{
		"FROM oauth_tokens WHERE kind":      "'access', " + quoted(sigs),
		"FROM api_keys k LEFT JOIN LATERAL": quoted(ids),
	} {
		var plan strings.Builder
		rows, err := db.Pool().Query(ctx, "EXPLAIN EXECUTE "+found[read]+"("+args+")")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(line + "\n")
		}
		rows.Close()
		if p := plan.String(); strings.Contains(p, "Seq Scan") || !strings.Contains(p, "Index") {
			t.Errorf("%q: the generic plan does not read through the indexes:\n%s", read, p)
		}
	}
}
