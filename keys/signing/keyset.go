package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	jose "github.com/go-jose/go-jose/v4"
)

// maxCachedSigners bounds the per-key cache of signers with extra headers.
const maxCachedSigners = 16

// material is the decrypted key of one published record, with what
// signing and verifying need, built once per key.
type material struct {
	kid, alg string
	priv     crypto.Signer
	public   jose.JSONWebKey // public members only, with kid, alg and use
	signing  jose.JSONWebKey // private, with kid: go-jose puts it in headers
	signer   jose.Signer     // no extra headers
	// es256 is priv when Sign uses crypto/ecdsa directly (an in-memory
	// P-256 key of an ES256 record), nil otherwise.
	es256 *ecdsa.PrivateKey

	signers sync.Map // header cache key → jose.Signer
	cached  atomic.Int32

	es256Once sync.Once
	es256Pubs *p256Table // an ES256 key's verification table (es256Table)
	// heads caches the base64url protected header per typ (es256 only).
	heads       sync.Map // typ → string
	cachedHeads atomic.Int32
}

func newMaterial(kid, alg string, priv crypto.Signer) (*material, error) {
	m := &material{kid: kid, alg: alg, priv: priv, es256: es256Key(alg, priv)}
	m.public = jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: alg, Use: "sig"}
	m.signing = jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: alg, Use: "sig"}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: m.signing}, nil)
	if err != nil {
		return nil, fmt.Errorf("signing: key %s: %w", kid, err)
	}
	m.signer = s
	return m, nil
}

// keySet is an immutable snapshot of the keys, swapped atomically on
// reload. Sign, Verify and the JWKS read only this.
type keySet struct {
	records   []*Record            // every key as loaded
	published map[string]*material // next, active and retiring, by kid
	active    map[string]*material // by alg
	order     []string             // published kids in JWKS order

	jwks   []byte
	etag   string
	public jose.JSONWebKeySet
	// The JWKS answer's ETag and Content-Length values, shared by every
	// answer (JWKSHandler).
	etagValue, lengthValue []string
}

// buildSet decrypts the published records, reusing the material (and its
// signers) of keys the previous set already held, and rebuilds the JWKS
// only when the published keys changed. A key that does not decrypt is
// logged and left out.
func buildSet(recs []*Record, prev *keySet, sl *sealer, algs []string, log *slog.Logger) *keySet {
	set := &keySet{records: recs, published: map[string]*material{}, active: map[string]*material{}}
	var pub []*Record
	for _, r := range recs {
		if !r.State.Published() {
			continue
		}
		var m *material
		if prev != nil {
			m = prev.published[r.KID]
		}
		if m == nil || m.alg != r.Alg {
			var err error
			if m, err = openMaterial(r, sl); err != nil {
				log.Error("signing key unusable", "kid", r.KID, "alg", r.Alg, "state", r.State, "err", err)
				continue
			}
		}
		set.published[r.KID] = m
		if r.State == StateActive {
			set.active[r.Alg] = m
		}
		pub = append(pub, r)
	}
	slices.SortStableFunc(pub, func(a, b *Record) int { return jwksOrder(algs, a, b) })
	for _, r := range pub {
		set.order = append(set.order, r.KID)
	}
	if prev != nil && slices.Equal(prev.order, set.order) {
		set.jwks, set.etag, set.public = prev.jwks, prev.etag, prev.public
		set.etagValue, set.lengthValue = prev.etagValue, prev.lengthValue
		return set
	}
	set.public = jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(set.order))}
	for _, kid := range set.order {
		set.public.Keys = append(set.public.Keys, set.published[kid].public)
	}
	b, err := json.Marshal(set.public)
	if err != nil {
		// Only a key type go-jose cannot marshal, which openMaterial refuses.
		panic(err)
	}
	sum := sha256.Sum256(b)
	set.jwks = b
	set.etag = `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	set.etagValue, set.lengthValue = []string{set.etag}, []string{strconv.Itoa(len(b))}
	return set
}

// jwksOrder lists active keys first (in configured algorithm order), then
// next, then retiring keys, oldest first: a verifier that ignores kid
// still tries the signing key first.
func jwksOrder(algs []string, a, b *Record) int {
	rank := func(s State) int {
		switch s {
		case StateActive:
			return 0
		case StateNext:
			return 1
		}
		return 2
	}
	if c := rank(a.State) - rank(b.State); c != 0 {
		return c
	}
	ai, bi := slices.Index(algs, a.Alg), slices.Index(algs, b.Alg)
	if ai < 0 {
		ai = len(algs)
	}
	if bi < 0 {
		bi = len(algs)
	}
	if ai != bi {
		return ai - bi
	}
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return strings.Compare(a.KID, b.KID)
}

// openMaterial decrypts a record's private key.
func openMaterial(r *Record, sl *sealer) (*material, error) {
	der, err := sl.open(r.KID, r.Alg, r.Sealed)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing: sealed key: %w", err)
	}
	priv, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("signing: sealed key of type %T", k)
	}
	if err := checkKey(r.Alg, priv); err != nil {
		return nil, err
	}
	return newMaterial(r.KID, r.Alg, priv)
}
