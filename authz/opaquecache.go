package authz

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"hash/maphash"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/keyward/keyward/keys/slots"
	"github.com/keyward/keyward/store"
)

// TokensChannel is the events channel that names the opaque tokens whose
// records were deleted or deactivated, so every instance drops them from
// its introspection cache. A payload is a space-separated list of items:
// "s" followed by a record's signature, or "r" followed by a request id
// (every token of the grant).
const TokensChannel = "keyward_tokens"

// Opaque introspection cache bounds: answers of about OpaqueCacheBytes in
// all (some 13,000 answers of a client-credentials token in slots of
// opaqueSlotBytes, and a few hundred longer ones in slots of
// opaqueLargeSlotBytes), each kept at most OpaqueCacheTTL (the safety net
// behind the events) and never past its token's expiry.
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
// The answers live in slots the collector never scans (package slots, as
// the API-key and verified-token caches): an answer of the usual length
// in a slot of opaqueSlotBytes, a longer one (up to opaqueLargeSlotBytes
// with its ids) in a table of larger slots with an eighth of the budget;
// a longer one still is not cached. otter's nodes and entries, full, cost
// the collector 3.3 MB more to scan on every cycle, whatever the request
// (BenchmarkCacheMarkCost). Once a table is full, a newcomer takes the
// slot of an answer expired or not read since the clock hand last passed
// it (CLOCK): a tour of tokens each introspected once churns its own
// answers, which are never read again before the hand comes back, and
// leaves the tokens in steady use alone; a working set that follows such
// a tour gets in on its first read (TestOpaqueCacheAdmission).
//
// Every write that deletes or deactivates a token record goes through
// watchedTokens, which drops the affected entries here at once and names
// them on TokensChannel for the other instances. gen makes a fill that
// raced an invalidation harmless: an invalidation bumps gen before it
// drops entries, and a fill that sees gen changed (under the lock of the
// slot it would write) does not store what it read.
type opaqueCache struct {
	now   func() time.Time
	ttl   time.Duration
	obs   Observer
	gen   atomic.Uint64
	seed  maphash.Seed
	small *opaqueTable[[opaqueSlotBytes - opaqueSlotHead]byte]
	large *opaqueTable[[opaqueLargeSlotBytes - opaqueSlotHead]byte]
}

// opaqueSlotBytes and opaqueLargeSlotBytes are the two tables' slot
// sizes; opaqueSlotHead is what a slot holds besides its data (the
// signature, the request and client ids and the answer).
const (
	opaqueSlotBytes      = 512
	opaqueLargeSlotBytes = 2048
	opaqueSlotHead       = 16 + sha256.Size + 8 + 8
)

// opaqueSlotIndexBytes is the memory of a slot's entry in its shard's
// index, with room for the map's growth (TestOpaqueCacheBytes).
const opaqueSlotIndexBytes = 40

// opaqueLargeShare is the part of OpaqueCacheBytes the large slots take.
const opaqueLargeShare = 8

func newOpaqueCache(now func() time.Time, obs Observer) *opaqueCache {
	large := OpaqueCacheBytes / opaqueLargeShare
	return &opaqueCache{now: now, ttl: OpaqueCacheTTL, obs: obs, seed: maphash.MakeSeed(),
		small: newOpaqueTable[[opaqueSlotBytes - opaqueSlotHead]byte]((OpaqueCacheBytes - large) / (opaqueSlotBytes + opaqueSlotIndexBytes)),
		large: newOpaqueTable[[opaqueLargeSlotBytes - opaqueSlotHead]byte](large / (opaqueLargeSlotBytes + opaqueSlotIndexBytes))}
}

// hash is sig's index entry (never 0).
func (c *opaqueCache) hash(sig string) uint64 {
	if h := maphash.String(c.seed, sig); h != 0 {
		return h
	}
	return 1
}

