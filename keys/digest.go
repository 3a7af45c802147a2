package keys

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// digester computes keyed digests of key strings: HMAC-SHA-256 under the
// key derived from the system secret for PurposeAPIKey. A fast keyed hash
// suffices because keys carry ≥160 random bits; a slow hash would only cap
// throughput. Hash states are pooled so a verification does not allocate.
type digester struct {
	pool sync.Pool
}

type digestState struct {
	h   hash.Hash
	buf [KeyLen]byte
	sum [sha256.Size]byte
}

func newDigester(s Secret) *digester {
	key := s.Derive(PurposeAPIKey)
	d := &digester{}
	d.pool.New = func() any { return &digestState{h: hmac.New(sha256.New, key)} }
	return d
}

// digest returns the digest of key in a new slice.
func (d *digester) digest(key string) []byte {
	st := d.pool.Get().(*digestState)
	defer d.pool.Put(st)
	return append([]byte(nil), st.compute(key)...)
}

// matches reports, in constant time per candidate, which of want matches
// the digest of key (-1 for none).
func (d *digester) matches(key string, want []SecretDigest) int {
	st := d.pool.Get().(*digestState)
	defer d.pool.Put(st)
	got := st.compute(key)
	found := -1
	for i := range want {
		if hmac.Equal(got, want[i].Digest) && found < 0 {
			found = i
		}
	}
	return found
}

func (st *digestState) compute(key string) []byte {
	st.h.Reset()
	if len(key) <= len(st.buf) {
		n := copy(st.buf[:], key)
		st.h.Write(st.buf[:n])
	} else {
		st.h.Write([]byte(key))
	}
	return st.h.Sum(st.sum[:0])
}
