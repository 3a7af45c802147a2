package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/http"
	"testing"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

func TestAPIIdempotency(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	create := func(key, body string, token *string) apiResp {
		return e.do(req{method: "POST", path: "/admin/v1/apikeys", body: body, token: token,
			header: map[string]string{"Idempotency-Key": key}})
	}
	first := create("k-1", `{"name":"once"}`, nil)
	if first.Status != http.StatusCreated || first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d %s", first.Status, first.Body)
	}
	// A retry gets the same answer, secret included, and nothing new is made.
	again := create("k-1", `{"name":"once"}`, nil)
	if again.Status != http.StatusCreated || !bytes.Equal(again.Body, first.Body) ||
		again.Header.Get("Idempotent-Replayed") != "true" || again.Header.Get("Content-Type") != first.Header.Get("Content-Type") {
		t.Fatalf("replay: %d %q %s", again.Status, again.Header, again.Body)
	}
	var list listBody[keys.View]
	e.call("GET", "/admin/v1/apikeys", nil, http.StatusOK, &list)
	if len(list.Items) != 1 {
		t.Fatalf("%d keys after a replay, want 1", len(list.Items))
	}
	// The same key with another request is refused.
	for _, r := range []apiResp{
		create("k-1", `{"name":"twice"}`, nil),
		e.do(req{method: "POST", path: "/admin/v1/users", body: `{"name":"once"}`, header: map[string]string{"Idempotency-Key": "k-1"}}),
	} {
		if r.Status != http.StatusUnprocessableEntity || r.problem(t).Type != "https://keyward.dev/problems/idempotency" {
			t.Errorf("reuse: %d %s", r.Status, r.Body)
		}
	}
	// Keys are per principal: another admin client's k-1 is its own.
	_, other := e.tokenFor(AdminScope)
	if r := create("k-1", `{"name":"twice"}`, &other); r.Status != http.StatusCreated || r.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("another principal: %d %s", r.Status, r.Body)
	}
	// Client errors are kept too; the answer of a 204 replays.
	bad := create("k-2", `{"name":""}`, nil)
	if bad.Status != http.StatusUnprocessableEntity {
		t.Fatalf("invalid: %d", bad.Status)
	}
	if r := create("k-2", `{"name":""}`, nil); r.Status != bad.Status || !bytes.Equal(r.Body, bad.Body) || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("replayed problem: %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	// The stored answer is sealed: the one-time key is not in the database.
	var k keys.View
	e.call("GET", "/admin/v1/apikeys", nil, http.StatusOK, &list)
	for _, it := range list.Items {
		if it.Name == "once" {
			k = it
		}
	}
	rec, err := e.db.GetIdempotencyRecord(context.Background(), "client:"+e.clientID, "k-1")
	if err != nil || rec.Status != http.StatusCreated || bytes.Contains(rec.Body, []byte(k.Prefix)) {
		t.Errorf("stored record: %+v %v", rec, err)
	}
	// Past 24 hours a key may be used again.
	old := &store.IdempotencyRecord{Principal: "client:" + e.clientID, Key: "k-old", RequestHash: []byte{1},
		Status: 201, Body: []byte("x"), CreatedAt: e.srv.cfg.Now().Add(-25 * idempotencyTTL / 24)}
	if err := e.db.CreateIdempotencyRecord(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	r := e.do(req{method: "POST", path: "/admin/v1/clients", body: `{"client_name":"late"}`, header: map[string]string{"Idempotency-Key": "k-old"}})
	if r.Status != http.StatusCreated || r.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("expired key: %d %s", r.Status, r.Body)
	}
	// While the first request is still being answered, a retry waits.
	body := `{"client_name":"slow"}`
	h := sha256.Sum256([]byte("POST /admin/v1/clients\x00" + body))
	pending := &store.IdempotencyRecord{Principal: "client:" + e.clientID, Key: "k-busy", RequestHash: h[:],
		CreatedAt: e.srv.cfg.Now()}
	if err := e.db.CreateIdempotencyRecord(context.Background(), pending); err != nil {
		t.Fatal(err)
	}
	r = e.do(req{method: "POST", path: "/admin/v1/clients", body: body, header: map[string]string{"Idempotency-Key": "k-busy"}})
	if r.Status != http.StatusConflict || r.Header.Get("Retry-After") == "" {
		t.Errorf("in progress: %d %q %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
}
