package authz

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/keys/heaptest"
)

// opaqueTokenOf is an opaque access token of the shape the token endpoint
// issues, as a request's form value (a part of the request body).
func opaqueTokenOf(i int) string {
	body := fmt.Sprintf("token=kw_at_%032d.%043d", i, i)
	return body[len("token="):]
}

// opaqueAnswerOf is the request id, client id and introspection answer of
// opaqueTokenOf(i), shaped as introspection's.
func opaqueAnswerOf(i int) (requestID, clientID string, body []byte) {
	clientID = fmt.Sprintf("client-%026d", i%100)
	body = fmt.Appendf(nil, `{"active":true,"client_id":"%s","exp":1765000000,"iat":1764990000,"iss":"https://id.example.com",`+
		`"scope":"read write","sub":"%s","token_type":"Bearer","token_use":"access_token"}`, clientID, clientID)
	return fmt.Sprintf("%036d", i), clientID, body
}

// verifiedTokenOf is the cache key and the claims' JSON of the i-th
// client-credentials token issued at iat.
func verifiedTokenOf(i int, iat int64) (key [32]byte, payload string) {
	payload = fmt.Sprintf(`{"iss":"https://id.example.com","sub":"client-%026d","aud":["https://api.example.com"],`+
		`"exp":%d,"iat":%d,"nbf":%d,"jti":"%036d","client_id":"client-%026d","scope":"read write"}`,
		i%100, iat+3600, iat, iat, i, i%100)
	return tokenKey("eyJ" + strings.Repeat("x", 200) + fmt.Sprint(i)), payload
}

// TestOpaqueCacheBytes: the opaque introspection cache holds more
// answers than the otter cache it replaced (about 12,500 in the same
// budget) and, however many tokens are introspected, stays within its
// budget.
func TestOpaqueCacheBytes(t *testing.T) {
	now := time.Now()
	before := heaptest.Live()
	c := newOpaqueCache(func() time.Time { return now }, noObserver{})
	fill := func(i int) {
		requestID, client, body := opaqueAnswerOf(i)
		c.fill(c.generation(), opaqueTokenOf(i), requestID, client, now.Add(time.Hour), body)
	}
	const n = 13_000
	for i := range n {
		fill(i)
	}
	if got := c.len(); got != n {
		t.Fatalf("%d answers cached of %d", got, n)
	}
	for i := n; i < 10*n; i++ { // ten times what fits
		fill(i)
	}
	heaptest.Bounded(t, OpaqueCacheBytes, before)
	runtime.KeepAlive(c)
}

// TestVerifyCacheBytes: the verified-token cache holds more tokens than
// the otter cache it replaced (about 7,700 in the same budget) and,
// however many tokens are introspected, stays within its budget.
func TestVerifyCacheBytes(t *testing.T) {
	iat := time.Now().Unix() // the cache keeps only tokens not yet expired
	before := heaptest.Live()
	c := newVerifyCache(time.Now)
	put := func(i int) {
		key, payload := verifiedTokenOf(i, iat)
		var claims AccessClaims
		if err := json.Unmarshal([]byte(payload), &claims); err != nil {
			t.Fatal(err)
		}
		claims.audiences = claims.Audiences()
		c.put(key, &claims)
	}
	const n = 9_000
	for i := range n {
		put(i)
	}
	if got := c.len(); got != n {
		t.Fatalf("%d tokens cached of %d", got, n)
	}
	for i := n; i < 10*n; i++ {
		put(i)
	}
	heaptest.Bounded(t, verifyCacheBytes, before)
	runtime.KeepAlive(c)
}
