package keys

import (
	"crypto/sha256"
	"strings"
	"sync/atomic"
	"time"
	"unique"
)

// packedKey is an API-key record as the cache's odd store keeps it (a
// key that does not fit a slab's slot): only what verification,
// introspection and token exchange read, in one allocation with its
// current secret. The descriptive fields (name, hint, metadata, the times
// of creation, update and last use, the usage count) are left out: a
// record from the cache has them zero, as one from the slab does.
//
// Times are Unix nanoseconds and the one current secret is inline, so
// that with the cache's entry around it a key fits a 192-byte allocation.
// A key that does not pack so (several secrets, a secret of another size
// or with an end of grace, a time outside what nanoseconds hold) keeps
// what does not fit in odd, which unpack then reads instead.
type packedKey struct {
	id, env, ownerType, ownerID string
	scopes                      []string // shared by every cached key of the same scopes
	rate                        RateLimit
	expires, revoked            int64 // Unix nanoseconds, 0 for the zero time
	one                         packedSecret
	odd                         *oddKey // nil for a key that packs whole
	disabled                    bool
}

// packedSecret is a current secret (no end of grace) of the usual size.
type packedSecret struct {
	digest [sha256.Size]byte
	create int64 // Unix nanoseconds, 0 for the zero time
}

// oddKey is the part of a key that does not pack: its times and all its
// secrets, as the record had them.
type oddKey struct {
	expires, revoked time.Time
	secrets          []SecretDigest
}

// nanos is t in Unix nanoseconds, 0 for the zero time; ok is false when
// that would not give t back (outside 1678–2262, or the epoch itself).
func nanos(t time.Time) (n int64, ok bool) {
	if t.IsZero() {
		return 0, true
	}
	n = t.UnixNano()
	return n, n != 0 && time.Unix(0, n).Equal(t)
}

// fromNanos is the time nanos returned n for.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// packedKeySize is the memory of a packedKey and its cache entry beyond
// their strings: the entry (its allocation's size class), and otter's
// node and table slot (TestCacheBytesPerOddKey measures the sum).
const packedKeySize = 192 + 112

// oddKeySize is the memory of an oddKey (72 bytes, in an 80-byte size
// class) beyond its secrets and their digests.
const oddKeySize = 80

// weight is about how many bytes of memory p costs in the cache.
func (p *packedKey) weight() uint32 {
	n := packedKeySize + len(p.id) + len(p.ownerID)
	if p.odd != nil {
		n += oddKeySize
		for _, s := range p.odd.secrets {
			n += 72 + len(s.Digest)
		}
	}
	return uint32(n)
}

// pack makes the cached form of k; scopes interns scope lists.
func pack(k *APIKey, scopes func([]string) []string) *packedKey {
	p := &packedKey{id: k.ID, env: unique.Make(k.Env).Value(), ownerType: unique.Make(k.OwnerType).Value(),
		ownerID: k.OwnerID, scopes: scopes(k.Scopes), rate: k.RateLimit, disabled: k.Disabled}
	expires, ok1 := nanos(k.ExpiresAt)
	revoked, ok2 := nanos(k.RevokedAt)
	ok3 := len(k.Secrets) == 1 && len(k.Secrets[0].Digest) == sha256.Size && k.Secrets[0].ValidUntil.IsZero()
	var created int64
	if ok3 {
		created, ok3 = nanos(k.Secrets[0].CreatedAt)
	}
	if !ok1 || !ok2 || !ok3 {
		p.odd = &oddKey{expires: k.ExpiresAt, revoked: k.RevokedAt, secrets: k.Secrets}
		return p
	}
	p.expires, p.revoked, p.one.create = expires, revoked, created
	copy(p.one.digest[:], k.Secrets[0].Digest)
	return p
}

// unpacked is an APIKey with room for one secret, so unpack allocates
// once.
type unpacked struct {
	key    APIKey
	secret [1]SecretDigest
}

// unpack returns the record p keeps, with its descriptive fields zero. Its
// scope list and secret digests are shared with the cache.
func (p *packedKey) unpack() *APIKey {
	u := &unpacked{key: APIKey{ID: p.id, Env: p.env, OwnerType: p.ownerType, OwnerID: p.ownerID, Scopes: p.scopes,
		RateLimit: p.rate, Disabled: p.disabled}}
	if p.odd != nil {
		u.key.ExpiresAt, u.key.RevokedAt, u.key.Secrets = p.odd.expires, p.odd.revoked, p.odd.secrets
		return &u.key
	}
	u.key.ExpiresAt, u.key.RevokedAt = fromNanos(p.expires), fromNanos(p.revoked)
	u.secret[0] = SecretDigest{Digest: p.one.digest[:], CreatedAt: fromNanos(p.one.create)}
	u.key.Secrets = u.secret[:]
	return &u.key
}

// scopeTable interns the scope lists of cached keys: most keys share a
// few lists, and each list is kept once, numbered from 1 (0 is no
// scopes) for the slab's slots. It holds at most maxScopeSets lists;
// beyond that a key keeps its own (and the odd store). intern is called
// with the cache's mu held; list may be called at any time.
type scopeTable struct {
	byText map[string]uint32
	lists  atomic.Pointer[[][]string] // lists[0] is nil
}

const maxScopeSets = 4096

func newScopeTable() *scopeTable {
	t := &scopeTable{byText: map[string]uint32{}}
	lists := make([][]string, 1, 16)
	t.lists.Store(&lists)
	return t
}

// intern is scopes' number and shared list; ok is false when the table
// does not hold it (full, or a scope with a space in it), and list is
// then scopes itself.
func (t *scopeTable) intern(scopes []string) (n uint32, list []string, ok bool) {
	if len(scopes) == 0 {
		return 0, nil, true
	}
	joined := strings.Join(scopes, " ")
	if n, ok := t.byText[joined]; ok {
		return n, t.list(n), true
	}
	lists := *t.lists.Load()
	if len(lists) > maxScopeSets {
		return 0, scopes, false
	}
	shared := strings.Fields(joined) // one copy, its strings in one allocation's backing
	if len(shared) != len(scopes) {  // a scope with a space in it: keep it as it is
		return 0, scopes, false
	}
	n = uint32(len(lists))
	// Readers of the old header read only below its length, so appending
	// in place races with none of them.
	grown := append(lists, shared)
	t.lists.Store(&grown)
	t.byText[joined] = n
	return n, shared, true
}

// internList is intern's list alone, for pack.
func (t *scopeTable) internList(scopes []string) []string {
	_, list, _ := t.intern(scopes)
	return list
}

// list is the list numbered n.
func (t *scopeTable) list(n uint32) []string { return (*t.lists.Load())[n] }
