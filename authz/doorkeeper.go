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
	if probe(d.prev, start, fp) >= 0 {
		return true
	}
	i := probe(d.cur, start, fp)
	if i >= 0 {
		return true
	}
	if d.n >= doorkeeperSlots/2 {
		d.prev, d.cur = d.cur, d.prev
		clear(d.cur)
		d.n = 0
	}
	for j := start; ; j = (j + 1) & (doorkeeperSlots - 1) {
		if d.cur[j] == 0 {
			d.cur[j] = fp
			d.n++
			return false
		}
	}
}

// probe returns the slot of fp in t, searched from start, or -1.
func probe(t []uint32, start, fp uint32) int {
	for j := start; ; j = (j + 1) & (doorkeeperSlots - 1) {
		switch t[j] {
		case fp:
			return int(j)
		case 0:
			return -1
		}
	}
}
