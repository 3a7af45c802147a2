package signing

import "time"

// State is where a key is in its life cycle (see the package comment).
type State string

// The states of a signing key, in life-cycle order.
const (
	StateNext     State = "next"
	StateActive   State = "active"
	StateRetiring State = "retiring"
	StateRetired  State = "retired"
)

// Valid reports whether s is one of the four states.
func (s State) Valid() bool {
	switch s {
	case StateNext, StateActive, StateRetiring, StateRetired:
		return true
	}
	return false
}

// Published reports whether keys in state s belong in the JWKS.
func (s State) Published() bool {
	return s == StateNext || s == StateActive || s == StateRetiring
}

// Origins of a key.
const (
	OriginGenerated = "generated"
	OriginImported  = "imported"
)

// Record is one signing key as stored, and as listed by `keyward keys list`
// and the admin API. The private key is only ever present sealed.
type Record struct {
	// KID is the key ID (RFC 7515 §4.1.4): the RFC 7638 JWK thumbprint of
	// a generated key, or the kid an imported JWK carried.
	KID string `json:"kid"`
	// Alg is the JWS algorithm (RFC 7518 §3.1, RFC 8037 §3.1): ES256, RS256
	// or EdDSA.
	Alg   string `json:"alg"`
	State State  `json:"state"`
	// Origin is OriginGenerated or OriginImported.
	Origin string `json:"origin"`
	// Sealed is the PKCS #8 private key encrypted with the signing-key
	// AEAD, the kid and alg as associated data. Never serialized.
	Sealed []byte `json:"-"`

	CreatedAt time.Time `json:"created_at"`
	// ActivatedAt is when the key started signing.
	ActivatedAt time.Time `json:"activated_at,omitzero"`
	// RetiringAt is when the key stopped signing.
	RetiringAt time.Time `json:"retiring_at,omitzero"`
	// RetireAfter is when a retiring key may leave the JWKS.
	RetireAfter time.Time `json:"retire_after,omitzero"`
	// RetiredAt is when the key left the JWKS.
	RetiredAt time.Time `json:"retired_at,omitzero"`
	// RevokedAt is set when the key was revoked (compromised).
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Clone returns a deep copy of r.
func (r *Record) Clone() *Record {
	c := *r
	c.Sealed = append([]byte(nil), r.Sealed...)
	return &c
}
