package authz

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/keyward/keyward/store"
)

// refreshGrace makes refresh-token rotation safe for clients that race
// (two browser tabs, possibly on two instances): concurrent requests with
// one refresh token share one rotation, and for a short window after it
// the same old token answers with the same new pair. The answer is kept in
// memory and, sealed with AES-GCM, in the token store, so every instance
// gives it. After the window, reuse is reuse: fosite revokes the whole
// grant (OAuth 2.0 Security BCP §4.14.2). An answer is only replayed while
// the new refresh token in it is still live, so revoking the grant, or
// using that new token, ends the grace at once.
//
// Only an authenticated client reaches it: the token endpoint checks the
// client's credentials first (RFC 6749 §6), and answers are keyed by the
// authenticated client id, so a stolen rotated token is worth nothing
// without the client's secret.
type refreshGrace struct {
	window time.Duration
	now    func() time.Time
	tokens store.TokenStore
	sig    func(ctx context.Context, refreshToken string) string
	aead   cipher.AEAD
	group  singleflight.Group

	mu      sync.Mutex
	answers map[string]graceAnswer
}

type graceAnswer struct {
	status  int
	body    []byte
	expires time.Time
}

func newRefreshGrace(window time.Duration, now func() time.Time, tokens store.TokenStore,
	sig func(context.Context, string) string, key []byte) (*refreshGrace, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &refreshGrace{window: window, now: now, tokens: tokens, sig: sig, aead: aead,
		answers: map[string]graceAnswer{}}, nil
}

// enabled reports whether there is a grace window at all.
func (g *refreshGrace) enabled() bool { return g.window > 0 }

// do answers the refresh of token by the client clientID, which the
// caller has authenticated: from the grace answer, by joining an
// in-flight rotation of the same token, or by running rotate.
//
// jkt is the thumbprint of the request's DPoP key ("" without a proof):
// an answer is shared only with a request by the same key, so a refresh
// token bound to a key (RFC 9449 §5) gives nothing to another one.
func (g *refreshGrace) do(ctx context.Context, clientID, jkt, token string, rotate func() (int, []byte)) (int, []byte) {
	if g.window <= 0 {
		return rotate()
	}
	sum := sha256.Sum256([]byte(clientID + "\x00" + jkt + "\x00" + token))
	key := hex.EncodeToString(sum[:])
	if body, ok := g.lookup(ctx, key); ok {
		return 200, body
	}
	v, _, _ := g.group.Do(key, func() (any, error) {
		if body, ok := g.lookup(ctx, key); ok {
			return graceAnswer{status: 200, body: body}, nil
		}
		// Rotated a moment ago (perhaps on another instance): wait for its
		// answer rather than running fosite, which would see reuse.
		if g.rotatedJustNow(ctx, clientID, token) {
			if b, ok := g.await(ctx, key); ok {
				return graceAnswer{status: 200, body: b}, nil
			}
		}
		status, body := rotate()
		if status == 200 {
			g.remember(ctx, key, clientID, body)
			return graceAnswer{status: status, body: body}, nil
		}
		// Another instance may have rotated the same token a moment ago:
		// wait briefly for its answer instead of failing the client.
		if g.rotatedJustNow(ctx, clientID, token) {
			if b, ok := g.await(ctx, key); ok {
				return graceAnswer{status: 200, body: b}, nil
			}
		}
		return graceAnswer{status: status, body: body}, nil
	})
	a := v.(graceAnswer)
	return a.status, a.body
}

// await polls for the grace answer of key for up to two seconds: the
// rotation that wrote it may still be finishing on another instance.
func (g *refreshGrace) await(ctx context.Context, key string) ([]byte, bool) {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline) && ctx.Err() == nil; {
		if b, ok := g.lookup(ctx, key); ok {
			return b, true
		}
		time.Sleep(25 * time.Millisecond)
	}
	return nil, false
}

