package authz

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/maypok86/otter/v2"
	"golang.org/x/sync/singleflight"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/outbound"
	"github.com/keyward/keyward/store"
)

// jwksFetcher is what clientKeys needs of the outbound fetcher (Keyward's
// one fetcher, with its address guard, limits and HTTP cache) to read the
// JWK Set a client publishes at its jwks_uri (RFC 7591 §2).
type jwksFetcher interface {
	// Get answers from the HTTP cache while the cached copy is fresh.
	Get(ctx context.Context, rawURL string) (*outbound.Response, error)
	// Revalidate asks the origin again whatever the cache holds.
	Revalidate(ctx context.Context, rawURL string) (*outbound.Response, error)
}

var _ jwksFetcher = (*outbound.Fetcher)(nil)

// Caching of jwks_uri documents, on top of the fetcher's HTTP cache: a
// parsed set is used for jwksTTL before the fetcher is asked again; a
// signature whose kid the set lacks (the client rotated its keys) makes
// the fetcher revalidate it, but at most once per jwksRefetchEvery per
// URI, so that a caller naming unknown kids cannot make Keyward hammer
// the client's server; a failed fetch is tried again after jwksFailTTL.
const (
	jwksTTL          = time.Minute
	jwksRefetchEvery = 30 * time.Second
	jwksFailTTL      = 10 * time.Second
	jwksCacheMax     = 10_000
)

// clientKeys finds the public keys a client registered (store.Client.JWKS
// by value, or JWKSURI by reference) for a JWS algorithm and kid.
type clientKeys struct {
	fetcher jwksFetcher // nil: clients with a jwks_uri cannot authenticate
	now     func() time.Time

	group singleflight.Group
	mu    sync.Mutex
	sets  map[string]*fetchedJWKS // by URI

	// inline holds parsed registered JWK Sets by the SHA-256 of their
	// text, so a private_key_jwt token request does not parse and check
	// the client's keys again; a changed set is a new entry.
	inline *otter.Cache[[sha256.Size]byte, *jose.JSONWebKeySet]
}

type fetchedJWKS struct {
	set *jose.JSONWebKeySet // nil after a failed fetch with no good copy
	err error
	// fetched is when set was fetched, tried the last attempt, refetched
	// the last fetch for a kid the set lacked (zero: none yet).
	fetched, tried, refetched time.Time
}

func newClientKeys(fetcher jwksFetcher, now func() time.Time) *clientKeys {
	return &clientKeys{fetcher: fetcher, now: now, sets: map[string]*fetchedJWKS{},
		inline: otter.Must(&otter.Options[[sha256.Size]byte, *jose.JSONWebKeySet]{MaximumSize: jwksCacheMax})}
}

// errNoKeys is why a client's keys cannot verify a signature; its text is
// safe to show to the client.
type errNoKeys struct{ reason string }

func (e *errNoKeys) Error() string { return e.reason }

// candidates returns the keys of c that may have made a signature of alg
// with header kid ("" for none): of the kid's keys (every key without
// one) those that fit alg (clients.KeyFits). A *errNoKeys when there are
// none, or when the jwks_uri cannot be fetched; a store failure never
// comes from here.
func (k *clientKeys) candidates(ctx context.Context, c *store.Client, alg, kid string) ([]jose.JSONWebKey, error) {
	var set *jose.JSONWebKeySet
	switch {
	case c.JWKS != "":
		s, err := k.registered(c.JWKS)
		if err != nil {
			return nil, &errNoKeys{"The client's registered JWK Set cannot be read."}
		}
		set = s
	case c.JWKSURI != "":
		s, err := k.remote(ctx, c.JWKSURI, kid)
		if err != nil {
			return nil, err
		}
		set = s
	default:
		return nil, &errNoKeys{"The client has no public keys registered (jwks or jwks_uri)."}
	}
	keys := fitting(set, alg, kid)
	if len(keys) == 0 {
		if kid != "" {
			return nil, &errNoKeys{fmt.Sprintf("None of the client's registered keys has kid %q and fits alg %s.", kid, alg)}
		}
		return nil, &errNoKeys{"None of the client's registered keys fits alg " + alg + "."}
	}
	return keys, nil
}

