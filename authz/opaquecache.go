package authz

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/maypok86/otter/v2"

	"github.com/keyward/keyward/store"
)

// TokensChannel is the events channel that names the opaque tokens whose
// records were deleted or deactivated, so every instance drops them from
// its introspection cache. A payload is a space-separated list of items:
// "s" followed by a record's signature, or "r" followed by a request id
// (every token of the grant).
const TokensChannel = "keyward_tokens"

// Opaque introspection cache bounds: answers of about OpaqueCacheBytes in
// all (opaqueEntry.weight: some 13,000 answers of a client-credentials
// token), each kept at most OpaqueCacheTTL (the safety net behind the
// events) and never past its token's expiry.
const (
	OpaqueCacheBytes = 8 << 20
	OpaqueCacheTTL   = 30 * time.Second
)

// opaqueCache remembers the introspection answers of active opaque access
// and refresh tokens, so a resource server introspecting the same token
// again costs a hash and a lookup instead of a database read. Only active
// answers are kept; an inactive token is read again every time.
//
// Entries are keyed by the record's signature (what the store and the
// invalidation events name) and hold the SHA-256 of the whole token, which
// a lookup must match: a caller who knows only a signature (a database
// dump) gets nothing from the cache.
//
// Every write that deletes or deactivates a token record goes through
// watchedTokens, which drops the affected entries here at once and names
// them on TokensChannel for the other instances. gen makes a fill that
// raced an invalidation harmless: an invalidation bumps gen before it
// drops entries, and a fill that saw gen change while it read the database
// drops what it stored.
type opaqueCache struct {
	now     func() time.Time
	ttl     time.Duration
	obs     Observer
	gen     atomic.Uint64
	entries *otter.Cache[string, *opaqueEntry]
	// door and newcomers decide what fill admits (see fill).
	door      *doorkeeper
	newcomers newcomerQueue
}

type opaqueEntry struct {
	// proven is set once the entry answered a lookup (or was read twice):
	// newcomerQueue no longer evicts it.
	proven   atomic.Bool
	key      string // the record signature it is cached under
	digest   [sha256.Size]byte
	expires  int64         // Unix nanoseconds: the token's own expiry (answers stop there exactly), or the end of lifetime when sooner
	lifetime time.Duration // how long the cache keeps it
	// data is the request id, the client id and the answer's body in one
	// allocation without pointers, never written once the entry is made:
	// an entry is four objects on the heap (otter's node, the entry, its
	// key and data) where it was six, and takes no more room than its
	// bytes (the body was kept with the spare room it was built in), so
	// more answers fit the budget (BenchmarkCacheMarkCost,
	// TestOpaqueCacheBytes). The strings handed out are slices of it.
	data               []byte
	requestLen, client uint32 // the lengths of the request and client ids at data's start
}

func (e *opaqueEntry) requestID() string {
	return unsafe.String(unsafe.SliceData(e.data), e.requestLen)
}

func (e *opaqueEntry) clientID() string {
	return unsafe.String(unsafe.SliceData(e.data[e.requestLen:]), e.client)
}

func (e *opaqueEntry) body() []byte {
	n := int(e.requestLen + e.client)
	return e.data[n:len(e.data):len(e.data)]
}

// opaqueEntrySize is the memory of an opaqueEntry beyond its key and
// data: the struct and otter's node and table slot (TestOpaqueCacheBytes).
const opaqueEntrySize = 112 + 112 + 48 // and the key and data's rounding up to their size classes

// weight is about how many bytes of memory the entry costs.
func (e *opaqueEntry) weight() uint32 {
	return uint32(opaqueEntrySize + len(e.key) + cap(e.data))
}

func newOpaqueCache(now func() time.Time, obs Observer) *opaqueCache {
	return &opaqueCache{now: now, ttl: OpaqueCacheTTL, obs: obs, door: newDoorkeeper(),
		entries: otter.Must(&otter.Options[string, *opaqueEntry]{
			MaximumWeight: OpaqueCacheBytes,
			Weigher:       func(_ string, e *opaqueEntry) uint32 { return e.weight() },
			ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, *opaqueEntry]) time.Duration {
				return e.Value.lifetime
			}),
		})}
}