// lookup returns a live grace answer for key from memory or the store.
func (g *refreshGrace) lookup(ctx context.Context, key string) ([]byte, bool) {
	now := g.now()
	g.mu.Lock()
	a, ok := g.answers[key]
	g.mu.Unlock()
	if !ok || !now.Before(a.expires) {
		rec, err := g.tokens.GetToken(ctx, store.KindRefreshGrace, key)
		if err != nil || !now.Before(rec.ExpiresAt) {
			return nil, false
		}
		body, err := g.open(key, rec.Data)
		if err != nil {
			return nil, false
		}
		a = graceAnswer{body: body, expires: rec.ExpiresAt}
		g.mu.Lock()
		g.answers[key] = a
		g.mu.Unlock()
	}
	if !g.live(ctx, a.body) {
		return nil, false
	}
	return a.body, true
}

// live reports whether the refresh token in a token answer is still active.
func (g *refreshGrace) live(ctx context.Context, body []byte) bool {
	var resp struct {
		RefreshToken string `json:"refresh_token"`
	}
	if json.Unmarshal(body, &resp) != nil || resp.RefreshToken == "" {
		return false
	}
	rec, err := g.tokens.GetToken(ctx, store.KindRefreshToken, g.sig(ctx, resp.RefreshToken))
	return err == nil && rec.Active
}

// rotatedJustNow reports whether token, issued to clientID, is inside its
// grace window (see inGrace).
func (g *refreshGrace) rotatedJustNow(ctx context.Context, clientID, token string) bool {
	rec, err := g.tokens.GetToken(ctx, store.KindRefreshToken, g.sig(ctx, token))
	return err == nil && rec.ClientID == clientID && inGrace(ctx, g.tokens, rec, g.window, g.now())
}

// inGrace reports whether rec, a rotated refresh token, may still be
// answered with the pair of its rotation: it was rotated less than window
// ago, and no refresh token of its grant has been rotated since. Once the
// new refresh token is itself used, the old one is plain reuse again
// (OAuth 2.0 Security BCP §4.14.2), even inside the window.
func inGrace(ctx context.Context, tokens store.TokenStore, rec *store.TokenRecord, window time.Duration, now time.Time) bool {
	if rec.Active || rec.InactiveAt.IsZero() || now.Sub(rec.InactiveAt) >= window {
		return false
	}
	grant, err := tokens.ListRequest(ctx, store.KindRefreshToken, rec.RequestID)
	if err != nil {
		return false
	}
	for _, o := range grant {
		if o.Signature != rec.Signature && o.InactiveAt.After(rec.InactiveAt) {
			return false
		}
	}
	return true
}

// remember keeps a successful answer for the window, in memory and sealed
// in the store (a concurrent writer on another instance wins harmlessly).
func (g *refreshGrace) remember(ctx context.Context, key, clientID string, body []byte) {
	now := g.now()
	exp := now.Add(g.window)
	g.mu.Lock()
	for k, a := range g.answers {
		if !now.Before(a.expires) {
			delete(g.answers, k)
		}
	}
	g.answers[key] = graceAnswer{body: body, expires: exp}
	g.mu.Unlock()
	var resp struct {
		RefreshToken string `json:"refresh_token"`
	}
	requestID := ""
	if json.Unmarshal(body, &resp) == nil && resp.RefreshToken != "" {
		if rec, err := g.tokens.GetToken(ctx, store.KindRefreshToken, g.sig(ctx, resp.RefreshToken)); err == nil {
			requestID = rec.RequestID
		}
	}
	sealed, err := g.seal(key, body)
	if err != nil {
		return
	}
	err = g.tokens.CreateToken(ctx, &store.TokenRecord{Kind: store.KindRefreshGrace, Signature: key,
		RequestID: requestID, ClientID: clientID, Active: true, Data: sealed,
		RequestedAt: store.Truncate(now), ExpiresAt: store.Truncate(exp)})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return
	}
}

func (g *refreshGrace) seal(key string, body []byte) ([]byte, error) {
	nonce := make([]byte, g.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.aead.Seal(nonce, nonce, body, []byte(key)), nil
}

func (g *refreshGrace) open(key string, sealed []byte) ([]byte, error) {
	n := g.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed answer too short")
	}
	return g.aead.Open(nil, sealed[:n], sealed[n:], []byte(key))
}
