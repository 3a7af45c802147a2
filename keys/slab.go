package keys

import (
	"crypto/sha256"
	"hash/maphash"
	"time"
	"unsafe"

	"github.com/keyward/keyward/keys/slots"
)

// slab keeps cached API-key records in memory the garbage collector never
// scans (package slots): fixed-size slots holding no pointers, found
// through a hash of the id. A full cache of pointer-laden records cost the
// collector about 11 ms of marking a cycle with 100,000 keys, several
// times a second under load (BenchmarkCacheMarkCost).
//
// Once the slab is full, a new record takes the slot of one in its shard
// not read since the clock hand last passed it, so keys in steady use stay
// while keys read once go first.
//
// A record packs into a slot when it has at most two secrets, each of
// sha256.Size bytes, times in the range of Unix nanoseconds, its id,
// owner id, env and owner type within slotText bytes in all, and a scope
// list the cache's table holds; the cache keeps any other in its odd
// store.
type slab struct {
	seed  maphash.Seed
	table *slots.Table[slot, *slot]
}

// slotText is the room in a slot for a key's id, owner id, env and owner
// type together (a slot is then 256 bytes).
const slotText = 90

// slotBytes is the memory of one record in a slab: its slot, and the
// index's entry with room for the map's growth (TestCacheBytesPerKey
// measures it).
const slotBytes = 256 + 44

// slot is one cached record; its Head's Aux is its scope list's number in
// the cache's scope table (0 for none). Times are Unix nanoseconds, 0 for
// the zero time.
type slot struct {
	slots.Head
	until, tried     int64 // as entry's
	expires, revoked int64
	rateLimit        int64
	ratePeriod       int64
	secrets          [2]slotSecret
	idLen, ownerLen  uint8
	envLen, typeLen  uint8
	nsecrets         uint8
	disabled         bool
	text             [slotText]byte // id, owner id, env, owner type
}

type slotSecret struct {
	digest            [sha256.Size]byte
	created, validTil int64
}

type slabShard = slots.Shard[slot, *slot]

// newSlab makes a slab of about slots records in all.
func newSlab(n int) *slab {
	return &slab{seed: maphash.MakeSeed(), table: slots.New[slot](n)}
}

func (s *slab) locate(id string) (uint64, *slabShard) {
	h := maphash.String(s.seed, id)
	if h == 0 {
		h = 1
	}
	return h, s.table.Shard(h)
}

// find is the slot holding id, or nil; the shard's lock is held.
func find(sh *slabShard, h uint64, id string) (uint32, *slot) {
	i, sl := sh.Find(h)
	if sl == nil || string(sl.text[:sl.idLen]) != id {
		return 0, nil // none, or another id of the same hash
	}
	return i, sl
}

// get is id's record when the slab holds one loaded until after now
// (Unix nanoseconds); due reports whether it is time to read it again in
// the background (refreshDue, for a cache of ttl).
func (s *slab) get(id string, now, ttl int64, scopes *scopeTable) (k *APIKey, ok, due bool) {
	h, sh := s.locate(id)
	sh.RLock()
	defer sh.RUnlock()
	_, sl := find(sh, h, id)
	if sl == nil || now >= sl.until {
		return nil, false, false
	}
	sh.Mark(sl)
	return sl.unpack(scopes), true, sl.refreshDue(now, ttl)
}

// refreshDue reports whether sl's record, cached for ttl, is due to be
// read again in the background at now: past its refresh time (between
// four fifths and nineteen twentieths of ttl after it was loaded: late,
// so that a key in use is read about as often as one that expires, early
// enough to spread the reads; drawn from its hash
// so that records loaded together are not read again together), and not
// re-read (reread) or claimed for a refresh within staleAfter.
func (sl *slot) refreshDue(now, ttl int64) bool {
	earliest := sl.until - ttl + ttl*4/5 // four fifths of ttl after the load
	if now < earliest {
		return false // most hits: no division for the drawn moment
	}
	at := earliest + int64(sl.Hash()%uint64(ttl*3/20+1))
	return now >= at && now-sl.tried >= int64(staleAfter)
}

// claimRefresh marks id's record as being read again at now, if it is
// still due (refreshDue), and reports whether it did: one caller among
// those that saw it due reads it.
func (s *slab) claimRefresh(id string, now, ttl int64) bool {
	h, sh := s.locate(id)
	sh.Lock()
	defer sh.Unlock()
	_, sl := find(sh, h, id)
	if sl == nil || now >= sl.until || !sl.refreshDue(now, ttl) {
		return false
	}
	sl.tried = now
	return true
}

// packs reports whether k fits a slot (scope list aside).
func packs(k *APIKey) bool {
	if len(k.ID) > 255 || len(k.OwnerID) > 255 || len(k.Env) > 255 || len(k.OwnerType) > 255 ||
		len(k.ID)+len(k.OwnerID)+len(k.Env)+len(k.OwnerType) > slotText || len(k.Secrets) > 2 {
		return false
	}
	if _, ok := nanos(k.ExpiresAt); !ok {
		return false
	}
	if _, ok := nanos(k.RevokedAt); !ok {
		return false
	}
	for _, sd := range k.Secrets {
		if len(sd.Digest) != sha256.Size {
			return false
		}
		if _, ok := nanos(sd.CreatedAt); !ok {
			return false
		}
		if _, ok := nanos(sd.ValidUntil); !ok {
			return false
		}
	}
	return true
}

