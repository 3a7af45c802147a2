package outbound

import (
	"container/list"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// entry is one cached 200 answer with what HTTP caching (RFC 9111) needs
// to serve or revalidate it.
type entry struct {
	header       http.Header
	body         []byte
	expires      time.Time // fresh before this
	noStore      bool      // Cache-Control: no-store: never kept
	noCache      bool      // Cache-Control: no-cache: revalidate on every use
	etag         string
	lastModified string
}

// newEntry reads the freshness of an answer (RFC 9111 §4.2.1): max-age,
// else Expires minus Date, less Age, clamped to [MinTTL, MaxTTL]; absent,
// MinTTL.
func newEntry(h http.Header, body []byte, cfg Config, now time.Time) *entry {
	e := &entry{header: h.Clone(), body: body, etag: h.Get("ETag"), lastModified: h.Get("Last-Modified")}
	e.setFreshness(h, cfg, now)
	return e
}

func (e *entry) setFreshness(h http.Header, cfg Config, now time.Time) {
	ttl, known := time.Duration(0), false
	for _, d := range strings.Split(strings.Join(h.Values("Cache-Control"), ","), ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store":
			e.noStore = true
		case "no-cache":
			e.noCache = true
		case "max-age":
			if n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && n >= 0 {
				ttl, known = time.Duration(min(n, int64(cfg.MaxTTL/time.Second)+1))*time.Second, true
			}
		}
	}
	if !known {
		if exp, err := http.ParseTime(h.Get("Expires")); err == nil {
			base := now
			if d, err := http.ParseTime(h.Get("Date")); err == nil {
				base = d
			}
			ttl, known = exp.Sub(base), true
		} else if h.Get("Expires") != "" {
			ttl, known = 0, true // an invalid Expires means already expired (§5.3)
		}
	}
	if age, err := strconv.ParseInt(h.Get("Age"), 10, 64); err == nil && age > 0 && known {
		ttl -= time.Duration(age) * time.Second
	}
	ttl = max(cfg.MinTTL, min(ttl, cfg.MaxTTL))
	e.expires = now.Add(ttl)
}

// storable: no-store is never kept; no-cache only with a validator to
// revalidate with.
func (e *entry) storable() bool {
	return !e.noStore && (!e.noCache || e.etag != "" || e.lastModified != "")
}

func (e *entry) fresh(now time.Time) bool { return !e.noCache && now.Before(e.expires) }

// revalidated is the entry after a 304: the stored body with the new
// answer's freshness and validators (RFC 9111 §4.3.4).
func (e *entry) revalidated(h http.Header, cfg Config, now time.Time) *entry {
	n := &entry{header: e.header.Clone(), body: e.body, etag: e.etag, lastModified: e.lastModified}
	for _, k := range []string{"Cache-Control", "Expires", "Date", "ETag", "Last-Modified", "Age"} {
		if v := h.Values(k); len(v) > 0 {
			n.header[k] = v
		}
	}
	n.etag, n.lastModified = n.header.Get("ETag"), n.header.Get("Last-Modified")
	n.setFreshness(n.header, cfg, now)
	return n
}

func (e *entry) response(url string) *Response {
	return &Response{URL: url, Header: e.header.Clone(), Body: e.body, Cached: true}
}

// cache is a bounded map with least-recently-used eviction.
type cache struct {
	max int
	mu  sync.Mutex
	lru *list.List // of *cacheItem, most recent first
	m   map[string]*list.Element
}

type cacheItem struct {
	key string
	e   *entry
}

func newCache(max int) *cache {
	return &cache{max: max, lru: list.New(), m: map[string]*list.Element{}}
}

func (c *cache) get(key string) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[key]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(el)
	return el.Value.(*cacheItem).e
}

func (c *cache) put(key string, e *entry) {
	if c.max < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[key]; ok {
		el.Value.(*cacheItem).e = e
		c.lru.MoveToFront(el)
		return
	}
	c.m[key] = c.lru.PushFront(&cacheItem{key: key, e: e})
	for c.lru.Len() > c.max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.m, old.Value.(*cacheItem).key)
	}
}

func (c *cache) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[key]; ok {
		c.lru.Remove(el)
		delete(c.m, key)
	}
}

// Len is the number of cached answers.
func (f *Fetcher) Len() int {
	f.cache.mu.Lock()
	defer f.cache.mu.Unlock()
	return f.cache.lru.Len()
}
