package storetest

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

// testAPIKeysBatchRead: GetAPIKeys answers for each id exactly what
// GetAPIKey does, but for the descriptive fields (its verification view;
// revoked, disabled, expired and rolled keys included), and leaves out the
// ids with no key.
func testAPIKeysBatchRead(t *testing.T, s keys.Store) {
	b, ok := s.(keys.BatchStore)
	if !ok {
		t.Fatalf("%T does not implement keys.BatchStore", s)
	}
	if got, err := b.GetAPIKeys(ctx(), nil); err != nil || len(got) != 0 {
		t.Fatalf("GetAPIKeys(none) = %v, %v", got, err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for i, id := range []string{"b1", "b2", "b3", "b4", "b5", "b6"} {
		k := sampleAPIKey(id, byte(10+i))
		// Scopes of their own, of several lengths: a read that reused one
		// key's scopes for the next would show.
		k.Scopes = append([]string{"read"}, scopesOf(i, id)...)
		if id == "b5" {
			k.ExpiresAt = now.Add(-time.Minute)
		}
		if id == "b6" {
			k.Scopes, k.Metadata, k.RateLimit, k.ExpiresAt = nil, nil, keys.RateLimit{}, time.Time{}
		}
		if err := s.CreateAPIKey(ctx(), k); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeAPIKey(ctx(), "b2", now); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAPIKeyDisabled(ctx(), "b3", true); err != nil {
		t.Fatal(err)
	}
	if err := s.RollAPIKey(ctx(), "b4", digest(40), "hint", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAPIKeyUsage(ctx(), []keys.Usage{{ID: "b1", Count: 3, LastUsedAt: now}}); err != nil {
		t.Fatal(err)
	}
	ids := []string{"b4", "missing", "b1", "b2", "b3", "b5", "b6", "also-missing"}
	got, err := b.GetAPIKeys(ctx(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		one, err := s.GetAPIKey(ctx(), id)
		if err != nil && !isNotFound(err) {
			t.Fatal(err)
		}
		batched, found := got[id]
		switch {
		case one == nil && found:
			t.Errorf("GetAPIKeys has %q, which GetAPIKey does not find", id)
		case one != nil && !found:
			t.Errorf("GetAPIKeys lacks %q", id)
		case one != nil && !reflect.DeepEqual(one.VerificationView(), batched):
			t.Errorf("GetAPIKeys[%q] = %+v\nGetAPIKey's verification view = %+v", id, batched, one.VerificationView())
		}
	}
	if len(got) != 6 || len(got["b4"].Secrets) != 2 || got["b2"].RevokedAt.IsZero() || !got["b3"].Disabled {
		t.Errorf("GetAPIKeys = %v keys, b4 with %d secrets", len(got), len(got["b4"].Secrets))
	}
}

// scopesOf is i scopes named after id.
func scopesOf(i int, id string) []string {
	out := make([]string, i)
	for j := range out {
		out[j] = id + "-" + string(rune('a'+j))
	}
	return out
}

// readState is what ReadTokens reports of one record.
type readState struct {
	active bool
	data   []byte
}

// readTokens collects what b.ReadTokens reports, copying each call's
// bytes, and fails t if a signature is reported twice.
func readTokens(t *testing.T, b store.TokenBatchReader, kind store.TokenKind, sigs []string) (map[string]readState, error) {
	t.Helper()
	got := map[string]readState{}
	err := b.ReadTokens(ctx(), kind, sigs, func(sig []byte, active bool, data []byte) error {
		if _, dup := got[string(sig)]; dup {
			t.Errorf("ReadTokens(%s, %q) reported %q twice", kind, sigs, sig)
		}
		got[string(sig)] = readState{active: active, data: bytes.Clone(data)}
		return nil
	})
	return got, err
}

// testTokensBatchRead: ReadTokens reports for each signature exactly what
// GetToken finds (inactive records included), only records of its kind,
// and skips the signatures with no record; an error of its function ends
// the read.
func testTokensBatchRead(t *testing.T, s store.Store) {
	b, ok := s.(store.TokenBatchReader)
	if !ok {
		t.Fatalf("%T does not implement store.TokenBatchReader", s)
	}
	if got, err := readTokens(t, b, store.KindAccessToken, nil); err != nil || len(got) != 0 {
		t.Fatalf("ReadTokens(none) = %v, %v", got, err)
	}
	exp := time.Now().Add(time.Hour)
	recs := []*store.TokenRecord{
		sampleToken(store.KindAccessToken, "a1", "r1", exp),
		sampleToken(store.KindAccessToken, "a2", "r2", exp),
		sampleToken(store.KindAccessToken, "a3", "r3", time.Now().Add(-time.Minute)),
		sampleToken(store.KindRefreshToken, "a1", "r1", exp), // same signature, other kind
		sampleToken(store.KindRefreshToken, "only-refresh", "r4", exp),
	}
	recs[0].Data = []byte(`{"request":{"id":"r1","n":1}}`)
	recs[3].Data = []byte(`{"request":{"id":"r1","n":2}}`)
	for _, r := range recs {
		if err := s.CreateToken(ctx(), r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.DeactivateToken(ctx(), store.KindAccessToken, "a2", store.Truncate(time.Now())); err != nil {
		t.Fatal(err)
	}
	sigs := []string{"a2", "missing", "a1", "only-refresh", "a3"}
	for _, kind := range []store.TokenKind{store.KindAccessToken, store.KindRefreshToken} {
		got, err := readTokens(t, b, kind, sigs)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, sig := range sigs {
			one, err := s.GetToken(ctx(), kind, sig)
			if err != nil && !isNotFound(err) {
				t.Fatal(err)
			}
			batched, found := got[sig]
			switch {
			case one == nil && found:
				t.Errorf("ReadTokens(%s) reported %q, which GetToken does not find", kind, sig)
			case one != nil && !found:
				t.Errorf("ReadTokens(%s) skipped %q", kind, sig)
			case one != nil && (batched.active != one.Active || !bytes.Equal(batched.data, one.Data)):
				t.Errorf("ReadTokens(%s)[%q] = %v %q\nGetToken = %v %q", kind, sig, batched.active, batched.data, one.Active, one.Data)
			}
			if one != nil {
				n++
			}
		}
		if len(got) != n {
			t.Errorf("ReadTokens(%s) reported %d records, want %d", kind, len(got), n)
		}
	}
	got, _ := readTokens(t, b, store.KindAccessToken, sigs)
	if len(got) != 3 || got["a2"].active || !got["a1"].active || string(got["a1"].data) != `{"request":{"id":"r1","n":1}}` {
		t.Errorf("ReadTokens(access) = %+v", got)
	}
	// Every length of batch, first key missing or not, finds exactly the
	// records among its own signatures.
	for _, order := range [][]string{sigs, {"missing", "a1", "a3", "only-refresh", "a2"}} {
		for n := 1; n <= len(order); n++ {
			got, err := readTokens(t, b, store.KindAccessToken, order[:n])
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			for _, sig := range order[:n] {
				if sig == "a1" || sig == "a2" || sig == "a3" {
					want++
					if _, ok := got[sig]; !ok {
						t.Errorf("ReadTokens(%q) skipped %q", order[:n], sig)
					}
				}
			}
			if len(got) != want {
				t.Errorf("ReadTokens(%q) reported %d records, want %d", order[:n], len(got), want)
			}
		}
	}
	// The function's error ends the read: it is called once, and its
	// error comes back.
	stop := errors.New("enough")
	calls := 0
	err := b.ReadTokens(ctx(), store.KindAccessToken, sigs, func([]byte, bool, []byte) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("ReadTokens with a failing function: %v after %d calls", err, calls)
	}
	// The store still answers after a read that ended early.
	if got, err := readTokens(t, b, store.KindAccessToken, sigs); err != nil || len(got) != 3 {
		t.Errorf("ReadTokens after an early end = %d records, %v", len(got), err)
	}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
