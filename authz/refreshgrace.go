package authz

import (
	"crypto/sha256"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// refreshGrace makes refresh-token rotation safe for clients that race
// (two browser tabs): concurrent requests with one refresh token share one
// rotation, and for a short window after it the same old token answers
// with the same new pair. After the window, reuse is reuse: fosite revokes
// the whole grant (OAuth 2.0 Security BCP §4.14.2).
type refreshGrace struct {
	window time.Duration
	now    func() time.Time
	group  singleflight.Group

	mu      sync.Mutex
	answers map[[32]byte]graceAnswer
}

type graceAnswer struct {
	status  int
	body    []byte
	expires time.Time
}

func newRefreshGrace(window time.Duration, now func() time.Time) *refreshGrace {
	return &refreshGrace{window: window, now: now, answers: map[[32]byte]graceAnswer{}}
}

// do answers the refresh of token: from the grace cache, by joining an
// in-flight rotation of the same token, or by running rotate.
func (g *refreshGrace) do(token string, rotate func() (int, []byte)) (int, []byte) {
	if g.window < 0 {
		return rotate()
	}
	key := sha256.Sum256([]byte(token))
	now := g.now()
	g.mu.Lock()
	a, ok := g.answers[key]
	g.mu.Unlock()
	if ok && now.Before(a.expires) {
		return a.status, a.body
	}
	v, _, _ := g.group.Do(string(key[:]), func() (any, error) {
		status, body := rotate()
		if status == 200 && g.window > 0 {
			g.mu.Lock()
			for k, old := range g.answers {
				if !now.Before(old.expires) {
					delete(g.answers, k)
				}
			}
			g.answers[key] = graceAnswer{status: status, body: body, expires: now.Add(g.window)}
			g.mu.Unlock()
		}
		return graceAnswer{status: status, body: body}, nil
	})
	ans := v.(graceAnswer)
	return ans.status, ans.body
}