// get returns the cached answer for token and the client it was issued
// to; ok is false when there is none (or it expired).
func (c *opaqueCache) get(token string) (body []byte, clientID string, ok bool) {
	sig := hmacSignature(token)
	if sig == "" {
		return nil, "", false
	}
	e, found := c.entries.GetIfPresent(sig)
	if d := tokenKey(token); !found || subtle.ConstantTimeCompare(e.digest[:], d[:]) != 1 {
		c.obs.CacheLookup(CacheOpaqueIntrospect, false)
		return nil, "", false
	}
	if c.now().UnixNano() >= e.expires {
		c.entries.Invalidate(sig)
		c.obs.CacheLookup(CacheOpaqueIntrospect, false)
		return nil, "", false
	}
	if !e.proven.Load() {
		e.proven.Store(true)
	}
	c.obs.CacheLookup(CacheOpaqueIntrospect, true)
	return e.body(), e.clientID(), true
}

// generation is read before the database, and handed to put.
func (c *opaqueCache) generation() uint64 { return c.gen.Load() }

// fill caches the active answer body for token, read from the database
// after generation returned gen.
//
// A newcomer (an answer not read before, within the doorkeeper's memory)
// is cached at the tail of a first-in, first-out queue of newcomers: when
// the cache is full, the oldest newcomer that never answered a lookup
// leaves to make room. An answer that answers a lookup, or is read a
// second time, is proven, and only the cache's own frequency admission
// ever evicts it; a proven answer put into a full cache also takes its
// room from the oldest newcomers. So a tour of tokens each introspected once churns the
// newcomers among themselves and leaves the tokens in steady use alone,
// and a working set that follows such a tour gets in on its first read
// instead of tying with the tour's leftovers in the cache's frequency
// admission (which keeps the old entry on a tie); TestOpaqueCacheAdmission.
func (c *opaqueCache) fill(gen uint64, token, requestID, clientID string, exp time.Time, body []byte) {
	sig := hmacSignature(token)
	if sig == "" {
		return
	}
	proven := c.door.seen(sig)
	e := c.put(gen, token, requestID, clientID, exp, body, proven)
	if e != nil && !proven {
		c.newcomers.push(c, e.key)
	}
}

// put caches the active answer body for token, read from the database
// after generation returned gen. exp is the token's expiry (zero: none).
func (c *opaqueCache) put(gen uint64, token, requestID, clientID string, exp time.Time, body []byte, proven bool) *opaqueEntry {
	sig := hmacSignature(token)
	if sig == "" {
		return nil
	}
	now := c.now()
	life := c.ttl
	if !exp.IsZero() {
		life = min(life, exp.Sub(now))
	}
	if life <= 0 {
		return nil
	}
	sig = strings.Clone(sig) // not the request's token, which would stay in memory with it
	data := make([]byte, 0, len(requestID)+len(clientID)+len(body))
	data = append(append(append(data, requestID...), clientID...), body...)
	e := &opaqueEntry{key: sig, digest: tokenKey(token), expires: now.Add(life).UnixNano(), lifetime: life,
		data: data, requestLen: uint32(len(requestID)), client: uint32(len(clientID))}
	e.proven.Store(proven)
	// Room comes from the newcomers for a proven answer too: one read a
	// second time within the doorkeeper's memory (a working set toured
	// just before) would otherwise face the cache's frequency admission
	// against the tour's newcomers and lose on a tie.
	c.newcomers.makeRoom(c, e.weight())
	c.entries.Set(e.key, e)
	if c.gen.Load() != gen {
		// An invalidation ran while the answer was read: it may be stale.
		c.entries.Invalidate(e.key)
		return nil
	}
	return e
}

// invalidate drops the entries of the record signatures sigs and of every
// token of the grants requestIDs.
func (c *opaqueCache) invalidate(sigs, requestIDs []string) {
	if len(sigs) == 0 && len(requestIDs) == 0 {
		return
	}
	c.gen.Add(1)
	for _, s := range sigs {
		c.entries.Invalidate(s)
	}
	if len(requestIDs) == 0 {
		return
	}
	for key, e := range c.entries.All() {
		for _, id := range requestIDs {
			if e.requestID() == id {
				c.entries.Invalidate(key)
				break
			}
		}
	}
}

// reset drops every entry.
func (c *opaqueCache) reset() {
	c.gen.Add(1)
	c.entries.InvalidateAll()
}

