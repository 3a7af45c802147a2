// Package slots is the memory behind Keyward's caches that the garbage
// collector never scans: fixed-size slots of a type that holds no
// pointers, allocated in chunks, found through a map from a 64-bit hash to
// a slot number (a map whose keys and values hold no pointers is not
// scanned either), in up to eight shards behind read-write locks. A full
// cache of pointer-laden entries costs the collector marking on every
// cycle, whatever the requests are: 11 ms a cycle for 100,000 API keys
// in otter, 2.7 MB more scanned a cycle for 7,600 verified tokens
// (docs/PERFORMANCE.md).
//
// A Table holds at most a fixed number of slots. Once it is full, a new
// entry takes the slot of one in its shard not read since the clock hand
// last passed it (CLOCK: a second chance for each entry read again), or of
// one its owner says may go at once (expired), so entries in steady use
// stay while entries read once go first.
//
// The slot type embeds Head first and is otherwise the owner's: the owner
// keeps the key an entry is found by in the slot and compares it after
// Find, since two keys may share a hash.
package slots

import (
	"sync"
	"sync/atomic"
)

// Head is a slot's first sixteen bytes: what the table reads (the hash the
// entry is indexed under, 0 for a free slot, and the clock's mark) and
// four bytes of the owner's (Aux), which would otherwise be padding.
type Head struct {
	hash uint64
	ref  uint32
	Aux  uint32
}

// Hash is the hash the slot's entry is indexed under (0: none).
func (h *Head) Hash() uint64 { return h.hash }

func (h *Head) head() *Head { return h }

// Slot is a pointer to a slot type that embeds Head.
type Slot[S any] interface {
	*S
	head() *Head
}

// Chunk is how many slots a shard allocates at once.
const Chunk = 64

// Table is the slots of one cache.
type Table[S any, P Slot[S]] struct {
	shards []Shard[S, P]
	shift  uint // a hash's top bits pick its shard
	max    int64
	used   atomic.Int64 // slots handed out by all shards
}

// Shard is a part of a table behind its own lock, which callers take
// (RLock to Find and read, Lock to Place, Drop or write).
type Shard[S any, P Slot[S]] struct {
	sync.RWMutex
	index  map[uint64]uint32 // hash → slot number
	chunks [][]S             // of Chunk slots each
	used   uint32            // slots handed out so far (free ones among them)
	free   []uint32
	hand   uint32
}

// New makes a table of about slots entries in all; more entries shard it
// (up to eight shards of at least four chunks each).
func New[S any, P Slot[S]](slots int) *Table[S, P] {
	n := 1
	for n < 8 && slots/(n*2) >= 4*Chunk {
		n *= 2
	}
	t := &Table[S, P]{shards: make([]Shard[S, P], n), shift: 64, max: int64(slots)}
	for n > 1 {
		t.shift--
		n /= 2
	}
	for i := range t.shards {
		t.shards[i].index = map[uint64]uint32{}
	}
	return t
}

// Shard is the shard of hash h, which must not be 0.
func (t *Table[S, P]) Shard(h uint64) *Shard[S, P] {
	if t.shift == 64 {
		return &t.shards[0]
	}
	return &t.shards[h>>t.shift]
}

// Shards is how many shards t has.
func (t *Table[S, P]) Shards() int { return len(t.shards) }

// Used is how many slots t has handed out (free ones among them).
func (t *Table[S, P]) Used() int64 { return t.used.Load() }

// At is slot i.
func (sh *Shard[S, P]) At(i uint32) P { return P(&sh.chunks[i/Chunk][i%Chunk]) }

// Find is the slot number and slot indexed under h, or nil: the entry of
// a key of hash h, or of another key of the same hash. The lock is held.
func (sh *Shard[S, P]) Find(h uint64) (uint32, P) {
	i, ok := sh.index[h]
	if !ok {
		return 0, nil
	}
	return i, sh.At(i)
}

