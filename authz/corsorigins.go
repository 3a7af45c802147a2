package authz

import (
	"context"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
)

// corsOrigins is the set of browser origins allowed to call the token,
// revocation and UserInfo endpoints cross-origin: the origin
// (scheme://host[:port], RFC 6454 §4) of every client's registered
// redirect URI, for a single-page app reads its tokens on the page it is
// sent back to. A loopback origin matches on any port, as a loopback
// redirect URI does (RFC 8252 §7.3); private-use schemes have no origin.
//
// The set is built from every client in the store, so it is cached: a
// reload happens only when it is older than ttl or was invalidated by a
// client change (Provider.ClientChanged and the clients.Channel event), never
// because an unknown origin asked, so a stream of strange origins costs a
// map lookup each.
type corsOrigins struct {
	store clientLister
	ttl   time.Duration
	now   func() time.Time

	mu      sync.RWMutex
	set     map[string]bool
	expires time.Time
}

func newCORSOrigins(s clientLister, now func() time.Time) *corsOrigins {
	return &corsOrigins{store: s, ttl: 30 * time.Second, now: now}
}

// allowed reports whether origin, an Origin header (RFC 6454 §7), may
// call the client endpoints.
func (o *corsOrigins) allowed(ctx context.Context, origin string) bool {
	set := o.current(ctx)
	if set[origin] {
		// Already in the set's form (as browsers send it): no parsing.
		return true
	}
	key, ok := originKey(origin)
	if !ok {
		return false
	}
	return set[key]
}

// current returns the set, reloading it when stale. A failed reload keeps
// the previous set and is retried after a few seconds.
func (o *corsOrigins) current(ctx context.Context) map[string]bool {
	o.mu.RLock()
	set, fresh := o.set, o.now().Before(o.expires)
	o.mu.RUnlock()
	if fresh {
		return set
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.now().Before(o.expires) {
		return o.set
	}
	// The set serves every request, so one client going away must not cut
	// its reload short.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	loaded, err := o.load(lctx)
	if err != nil {
		o.expires = o.now().Add(5 * time.Second)
		return o.set
	}
	o.set, o.expires = loaded, o.now().Add(o.ttl)
	return o.set
}

// load reads the origins of every client's redirect URIs, one page at a
// time (no transaction held across pages).
func (o *corsOrigins) load(ctx context.Context) (map[string]bool, error) {
	set := map[string]bool{}
	page := store.Page{Limit: store.MaxPageLimit}
	for {
		clients, next, err := o.store.ListClients(ctx, page)
		if err != nil {
			return nil, err
		}
		for _, c := range clients {
			for _, ru := range c.RedirectURIs {
				if key, ok := originKey(ru); ok {
					set[key] = true
				}
			}
		}
		if next == "" || len(clients) == 0 {
			return set, nil
		}
		page.Cursor = next
	}
}

// invalidate marks the set stale after a client changed (any id, or
// store.Resync); the next CORS request reloads it.
func (o *corsOrigins) invalidate(string) {
	o.mu.Lock()
	o.expires = time.Time{}
	o.mu.Unlock()
}

// originKey returns the ASCII serialization of the origin of an http(s)
// URI (RFC 6454 §6.2): lower-case scheme and host, no default port, and no
// port at all for a loopback host. It works on a redirect URI and on an
// Origin header alike; "null" and other schemes have none.
func originKey(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" {
		return "", false
	}
	switch {
	case clients.IsLoopbackHost(host), scheme == "http" && port == "80", scheme == "https" && port == "443":
		port = ""
	}
	if port != "" {
		return scheme + "://" + net.JoinHostPort(host, port), true
	}
	if strings.Contains(host, ":") {
		return scheme + "://[" + host + "]", true
	}
	return scheme + "://" + host, true
}