// registered parses and checks a client's registered JWK Set, once per
// distinct text.
func (k *clientKeys) registered(jwks string) (*jose.JSONWebKeySet, error) {
	id := sha256.Sum256([]byte(jwks))
	if set, ok := k.inline.GetIfPresent(id); ok {
		return set, nil
	}
	set, err := clients.ParseJWKS([]byte(jwks))
	if err != nil {
		return nil, err
	}
	k.inline.Set(id, set)
	return set, nil
}

func fitting(set *jose.JSONWebKeySet, alg, kid string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, key := range set.Keys {
		if kid != "" && key.KeyID != kid {
			continue
		}
		if clients.KeyFits(key, alg) {
			out = append(out, key)
		}
	}
	return out
}

// remote returns the JWK Set at uri: the cached copy while it is fresh and,
// when kid is not in it, a new copy if the last fetch is older than
// jwksRefetchEvery. Concurrent callers share one fetch.
func (k *clientKeys) remote(ctx context.Context, uri, kid string) (*jose.JSONWebKeySet, error) {
	if k.fetcher == nil {
		return nil, &errNoKeys{"This server does not fetch jwks_uri documents; register the client's keys by value (jwks)."}
	}
	now := k.now()
	k.mu.Lock()
	e := k.sets[uri]
	k.mu.Unlock()
	if e != nil {
		switch {
		case e.set == nil && now.Sub(e.tried) < jwksFailTTL:
			return nil, e.err
		case e.set != nil && now.Sub(e.fetched) < jwksTTL &&
			(kid == "" || len(e.set.Key(kid)) > 0 || now.Sub(e.refetched) < jwksRefetchEvery):
			return e.set, nil
		}
	}
	revalidate := e != nil && e.set != nil && now.Sub(e.fetched) < jwksTTL // only a kid is missing
	v, _, _ := k.group.Do(uri, func() (any, error) {
		// Another caller may have fetched it while this one waited.
		k.mu.Lock()
		if cur := k.sets[uri]; cur != nil && cur != e {
			k.mu.Unlock()
			return cur, nil
		}
		k.mu.Unlock()
		at := k.now()
		f := &fetchedJWKS{fetched: at, tried: at}
		if revalidate {
			f.refetched = at
		} else if e != nil {
			f.refetched = e.refetched
		}
		get := k.fetcher.Get
		if revalidate {
			get = k.fetcher.Revalidate
		}
		resp, err := get(context.WithoutCancel(ctx), uri)
		if err == nil {
			if f.set, err = clients.ParseJWKS(resp.Body); err != nil {
				err = fmt.Errorf("%w: %w", errBadJWKS, err)
			}
		}
		if err != nil {
			f.set, f.err = nil, &errNoKeys{"The client's jwks_uri could not be used: " + errText(err)}
			if e != nil && e.set != nil && at.Sub(e.fetched) < jwksTTL {
				// Keep serving the good copy until it expires.
				f.set, f.err, f.fetched = e.set, nil, e.fetched
			}
		}
		k.mu.Lock()
		if len(k.sets) >= jwksCacheMax {
			clear(k.sets)
		}
		k.sets[uri] = f
		k.mu.Unlock()
		return f, nil
	})
	f := v.(*fetchedJWKS)
	return f.set, f.err
}

// errText is a short, client-safe reason for a failed jwks_uri fetch:
// the kind of failure, never the resolved address or the network error.
func errText(err error) string {
	var se *outbound.StatusError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("it answered HTTP %d.", se.Code)
	case errors.Is(err, outbound.ErrForbiddenAddress):
		return "its host is not a public address."
	case errors.Is(err, outbound.ErrForbiddenURL):
		return "the URL is not allowed (https only)."
	case errors.Is(err, outbound.ErrTimeout):
		return "it timed out."
	case errors.Is(err, outbound.ErrTooLarge):
		return "the document is too large."
	case errors.Is(err, outbound.ErrTooManyRedirects):
		return "too many redirects."
	case errors.Is(err, errBadJWKS):
		return "the document is not a usable JWK Set (" + strings.TrimPrefix(err.Error(), errBadJWKS.Error()+": ") + ")."
	}
	return "it could not be fetched."
}

// errBadJWKS wraps why a fetched JWK Set was refused (clients.ParseJWKS).
var errBadJWKS = errors.New("bad JWK Set")