// onEvent applies a TokensChannel notification (from any instance).
func (c *opaqueCache) onEvent(payload string) {
	if payload == store.Resync {
		c.reset()
		return
	}
	var sigs, reqs []string
	for _, item := range strings.Fields(payload) {
		switch item[0] {
		case 's':
			sigs = append(sigs, item[1:])
		case 'r':
			reqs = append(reqs, item[1:])
		}
	}
	c.invalidate(sigs, reqs)
}

// watchedTokens is the token store every write of the provider goes
// through: after each write that deletes or deactivates access or refresh
// token records, it drops them from this instance's introspection cache
// and names them on TokensChannel for the others. It does so whether or
// not the write reported success (a commit can succeed and its answer be
// lost), since dropping an entry is never wrong.
type watchedTokens struct {
	store.TokenStore
	cache  *opaqueCache
	events store.Events // nil: one instance
	log    *slog.Logger
}

// InTransaction reports whether ctx carries a transaction of the store
// (store.InTransaction sees through the wrapper).
func (w *watchedTokens) InTransaction(ctx context.Context) bool {
	return store.InTransaction(ctx, w.TokenStore)
}

// cachedKind reports whether records of kind can be in the cache.
func cachedKind(k store.TokenKind) bool {
	return k == store.KindAccessToken || k == store.KindRefreshToken
}

// DeleteToken implements store.TokenStore.
func (w *watchedTokens) DeleteToken(ctx context.Context, kind store.TokenKind, sig string) error {
	err := w.TokenStore.DeleteToken(ctx, kind, sig)
	if cachedKind(kind) {
		w.announce(ctx, []string{sig}, nil)
	}
	return err
}

// DeactivateToken implements store.TokenStore.
func (w *watchedTokens) DeactivateToken(ctx context.Context, kind store.TokenKind, sig string, at time.Time) (bool, error) {
	first, err := w.TokenStore.DeactivateToken(ctx, kind, sig, at)
	if cachedKind(kind) {
		w.announce(ctx, []string{sig}, nil)
	}
	return first, err
}

// DeactivateRequest implements store.TokenStore.
func (w *watchedTokens) DeactivateRequest(ctx context.Context, kind store.TokenKind, requestID string, at time.Time) error {
	err := w.TokenStore.DeactivateRequest(ctx, kind, requestID, at)
	if cachedKind(kind) {
		w.announce(ctx, nil, []string{requestID})
	}
	return err
}

// DeleteRequest implements store.TokenStore.
func (w *watchedTokens) DeleteRequest(ctx context.Context, requestID string) error {
	err := w.TokenStore.DeleteRequest(ctx, requestID)
	w.announce(ctx, nil, []string{requestID})
	return err
}

// ApplyTokenChanges implements store.TokenStore.
func (w *watchedTokens) ApplyTokenChanges(ctx context.Context, changes []store.TokenChange) error {
	err := w.TokenStore.ApplyTokenChanges(ctx, changes)
	var sigs []string
	for _, c := range changes {
		if c.Create == nil && (c.Delete || c.Deactivate) && cachedKind(c.Kind) {
			sigs = append(sigs, c.Signature)
		}
	}
	w.announce(ctx, sigs, nil)
	return err
}

// maxTokensPayload keeps a notification under store.Events' limit.
const maxTokensPayload = 7000

// announce drops the entries here and tells every instance.
func (w *watchedTokens) announce(ctx context.Context, sigs, requestIDs []string) {
	if len(sigs) == 0 && len(requestIDs) == 0 {
		return
	}
	w.cache.invalidate(sigs, requestIDs)
	if w.events == nil {
		return
	}
	var b strings.Builder
	flush := func() {
		if b.Len() == 0 {
			return
		}
		if err := w.events.Notify(context.WithoutCancel(ctx), TokensChannel, b.String()); err != nil && w.log != nil {
			w.log.Warn("announce token revocation", "err", err)
		}
		b.Reset()
	}
	add := func(prefix byte, v string) {
		if b.Len()+len(v)+2 > maxTokensPayload {
			flush()
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(prefix)
		b.WriteString(v)
	}
	for _, s := range sigs {
		add('s', s)
	}
	for _, r := range requestIDs {
		add('r', r)
	}
	flush()
}