// get appends the cached answer for token to dst and returns it with the
// client the token was issued to; ok is false when there is none (or it
// expired).
func (c *opaqueCache) get(token string, dst []byte) (body []byte, clientID string, ok bool) {
	sig := hmacSignature(token)
	if sig == "" {
		return dst, "", false
	}
	h, digest, now := c.hash(sig), tokenKey(token), c.now().UnixNano()
	if body, clientID, ok = c.small.get(h, sig, &digest, now, dst); !ok {
		body, clientID, ok = c.large.get(h, sig, &digest, now, dst)
	}
	c.obs.CacheLookup(CacheOpaqueIntrospect, ok)
	return body, clientID, ok
}

// generation is read before the database, and handed to fill.
func (c *opaqueCache) generation() uint64 { return c.gen.Load() }

// fill caches the active answer body for token, read from the database
// after generation returned gen. exp is the token's expiry (zero: none).
func (c *opaqueCache) fill(gen uint64, token, requestID, clientID string, exp time.Time, body []byte) {
	sig := hmacSignature(token)
	if sig == "" {
		return
	}
	now := c.now()
	life := c.ttl
	if !exp.IsZero() {
		life = min(life, exp.Sub(now))
	}
	if life <= 0 {
		return
	}
	e := opaqueEntry{h: c.hash(sig), sig: sig, digest: tokenKey(token), expires: now.Add(life).UnixNano(),
		requestID: requestID, clientID: clientID, body: body}
	switch size := e.size(); {
	case size <= c.small.room():
		c.large.remove(e.h, sig)
		c.small.put(&e, &c.gen, gen, now.UnixNano())
	case size <= c.large.room():
		c.small.remove(e.h, sig)
		c.large.put(&e, &c.gen, gen, now.UnixNano())
	default:
		// An answer longer than a large slot is read from the database
		// every time.
		c.small.remove(e.h, sig)
		c.large.remove(e.h, sig)
	}
}

// invalidate drops the entries of the record signatures sigs and of every
// token of the grants requestIDs.
func (c *opaqueCache) invalidate(sigs, requestIDs []string) {
	if len(sigs) == 0 && len(requestIDs) == 0 {
		return
	}
	c.gen.Add(1)
	for _, s := range sigs {
		h := c.hash(s)
		c.small.remove(h, s)
		c.large.remove(h, s)
	}
	if len(requestIDs) > 0 {
		c.small.removeRequests(requestIDs)
		c.large.removeRequests(requestIDs)
	}
}

// sweep drops the answers expired now; once none is left in a shard, its
// memory goes too (Provider.Run calls it periodically).
func (c *opaqueCache) sweep() {
	now := c.now().UnixNano()
	c.small.sweep(now)
	c.large.sweep(now)
}

// reset drops every entry.
func (c *opaqueCache) reset() {
	c.gen.Add(1)
	c.small.table.Clear()
	c.large.table.Clear()
}

// len is how many answers the cache holds, expired ones not yet replaced
// among them.
func (c *opaqueCache) len() int { return c.small.table.Len() + c.large.table.Len() }

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

// opaqueEntry is an answer on its way into a slot.
type opaqueEntry struct {
	h                   uint64
	sig                 string
	digest              [sha256.Size]byte
	expires             int64 // Unix nanoseconds
	requestID, clientID string
	body                []byte
}

// size is the slot data the entry takes.
func (e *opaqueEntry) size() int {
	return len(e.sig) + len(e.requestID) + len(e.clientID) + len(e.body)
}

// opaqueSlot is one cached answer: its data is the record's signature,
// the request id, the client id and the answer's body, one after the
// other (all of them fit, so each length fits 16 bits); its Head's Aux is
// the body's length. expires is Unix
// nanoseconds: the token's own expiry (answers stop there exactly), or
// the end of the cache's TTL when sooner.
type opaqueSlot[T any] struct {
	slots.Head
	digest                        [sha256.Size]byte
	expires                       int64
	sigLen, requestLen, clientLen uint16
	data                          T // a byte array
}

// bytes is the slot's data array.
func (s *opaqueSlot[T]) bytes() []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&s.data)), unsafe.Sizeof(s.data))
}

func (s *opaqueSlot[T]) sig() []byte { return s.bytes()[:s.sigLen] }

