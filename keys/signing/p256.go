package signing

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"math/big"
	"sync"

	"filippo.io/nistec"
)

// p256Table verifies ES256 signatures (ECDSA over P-256 with SHA-256,
// FIPS 186-5 §6.4.2) by one public key Q in about half the time of
// crypto/ecdsa (BenchmarkES256Verify): it holds the multiples d·256^i·Q
// (d = 1…128), so that u₂·Q, the variable-base scalar multiplication that
// is two thirds of a verification, costs one point addition per 8-bit
// window of u₂ and no doubling. The windows' digits are signed (−127…128,
// each window borrowing from the next), so that half of the multiples,
// the negations, come from the table for the price of a field
// subtraction. A key verifies thousands of tokens, so the table (396 KiB,
// built in about two milliseconds) is built once per key, when it first
// verifies.
//
// Everything it handles is public (the key, the signed input, the
// signature), so nothing needs constant time. The point arithmetic is
// filippo.io/nistec's, the code of Go's own crypto/internal/nistec. The
// answer is crypto/ecdsa's for every input (TestP256TableAgreesWithECDSA,
// and NIST's CAVP SigVer vectors in TestP256TableSigVer); u₂·Q is
// nistec's ScalarMult for every scalar tried (TestP256TableMult).
type p256Table [p256Windows][1 << (p256Window - 1)]nistec.P256Point

const (
	p256Window = 8
	// A 256-bit scalar below n has a 257th signed window at most when its
	// top window borrows; n's top byte (0xff) makes that possible.
	p256Windows = 256/p256Window + 1
)

// p256Order is n, the order of P-256's base point.
var p256Order = elliptic.P256().Params().N

// newP256Table returns the table of pub, or nil when pub is not a P-256
// point.
func newP256Table(pub *ecdsa.PublicKey) *p256Table {
	if pub == nil || pub.Curve != elliptic.P256() {
		return nil
	}
	enc, err := pub.Bytes()
	if err != nil {
		return nil
	}
	q, err := nistec.NewP256Point().SetBytes(enc) // checks that Q is on the curve
	if err != nil || q.IsInfinity() == 1 {
		return nil
	}
	t := new(p256Table)
	base := nistec.NewP256Point().Set(q) // 256^i · Q
	for i := range t {
		t[i][0].Set(base)
		for j := 1; j < len(t[i]); j++ {
			t[i][j].Add(&t[i][j-1], base) // (j+1) · 256^i · Q
		}
		for range p256Window {
			base.Double(base)
		}
	}
	return t
}

// p256Digits returns the signed digits of a 32-byte big-endian k in base
// 256, least significant first: k = Σ d[i]·256^i with each d[i] in
// −127…128.
func p256Digits(k *[32]byte) (d [p256Windows]int) {
	carry := 0
	for i := range 32 {
		v := int(k[31-i]) + carry
		carry = 0
		if v > 1<<(p256Window-1) {
			v -= 1 << p256Window
			carry = 1
		}
		d[i] = v
	}
	d[32] = carry
	return d
}

// p256Infinity is the point at infinity (never changed: only copied).
var p256Infinity = nistec.NewP256Point()

// mult sets acc to k·Q for a 32-byte big-endian k and returns it.
func (t *p256Table) mult(acc *nistec.P256Point, k *[32]byte) *nistec.P256Point {
	acc.Set(p256Infinity)
	var neg nistec.P256Point
	first := true
	for i, d := range p256Digits(k) {
		var m *nistec.P256Point
		switch {
		case d > 0:
			m = &t[i][d-1]
		case d < 0:
			m = neg.Negate(&t[i][-d-1])
		default:
			continue
		}
		if first { // an addition to the point at infinity is a copy
			acc.Set(m)
			first = false
			continue
		}
		acc.Add(acc, m)
	}
	return acc
}

// p256Scalars are verify's integers mod n, pooled so that their
// backing arrays are reused from one verification to the next.
type p256Scalars struct{ r, s, d, w, e, t, q, u big.Int }

var p256ScalarPool = sync.Pool{New: func() any { return new(p256Scalars) }}

var bigOne = big.NewInt(1)

// p256OrderBytes is n, big-endian.
var p256OrderBytes = p256Order.FillBytes(make([]byte, 32))

// verify reports whether sig, the 64-byte r‖s of a JWS ES256 signature
// (RFC 7518 §3.4), signs hash, SHA-256 of the signed input.
func (t *p256Table) verify(hash *[32]byte, sig *[64]byte) bool {
	var b1, b2 [32]byte
	if !p256Scalarize(&b1, &b2, hash, sig) {
		return false
	}
	// R = u₁·G + u₂·Q; refuse the point at infinity, else accept when
	// x(R) mod n = r.
	p, err := nistec.NewP256Point().ScalarBaseMult(b1[:])
	if err != nil {
		return false
	}
	var q nistec.P256Point
	p.Add(p, t.mult(&q, &b2))
	x, err := p.BytesX()
	if err != nil {
		return false
	}
	r := sig[:32] // r < n, in 32 bytes big-endian, as x
	if bytes.Equal(x, r) {
		return true
	}
	if bytes.Compare(x, p256OrderBytes) < 0 {
		return false
	}
	// x ≥ n (x < p < 2n): x mod n = x − n.
	var xr, rr big.Int
	xr.SetBytes(x).Sub(&xr, p256Order)
	return xr.Cmp(rr.SetBytes(r)) == 0
}

// p256Scalarize sets u1 and u2 to u₁ = e·s⁻¹ and u₂ = r·s⁻¹ mod n, 32
// bytes big-endian, for the signature r‖s of hash e, and reports whether r
// and s are in [1, n−1] (FIPS 186-5 §6.4.2 step 2); a 256-bit hash needs
// no truncation for a 256-bit n.
func p256Scalarize(u1, u2 *[32]byte, hash *[32]byte, sig *[64]byte) bool {
	v := p256ScalarPool.Get().(*p256Scalars)
	defer p256ScalarPool.Put(v)
	r, s := v.r.SetBytes(sig[:32]), v.s.SetBytes(sig[32:])
	if r.Sign() <= 0 || s.Sign() <= 0 || r.Cmp(p256Order) >= 0 || s.Cmp(p256Order) >= 0 {
		return false
	}
	// w = s⁻¹ mod n: ModInverse's own steps, with pooled integers. n is
	// prime, so the gcd is 1 for every s in [1, n−1].
	v.d.GCD(&v.w, nil, s, p256Order)
	if v.d.Cmp(bigOne) != 0 {
		return false
	}
	w := &v.w
	if w.Sign() < 0 {
		w.Add(w, p256Order)
	}
	// Products into t and remainders by QuoRem into u, so that no result
	// aliases an operand (which would take a new array).
	v.t.Mul(v.e.SetBytes(hash[:]), w)
	v.q.QuoRem(&v.t, p256Order, &v.u) // operands are positive: so is u
	v.u.FillBytes(u1[:])
	v.t.Mul(r, w)
	v.q.QuoRem(&v.t, p256Order, &v.u)
	v.u.FillBytes(u2[:])
	return true
}