// Mark notes that p's entry was read, for the clock; it may be called
// under the read lock.
func (sh *Shard[S, P]) Mark(p P) {
	if r := &p.head().ref; atomic.LoadUint32(r) == 0 {
		atomic.StoreUint32(r, 1)
	}
}

// Place is the slot of the entry indexed under h, for the caller to write
// (all but its Head): the one indexed there already, or a free one, or a
// new one while t has room (or the shard none), or the one the clock hand
// picks, whose entry is dropped: one gone (when gone is not nil and
// reports so) or not read since the hand last passed it. A slot taken anew
// is unmarked; the lock is held.
func (sh *Shard[S, P]) Place(t *Table[S, P], h uint64, gone func(P) bool) P {
	if i, ok := sh.index[h]; ok {
		return sh.At(i)
	}
	i := sh.take(t, gone)
	sh.index[h] = i
	p := sh.At(i)
	*p.head() = Head{hash: h}
	return p
}

func (sh *Shard[S, P]) take(t *Table[S, P], gone func(P) bool) uint32 {
	if n := len(sh.free); n > 0 {
		i := sh.free[n-1]
		sh.free = sh.free[:n-1]
		return i
	}
	if t.used.Add(1) <= t.max || sh.used == 0 {
		if sh.used%Chunk == 0 {
			sh.chunks = append(sh.chunks, make([]S, Chunk))
		}
		sh.used++
		return sh.used - 1
	}
	t.used.Add(-1)
	for {
		i := sh.hand
		sh.hand = (sh.hand + 1) % sh.used
		p := sh.At(i)
		if r := &p.head().ref; atomic.LoadUint32(r) != 0 && (gone == nil || !gone(p)) {
			atomic.StoreUint32(r, 0)
			continue
		}
		sh.unindex(i, p)
		return i
	}
}

// unindex drops slot i's entry from the index, unless the index names
// another slot under its hash; the lock is held.
func (sh *Shard[S, P]) unindex(i uint32, p P) {
	if h := p.head().hash; h != 0 {
		if j, ok := sh.index[h]; ok && j == i {
			delete(sh.index, h)
		}
	}
}

// Drop frees slot i and zeroes it; the lock is held.
func (sh *Shard[S, P]) Drop(i uint32) {
	p := sh.At(i)
	sh.unindex(i, p)
	var zero S
	*p = zero
	sh.free = append(sh.free, i)
}

// Alias indexes slot i under h as well, as if two keys had the same hash
// (for tests of a slot's owner).
func (sh *Shard[S, P]) Alias(h uint64, i uint32) { sh.index[h] = i }

// Sweep drops the entries gone reports. A shard left with no entry lets
// go of the memory that held them (its chunks and its index, which a map
// never shrinks), so a burst of entries that all expire does not stay
// resident.
func (t *Table[S, P]) Sweep(gone func(P) bool) {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.Lock()
		for j := range sh.used {
			if p := sh.At(j); p.head().hash != 0 && gone(p) {
				sh.Drop(j)
			}
		}
		if len(sh.index) == 0 {
			sh.release(t)
		}
		sh.Unlock()
	}
}

// release drops every entry of the shard and the memory that held them;
// the lock is held.
func (sh *Shard[S, P]) release(t *Table[S, P]) {
	t.used.Add(-int64(sh.used))
	sh.index = map[uint64]uint32{}
	sh.chunks, sh.used, sh.free, sh.hand = nil, 0, nil, 0
}

// Clear drops every entry and the memory that held them.
func (t *Table[S, P]) Clear() {
	for i := range t.shards {
		sh := &t.shards[i]
		sh.Lock()
		sh.release(t)
		sh.Unlock()
	}
}

// Len is how many entries t holds.
func (t *Table[S, P]) Len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.RLock()
		n += len(sh.index)
		sh.RUnlock()
	}
	return n
}