func (s *opaqueSlot[T]) requestID() []byte {
	n := int(s.sigLen)
	return s.bytes()[n : n+int(s.requestLen)]
}

func (s *opaqueSlot[T]) clientID() []byte {
	n := int(s.sigLen) + int(s.requestLen)
	return s.bytes()[n : n+int(s.clientLen)]
}

func (s *opaqueSlot[T]) body() []byte {
	n := int(s.sigLen) + int(s.requestLen) + int(s.clientLen)
	return s.bytes()[n : n+int(s.Aux)]
}

// opaqueTable is the answers in slots of one size.
type opaqueTable[T any] struct {
	table *slots.Table[opaqueSlot[T], *opaqueSlot[T]]
}

func newOpaqueTable[T any](n int) *opaqueTable[T] {
	return &opaqueTable[T]{table: slots.New[opaqueSlot[T]](n)}
}

// room is how many bytes of data a slot of t holds (the size of T, read
// without making a slot).
func (t *opaqueTable[T]) room() int {
	var data T
	return int(unsafe.Sizeof(data))
}

// find is the slot of sig (hash h) and its number, or nil; the shard's
// lock is held.
func (t *opaqueTable[T]) find(sh *slots.Shard[opaqueSlot[T], *opaqueSlot[T]], h uint64, sig string) (uint32, *opaqueSlot[T]) {
	i, s := sh.Find(h)
	if s == nil || string(s.sig()) != sig {
		return 0, nil // none, or another signature of the same hash
	}
	return i, s
}

// get appends sig's answer to dst when t holds one for the token of
// SHA-256 digest, unexpired at now (Unix nanoseconds).
func (t *opaqueTable[T]) get(h uint64, sig string, digest *[sha256.Size]byte, now int64, dst []byte) ([]byte, string, bool) {
	sh := t.table.Shard(h)
	sh.RLock()
	defer sh.RUnlock()
	_, s := t.find(sh, h, sig)
	if s == nil || subtle.ConstantTimeCompare(s.digest[:], digest[:]) != 1 || now >= s.expires {
		return dst, "", false
	}
	sh.Mark(s)
	return append(dst, s.body()...), string(s.clientID()), true
}

// put keeps e, unless gen is no longer *cur once its slot's lock is held
// (an invalidation ran while the answer was read: it may be stale).
func (t *opaqueTable[T]) put(e *opaqueEntry, cur *atomic.Uint64, gen uint64, now int64) {
	sh := t.table.Shard(e.h)
	sh.Lock()
	defer sh.Unlock()
	if cur.Load() != gen {
		if i, s := t.find(sh, e.h, e.sig); s != nil {
			sh.Drop(i)
		}
		return
	}
	s := sh.Place(t.table, e.h, func(s *opaqueSlot[T]) bool { return now >= s.expires })
	s.digest, s.expires = e.digest, e.expires
	s.sigLen, s.requestLen, s.clientLen = uint16(len(e.sig)), uint16(len(e.requestID)), uint16(len(e.clientID))
	b := s.bytes()
	n := copy(b, e.sig)
	n += copy(b[n:], e.requestID)
	n += copy(b[n:], e.clientID)
	s.Aux = uint32(copy(b[n:], e.body))
}

// remove drops sig's answer (hash h), if t holds one.
func (t *opaqueTable[T]) remove(h uint64, sig string) {
	sh := t.table.Shard(h)
	sh.Lock()
	defer sh.Unlock()
	if i, s := t.find(sh, h, sig); s != nil {
		sh.Drop(i)
	}
}

// sweep drops the answers expired at now.
func (t *opaqueTable[T]) sweep(now int64) {
	t.table.Sweep(func(s *opaqueSlot[T]) bool { return now >= s.expires })
}

// removeRequests drops the answers of the grants requestIDs.
func (t *opaqueTable[T]) removeRequests(requestIDs []string) {
	t.table.Sweep(func(s *opaqueSlot[T]) bool {
		for _, id := range requestIDs {
			if string(s.requestID()) == id {
				return true
			}
		}
		return false
	})
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
