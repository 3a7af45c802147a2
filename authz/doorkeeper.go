package authz

import (
	"hash/maphash"
	"sync"
)

// doorkeeperSlots is the size of each of a doorkeeper's two generations
// (4 bytes a slot, so 1 MiB in all); a generation is retired when half of
// its slots are used, so a doorkeeper remembers the last 65,536 to 131,072
// keys it was shown.
const doorkeeperSlots = 1 << 17

// doorkeeper remembers which keys it was shown recently, so that a cache
// admits only what is read a second time: the opaque-answer cache keeps
// an answer on its second database read, and a tour of tokens each
// introspected once (a cold tour, a scan) never enters the cache, so it
// can neither evict a working set in steady use nor fill the cache with
// entries that the frequency-based admission of the cache would then
// defend against the working set's return (otter's W-TinyLFU rejects a
// newcomer whose frequency only ties the victim's).
//
// It holds a 32-bit fingerprint of each key in open-addressed tables, two
// generations of doorkeeperSlots; a key of the retired generation still
// counts as seen. Two keys share a fingerprint about once in 2^32 lookups
// per key held: a false "seen" only admits an entry early.
type doorkeeper struct {
	seed maphash.Seed

	mu        sync.Mutex
	cur, prev []uint32 // fingerprints; 0 is an empty slot
	n         int      // keys in cur
}

func newDoorkeeper() *doorkeeper {
	return &doorkeeper{seed: maphash.MakeSeed(), cur: make([]uint32, doorkeeperSlots),
		prev: make([]uint32, doorkeeperSlots)}
}

// seen reports whether key was shown before (within the doorkeeper's
// memory) and remembers it.
func (d *doorkeeper) seen(key string) bool {
	h := maphash.String(d.seed, key)
	fp := uint32(h >> 32)
	if fp == 0 {
		fp = 1
	}
	start := uint32(h) & (doorkeeperSlots - 1)
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, found := probe(d.prev, start, fp); found {
		return true
	}
	i, found := probe(d.cur, start, fp)
	if found {
		return true
	}
	if d.n >= doorkeeperSlots/2 {
		d.prev, d.cur = d.cur, d.prev
		clear(d.cur)
		d.n, i = 0, start
	}
	d.cur[i] = fp
	d.n++
	return false
}

// probe searches t for fp from start: it returns fp's slot and true, or
// the empty slot where the search ended (where fp goes) and false.
func probe(t []uint32, start, fp uint32) (slot uint32, found bool) {
	for j := start; ; j = (j + 1) & (doorkeeperSlots - 1) {
		switch t[j] {
		case fp:
			return j, true
		case 0:
			return j, false
		}
	}
}
