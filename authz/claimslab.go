package authz

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/keyward/keyward/keys/slots"
)

// claimSlab keeps verified tokens' packed claims (packClaims) in slots the
// collector never scans (package slots, as the API-key cache's records),
// indexed by the first eight bytes of the token's SHA-256. Once it is
// full, a new entry takes the slot of one expired or not read since the
// clock hand last passed it.
type claimSlab struct {
	table *slots.Table[claimSlot, *claimSlot]
}

// claimSlotBytes is a slot's size: room for the packed claims of a
// client-credentials or a user's token of the usual length
// (claimSlotData); longer ones go to the cache's odd store.
const claimSlotBytes = 384

// claimSlotData is the room in a slot for packed claims.
const claimSlotData = claimSlotBytes - 16 - sha256.Size - 8

// claimSlotIndexBytes is the memory of a slot's entry in its shard's
// index, with room for the map's growth (TestVerifyCacheBytes).
const claimSlotIndexBytes = 40

// claimSlot is one cached token's claims: its Head's Aux is how many
// bytes of data are in use; expires is Unix nanoseconds.
type claimSlot struct {
	slots.Head
	key     [sha256.Size]byte
	expires int64
	data    [claimSlotData]byte
}

type claimShard = slots.Shard[claimSlot, *claimSlot]

// newClaimSlab makes a slab of about n entries in all.
func newClaimSlab(n int) *claimSlab {
	return &claimSlab{table: slots.New[claimSlot](n)}
}

// locate is key's index entry (never 0) and shard. The key is a SHA-256:
// its bytes are as good as a hash's.
func (s *claimSlab) locate(key *[sha256.Size]byte) (uint64, *claimShard) {
	h := binary.LittleEndian.Uint64(key[:8])
	if h == 0 {
		h = 1
	}
	return h, s.table.Shard(h)
}

// find is the slot holding key, or nil; the shard's lock is held.
func findClaims(sh *claimShard, h uint64, key *[sha256.Size]byte) *claimSlot {
	if _, sl := sh.Find(h); sl != nil && sl.key == *key {
		return sl
	}
	return nil // none, or another token of the same first eight bytes
}

// get calls fn with key's packed claims when the slab holds them
// unexpired at now (Unix nanoseconds), and reports whether it did; fn
// runs under the shard's read lock and must copy what it keeps.
func (s *claimSlab) get(key *[sha256.Size]byte, now int64, fn func([]byte)) bool {
	h, sh := s.locate(key)
	sh.RLock()
	defer sh.RUnlock()
	sl := findClaims(sh, h, key)
	if sl == nil || now >= sl.expires {
		return false
	}
	sh.Mark(sl)
	fn(sl.data[:sl.Aux])
	return true
}

// put keeps packed (at most claimSlotData bytes) as key's claims until
// expires; now is the time it is put at (both Unix nanoseconds).
func (s *claimSlab) put(key *[sha256.Size]byte, packed []byte, now, expires int64) {
	h, sh := s.locate(key)
	sh.Lock()
	defer sh.Unlock()
	sl := sh.Place(s.table, h, func(sl *claimSlot) bool { return now >= sl.expires })
	sl.key, sl.expires = *key, expires
	sl.Aux = uint32(copy(sl.data[:], packed))
}

// sweep drops the entries expired at now (Unix nanoseconds).
func (s *claimSlab) sweep(now int64) {
	s.table.Sweep(func(sl *claimSlot) bool { return now >= sl.expires })
}

// clear drops every entry and the memory that held them.
func (s *claimSlab) clear() { s.table.Clear() }

// len is how many entries the slab holds, expired ones not yet replaced
// among them.
func (s *claimSlab) len() int { return s.table.Len() }