// put keeps k (which packs) as id's record until until, its scope list
// being scopes in the cache's table.
func (s *slab) put(id string, k *APIKey, until int64, scopes uint32) {
	h, sh := s.locate(id)
	sh.Lock()
	defer sh.Unlock()
	sl := sh.Place(s.table, h, nil)
	*sl = slot{Head: sl.Head, until: until, rateLimit: int64(k.RateLimit.Limit), ratePeriod: int64(k.RateLimit.Period),
		disabled: k.Disabled, nsecrets: uint8(len(k.Secrets)),
		idLen: uint8(len(id)), ownerLen: uint8(len(k.OwnerID)), envLen: uint8(len(k.Env)), typeLen: uint8(len(k.OwnerType))}
	sl.Aux = scopes
	sl.expires, _ = nanos(k.ExpiresAt)
	sl.revoked, _ = nanos(k.RevokedAt)
	for j, sd := range k.Secrets {
		copy(sl.secrets[j].digest[:], sd.Digest)
		sl.secrets[j].created, _ = nanos(sd.CreatedAt)
		sl.secrets[j].validTil, _ = nanos(sd.ValidUntil)
	}
	n := copy(sl.text[:], id)
	n += copy(sl.text[n:], k.OwnerID)
	n += copy(sl.text[n:], k.Env)
	copy(sl.text[n:], k.OwnerType)
}

// remove drops id's record, if the slab holds one.
func (s *slab) remove(id string) {
	h, sh := s.locate(id)
	sh.Lock()
	defer sh.Unlock()
	if i, sl := find(sh, h, id); sl != nil {
		sh.Drop(i)
	}
}

// claim is reread's test and mark for a record in the slab: found reports
// whether the slab holds id (loaded until after now), claimed whether its
// record was loaded, or last re-read, stale or longer before now, in
// which case it is marked re-read at now (so only one caller re-reads).
func (s *slab) claim(id string, now, ttl, stale int64) (found, claimed bool) {
	h, sh := s.locate(id)
	sh.Lock()
	defer sh.Unlock()
	_, sl := find(sh, h, id)
	if sl == nil || now >= sl.until {
		return false, false
	}
	last := max(sl.until-ttl, sl.tried)
	if now-last < stale {
		return true, false
	}
	sl.tried = now
	return true, true
}

// sweep drops the records loaded until now or earlier.
func (s *slab) sweep(now int64) {
	s.table.Sweep(func(sl *slot) bool { return now >= sl.until })
}

// clear drops every record and the memory that held them.
func (s *slab) clear() { s.table.Clear() }

// len is how many records the slab holds.
func (s *slab) len() int { return s.table.Len() }

// slabKey1 and slabKey2 are an APIKey with room for its one or two
// secrets, their digests and its strings, so that a record from a slot
// takes one allocation: 512 bytes for the usual key (a size class whose
// objects need no header of type bits), 640 for a rolled one.
type slabKey1 struct {
	key     APIKey
	secrets [1]SecretDigest
	digests [1][sha256.Size]byte
	text    [slotText]byte // never changed once the strings point into it
}

type slabKey2 struct {
	key     APIKey
	secrets [2]SecretDigest
	digests [2][sha256.Size]byte
	text    [slotText]byte
}

// unpack is the record sl keeps, with its descriptive fields zero; the
// caller holds sl's shard's lock.
func (sl *slot) unpack(scopes *scopeTable) *APIKey {
	if sl.nsecrets <= 1 {
		u := &slabKey1{text: sl.text}
		sl.fill(&u.key, &u.text, u.secrets[:], u.digests[:], scopes)
		return &u.key
	}
	u := &slabKey2{text: sl.text}
	sl.fill(&u.key, &u.text, u.secrets[:], u.digests[:], scopes)
	return &u.key
}

// fill sets k from sl, its strings in text (a copy of sl's) and its
// secrets in secrets and digests.
func (sl *slot) fill(k *APIKey, text *[slotText]byte, secrets []SecretDigest, digests [][sha256.Size]byte, scopes *scopeTable) {
	*k = APIKey{RateLimit: RateLimit{Limit: int(sl.rateLimit), Period: time.Duration(sl.ratePeriod)},
		Scopes: scopes.list(sl.Aux), Disabled: sl.disabled,
		ExpiresAt: fromNanos(sl.expires), RevokedAt: fromNanos(sl.revoked)}
	all := unsafe.String(&text[0], int(sl.idLen)+int(sl.ownerLen)+int(sl.envLen)+int(sl.typeLen))
	n := int(sl.idLen)
	k.ID = all[:n]
	k.OwnerID = all[n : n+int(sl.ownerLen)]
	n += int(sl.ownerLen)
	k.Env = all[n : n+int(sl.envLen)]
	n += int(sl.envLen)
	k.OwnerType = all[n : n+int(sl.typeLen)]
	ns := int(sl.nsecrets)
	for j := range ns {
		digests[j] = sl.secrets[j].digest
		secrets[j] = SecretDigest{Digest: digests[j][:], CreatedAt: fromNanos(sl.secrets[j].created),
			ValidUntil: fromNanos(sl.secrets[j].validTil)}
	}
	if ns > 0 {
		k.Secrets = secrets[:ns:ns]
	}
}
