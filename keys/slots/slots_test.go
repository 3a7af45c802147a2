package slots_test

import (
	"runtime"
	"sync"
	"testing"

	"github.com/keyward/keyward/keys/heaptest"
	"github.com/keyward/keyward/keys/slots"
)

type entry struct {
	slots.Head
	key, until int64
	text       [40]byte
}

// place puts key (its own hash) with an expiry into t.
func place(t *slots.Table[entry, *entry], key, until, now int64) {
	h := uint64(key)
	sh := t.Shard(h)
	sh.Lock()
	defer sh.Unlock()
	e := sh.Place(t, h, func(e *entry) bool { return now >= e.until })
	e.key, e.until = key, until
}

// read reports whether t holds key, and marks it read.
func read(t *slots.Table[entry, *entry], key int64) bool {
	h := uint64(key)
	sh := t.Shard(h)
	sh.RLock()
	defer sh.RUnlock()
	_, e := sh.Find(h)
	if e == nil || e.key != key {
		return false
	}
	sh.Mark(e)
	return true
}

// TestClock: a full table keeps an entry read between every two
// newcomers through a tour of ten times its size, holds no more entries
// than its size, and gives a newcomer the slot of an entry gone (expired)
// before one read since the hand last passed.
func TestClock(t *testing.T) {
	tab := slots.New[entry](100)
	place(tab, 1<<40, 1000, 0)
	for k := range int64(1000) {
		place(tab, k+1, 1000, 0)
		if !read(tab, 1<<40) {
			t.Fatalf("the entry in steady use was evicted after %d newcomers", k+1)
		}
	}
	if n := tab.Len(); n != 100 || tab.Used() != 100 {
		t.Fatalf("%d entries, %d slots in a table of 100", n, tab.Used())
	}
	place(tab, 5000, 10, 0) // gone at 10
	for k := range int64(1001) {
		read(tab, k+1)
	}
	read(tab, 5000)
	place(tab, 5001, 1000, 10)
	if read(tab, 5000) {
		t.Error("a newcomer took a slot read since the hand passed while a gone one was there")
	}
	if !read(tab, 1<<40) {
		t.Error("the entry in steady use gave up its slot")
	}
}

// TestDropSweepClear: a sweep that empties the table lets its slots go,
// one that leaves entries keeps the freed slots for newcomers (the table
// hands out no more slots than its size), a dropped entry is not found,
// and Clear forgets every slot.
func TestDropSweepClear(t *testing.T) {
	tab := slots.New[entry](1000)
	for round := range int64(5) {
		for k := range int64(1000) {
			place(tab, round<<20|k+1, round, 0)
		}
		tab.Sweep(func(e *entry) bool { return e.until <= round })
		if n := tab.Len(); n != 0 || tab.Used() != 0 {
			t.Fatalf("round %d: %d entries, %d slots after the sweep", round, n, tab.Used())
		}
	}
	// A sweep that leaves entries keeps the slots it freed for newcomers.
	for k := range int64(1000) {
		place(tab, k+1, k%2, 0)
	}
	tab.Sweep(func(e *entry) bool { return e.until == 0 })
	if n, used := tab.Len(), tab.Used(); n != 500 || used != 1000 {
		t.Fatalf("%d entries, %d slots after sweeping half", n, used)
	}
	for k := range int64(500) {
		place(tab, 10_000+k, 1, 0)
	}
	if n, used := tab.Len(), tab.Used(); n != 1000 || used != 1000 {
		t.Fatalf("%d entries, %d slots after refilling the freed half", n, used)
	}
	if used := tab.Used(); used > 1000 {
		t.Fatalf("%d slots handed out for a table of 1,000", used)
	}
	place(tab, 7, 1, 0)
	sh := tab.Shard(7)
	sh.Lock()
	i, _ := sh.Find(7)
	if sh := tab.Shard(8); sh == tab.Shard(7) {
		sh.Alias(8, i)
		sh.Drop(i)
		if _, e := sh.Find(7); e != nil {
			t.Error("a dropped entry is found")
		}
	}
	sh.Unlock()
	tab.Clear()
	if tab.Len() != 0 || tab.Used() != 0 {
		t.Fatalf("%d entries, %d slots after Clear", tab.Len(), tab.Used())
	}
}

// TestNotScanned: a full table adds nothing the collector scans.
func TestNotScanned(t *testing.T) {
	tab := slots.New[entry](50_000)
	runtime.GC()
	runtime.GC()
	empty := heaptest.ScannedLastCycle()
	for k := range int64(50_000) {
		place(tab, k+1, 1, 0)
	}
	runtime.GC()
	runtime.GC()
	if grown := int64(heaptest.ScannedLastCycle()) - int64(empty); grown > 64<<10 {
		t.Errorf("the collector scans %d bytes more a cycle with 50,000 entries", grown)
	}
	runtime.KeepAlive(tab)
}

// TestConcurrent: places, reads, sweeps and clears at once (run with
// -race) keep the table within its size.
func TestConcurrent(t *testing.T) {
	tab := slots.New[entry](600) // two shards; the keys below evict
	var wg sync.WaitGroup
	for g := range int64(4) {
		wg.Go(func() {
			for i := range int64(5000) {
				k := (i*7+g)%2000 + 1
				place(tab, k, i, i)
				read(tab, k)
				if g == 0 && i%1000 == 999 {
					tab.Sweep(func(e *entry) bool { return e.until < i })
				}
				if g == 1 && i%2500 == 2499 {
					tab.Clear()
				}
			}
		})
	}
	wg.Wait()
	if n := tab.Len(); n > 600+tab.Shards() {
		t.Errorf("%d entries in a table of 600", n)
	}
}
