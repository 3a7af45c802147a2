// Package clocktest is the settable clock tests hand the packages under
// test in place of the real time.
package clocktest

import (
	"sync"
	"time"
)

// Clock is a clock a test sets and moves by hand; its Now method is the
// Now func (or Config.Now) the packages under test take. Safe for
// concurrent use (caches read it from background goroutines).
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// At is a Clock that reads t until moved.
func At(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
