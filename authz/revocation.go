package authz

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyward/keyward/store"
)

// RevocationsChannel is the events channel that carries "jti exp-unix" for
// each revoked JWT access token, so every instance refuses it at once.
const RevocationsChannel = "keyward_revocations"

// revocationList is the in-memory set of revoked JWT access-token ids, kept
// until each token's own expiry. Introspection consults it without a
// database call; the database copy and a periodic reload make it survive
// restarts and missed notifications. It is loaded on first use (New does
// no I/O), and until a load succeeds it answers only with an error: an
// unread list knows nothing, so it must not call a token unrevoked.
type revocationList struct {
	store  store.RevocationStore
	events store.Events
	now    func() time.Time

	loaded atomic.Bool
	loadMu sync.Mutex    // one first load at a time
	resync chan struct{} // a Resync event asks Run to reload

	mu  sync.RWMutex
	set map[string]time.Time
}

func newRevocationList(s store.RevocationStore, ev store.Events, now func() time.Time) *revocationList {
	return &revocationList{store: s, events: ev, now: now, set: map[string]time.Time{},
		resync: make(chan struct{}, 1)}
}

// Revoked reports whether jti is on the list; the first call loads it, and
// returns the store's error should that fail.
func (l *revocationList) Revoked(ctx context.Context, jti string) (bool, error) {
	if !l.loaded.Load() {
		if err := l.load(ctx); err != nil {
			return false, err
		}
	}
	l.mu.RLock()
	_, ok := l.set[jti]
	l.mu.RUnlock()
	return ok, nil
}

// load reads the list unless another caller already has.
func (l *revocationList) load(ctx context.Context) error {
	l.loadMu.Lock()
	defer l.loadMu.Unlock()
	if l.loaded.Load() {
		return nil
	}
	return l.Reload(ctx)
}

// Revoke adds jti (a token that expires at exp) and tells every instance.
func (l *revocationList) Revoke(ctx context.Context, jti string, exp time.Time) error {
	if err := l.store.RevokeJTI(ctx, jti, exp); err != nil {
		return err
	}
	l.add(jti, exp)
	if l.events != nil {
		if err := l.events.Notify(ctx, RevocationsChannel, jti+" "+strconv.FormatInt(exp.Unix(), 10)); err != nil {
			return fmt.Errorf("authz: announce revocation: %w", err)
		}
	}
	return nil
}

func (l *revocationList) add(jti string, exp time.Time) {
	l.mu.Lock()
	l.set[jti] = exp
	l.mu.Unlock()
}

// onEvent applies a notification from another instance.
func (l *revocationList) onEvent(payload string) {
	if payload == store.Resync {
		select { // Run reloads
		case l.resync <- struct{}{}:
		default:
		}
		return
	}
	jti, exp, ok := strings.Cut(payload, " ")
	if !ok {
		return
	}
	sec, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return
	}
	l.add(jti, time.Unix(sec, 0))
}

// Reload replaces the list with the database's unexpired entries.
func (l *revocationList) Reload(ctx context.Context) error {
	list, err := l.store.ListRevokedJTIs(ctx, l.now())
	if err != nil {
		return err
	}
	set := make(map[string]time.Time, len(list))
	for _, r := range list {
		set[r.JTI] = r.ExpiresAt
	}
	l.mu.Lock()
	// Keep entries added since the query started.
	for jti, exp := range l.set {
		if _, ok := set[jti]; !ok && exp.After(l.now()) {
			set[jti] = exp
		}
	}
	l.set = set
	l.mu.Unlock()
	l.loaded.Store(true)
	return nil
}
