package keys

import (
	"crypto/sha256"
	"strings"
	"time"
	"unique"
)

// packedKey is an API-key record as the cache keeps it: only what
// verification, introspection and token exchange read, in one allocation
// with its current secret, so that the cache holds 100,000 keys in about
// 37 MiB (TestCacheBytesPerKey). The descriptive fields (name, hint,
// metadata, the times of creation, update and last use, the usage count)
// are left out: a record from the cache has them zero.
type packedKey struct {
	id, env, ownerType, ownerID string
	scopes                      []string // shared by every cached key of the same scopes
	rate                        RateLimit
	expires, revoked            time.Time
	disabled                    bool
	// one is the key's only secret when it has one of the usual size
	// (packed is true); otherwise secrets holds them all.
	packed  bool
	one     packedSecret
	secrets []SecretDigest
}

type packedSecret struct {
	digest             [sha256.Size]byte
	validUntil, create int64 // Unix nanoseconds, 0 for the zero time
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
// their strings: the struct (its allocation's size class), and otter's
// node and table slot (TestCacheBytesPerKey measures the sum).
const packedKeySize = 256 + 112

// weight is about how many bytes of memory p costs in the cache.
func (p *packedKey) weight() uint32 {
	n := packedKeySize + len(p.id) + len(p.ownerID)
	for _, s := range p.secrets {
		n += 72 + len(s.Digest)
	}
	return uint32(n)
}

// pack makes the cached form of k; scopes interns scope lists.
func pack(k *APIKey, scopes func([]string) []string) *packedKey {
	p := &packedKey{id: k.ID, env: unique.Make(k.Env).Value(), ownerType: unique.Make(k.OwnerType).Value(),
		ownerID: k.OwnerID, scopes: scopes(k.Scopes), rate: k.RateLimit, expires: k.ExpiresAt, revoked: k.RevokedAt,
		disabled: k.Disabled}
	p.secrets = k.Secrets
	if len(k.Secrets) == 1 && len(k.Secrets[0].Digest) == sha256.Size {
		s := k.Secrets[0]
		until, ok1 := nanos(s.ValidUntil)
		created, ok2 := nanos(s.CreatedAt)
		if ok1 && ok2 {
			p.packed, p.secrets, p.one = true, nil, packedSecret{validUntil: until, create: created}
			copy(p.one.digest[:], s.Digest)
		}
	}
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
		RateLimit: p.rate, ExpiresAt: p.expires, Disabled: p.disabled, RevokedAt: p.revoked, Secrets: p.secrets}}
	if p.packed {
		u.secret[0] = SecretDigest{Digest: p.one.digest[:], ValidUntil: fromNanos(p.one.validUntil),
			CreatedAt: fromNanos(p.one.create)}
		u.key.Secrets = u.secret[:]
	}
	return &u.key
}

// scopeSets interns the scope lists of cached keys: most keys share a few
// lists, and each list is kept once. It holds at most maxScopeSets lists;
// beyond that a key keeps its own.
type scopeSets map[string][]string

const maxScopeSets = 4096

func (s scopeSets) intern(scopes []string) []string {
	if len(scopes) == 0 {
		return nil
	}
	joined := strings.Join(scopes, " ")
	if shared, ok := s[joined]; ok {
		return shared
	}
	if len(s) >= maxScopeSets {
		return scopes
	}
	shared := strings.Fields(joined) // one copy, its strings in one allocation's backing
	if len(shared) != len(scopes) {  // a scope with a space in it: keep it as it is
		shared = scopes
	}
	s[joined] = shared
	return shared
}
