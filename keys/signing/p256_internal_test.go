package signing

import (
	"bufio"
	"compress/bzip2"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"filippo.io/nistec"
)

// derToJWS turns an ASN.1 ECDSA signature into JWS's 64-byte r‖s.
func derToJWS(der []byte) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &sig); err != nil {
		return nil, err
	}
	out := make([]byte, 64)
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out, nil
}

func jws(r, s *big.Int) *[64]byte {
	var out [64]byte
	if r.Sign() < 0 || s.Sign() < 0 || r.BitLen() > 256 || s.BitLen() > 256 {
		panic("out of range")
	}
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return &out
}

// TestP256TableAgreesWithECDSA: the table verifier and crypto/ecdsa answer
// the same for valid signatures, altered ones and the edge values of r
// and s.
func TestP256TableAgreesWithECDSA(t *testing.T) {
	n := p256Order
	nMinus1 := new(big.Int).Sub(n, big.NewInt(1))
	rng := mrand.New(mrand.NewPCG(3, 4))
	accepted, refused := 0, 0
	for k := range 40 {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tab := newP256Table(&priv.PublicKey)
		if tab == nil {
			t.Fatal("no table for a P-256 key")
		}
		check := func(hash [32]byte, r, s *big.Int) {
			t.Helper()
			want := ecdsa.Verify(&priv.PublicKey, hash[:], r, s)
			if got := tab.verify(&hash, jws(r, s)); got != want {
				t.Fatalf("key %d, hash %x, r %x, s %x: table %v, crypto/ecdsa %v", k, hash, r, s, got, want)
			}
			if want {
				accepted++
			} else {
				refused++
			}
		}
		for i := range 25 {
			msg := make([]byte, 1+rng.IntN(64))
			rand.Read(msg)
			hash := sha256.Sum256(msg)
			if i == 0 {
				hash = [32]byte{} // e = 0
			}
			if i == 1 {
				for j := range hash {
					hash[j] = 0xff // e > n
				}
			}
			r, s, err := ecdsa.Sign(rand.Reader, priv, hash[:])
			if err != nil {
				t.Fatal(err)
			}
			check(hash, r, s)
			check(hash, r, new(big.Int).Sub(n, s)) // the other s of the same signature
			bad := hash
			bad[rng.IntN(32)] ^= 1 << rng.IntN(8)
			check(bad, r, s)
			check(hash, new(big.Int).Xor(r, new(big.Int).Lsh(big.NewInt(1), uint(rng.IntN(256)))), s)
			check(hash, r, new(big.Int).Xor(s, new(big.Int).Lsh(big.NewInt(1), uint(rng.IntN(256)))))
			check(hash, new(big.Int).Add(r, n).Mod(new(big.Int).Add(r, n), new(big.Int).Lsh(big.NewInt(1), 256)), s)
			for _, edge := range []*big.Int{big.NewInt(0), big.NewInt(1), nMinus1, n, new(big.Int).Add(n, big.NewInt(1))} {
				check(hash, edge, s)
				check(hash, r, edge)
			}
			var rb, sb [32]byte
			rand.Read(rb[:])
			rand.Read(sb[:])
			check(hash, new(big.Int).SetBytes(rb[:]), new(big.Int).SetBytes(sb[:]))
		}
	}
	if accepted < 1000 || refused < 10000 {
		t.Fatalf("accepted %d, refused %d: too few of one kind", accepted, refused)
	}
}

// TestP256TableSigVer runs NIST's CAVP ECDSA signature verification vectors
// (FIPS 186-3, P-256 with SHA-256), which Go keeps beside crypto/ecdsa,
// through the table verifier.
func TestP256TableSigVer(t *testing.T) {
	f, err := os.Open(filepath.Join(runtime.GOROOT(), "src", "crypto", "ecdsa", "testdata", "SigVer.rsp.bz2"))
	if err != nil {
		t.Skipf("Go's CAVP vectors are not installed here: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(bzip2.NewReader(f))
	section := ""
	var msg []byte
	var qx, qy, r, s *big.Int
	num := func(v string) *big.Int {
		b, ok := new(big.Int).SetString(v, 16)
		if !ok {
			t.Fatalf("bad number %q", v)
		}
		return b
	}
	ran, passes := 0, 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			section = line
			continue
		}
		if section != "[P-256,SHA-256]" {
			continue
		}
		name, value, ok := strings.Cut(line, " = ")
		if !ok {
			continue
		}
		switch name {
		case "Msg":
			msg, _ = hex.DecodeString(value)
		case "Qx":
			qx = num(value)
		case "Qy":
			qy = num(value)
		case "R":
			r = num(value)
		case "S":
			s = num(value)
		case "Result":
			want := strings.HasPrefix(value, "P")
			pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: qx, Y: qy}
			tab := newP256Table(pub)
			got := false
			if tab != nil {
				hash := sha256.Sum256(msg)
				got = tab.verify(&hash, jws(r, s))
			}
			if got != want {
				t.Errorf("vector %d (%s): got %v, want %v", ran, value, got, want)
			}
			ran++
			if want {
				passes++
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if ran < 10 || passes == 0 || passes == ran {
		t.Fatalf("%d vectors (%d valid): the file did not read as expected", ran, passes)
	}
	t.Logf("%d vectors, %d valid", ran, passes)
}

// TestP256TableRefusesOtherKeys: only P-256 points get a table.
func TestP256TableRefusesOtherKeys(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if newP256Table(&p384.PublicKey) != nil || newP256Table(nil) != nil {
		t.Fatal("a table for a key that is not a P-256 point")
	}
	off := &ecdsa.PublicKey{Curve: elliptic.P256(), X: big.NewInt(1), Y: big.NewInt(1)}
	if newP256Table(off) != nil {
		t.Fatal("a table for a point off the curve")
	}
}

// TestP256TableXAboveOrder: a signature whose point R has x(R) ≥ n (so r
// = x(R) − n; about one in 2¹²⁸ of real ones) is accepted as crypto/ecdsa
// accepts it, and refused when r is x(R) itself. The key is made to fit
// R: Q = u₂⁻¹·(R − u₁·G).
func TestP256TableXAboveOrder(t *testing.T) {
	n := p256Order
	var R *nistec.P256Point
	x := new(big.Int).Set(n)
	for R == nil {
		var enc [33]byte
		enc[0] = 2
		x.FillBytes(enc[1:])
		if p, err := nistec.NewP256Point().SetBytes(enc[:]); err == nil {
			R = p
			break
		}
		x.Add(x, big.NewInt(1))
	}
	r := new(big.Int).Sub(x, n)
	hash := sha256.Sum256([]byte("x above n"))
	s := big.NewInt(12345)
	w := new(big.Int).ModInverse(s, n)
	u1 := new(big.Int).Mul(new(big.Int).SetBytes(hash[:]), w)
	u1.Mod(u1, n)
	u2 := new(big.Int).Mul(r, w)
	u2.Mod(u2, n)
	var b1, b2inv [32]byte
	u1.FillBytes(b1[:])
	new(big.Int).ModInverse(u2, n).FillBytes(b2inv[:])
	u1G, err := nistec.NewP256Point().ScalarBaseMult(b1[:])
	if err != nil {
		t.Fatal(err)
	}
	diff := nistec.NewP256Point().Add(R, nistec.NewP256Point().Negate(u1G))
	q, err := nistec.NewP256Point().ScalarMult(diff, b2inv[:])
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), q.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	tab := newP256Table(pub)
	if !ecdsa.Verify(pub, hash[:], r, s) {
		t.Fatal("crypto/ecdsa refuses the constructed signature")
	}
	if !tab.verify(&hash, jws(r, s)) {
		t.Error("the table refuses a signature with x(R) ≥ n")
	}
	rx := new(big.Int).Mod(x, new(big.Int).Lsh(big.NewInt(1), 256))
	if ecdsa.Verify(pub, hash[:], rx, s) || (rx.Cmp(n) < 0 && tab.verify(&hash, jws(rx, s))) {
		t.Error("r = x(R) ≥ n accepted")
	}
}

// TestP256TableMult checks k·Q from the table's signed windows against
// nistec's own scalar multiplication, for scalars whose windows sit at the
// edges of the digit range (0x80 stays, 0x81 and 0xff borrow, a run of
// borrows carries into the next window and, from the top byte, into the
// 33rd) and for random ones.
func TestP256TableMult(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tab := newP256Table(&priv.PublicKey)
	enc, _ := priv.PublicKey.Bytes()
	q, err := nistec.NewP256Point().SetBytes(enc)
	if err != nil {
		t.Fatal(err)
	}
	n := p256Order.Bytes()
	var ks [][32]byte
	for _, fill := range []byte{0x00, 0x01, 0x7f, 0x80, 0x81, 0xfe, 0xff} {
		var k [32]byte
		for i := range k {
			k[i] = fill
		}
		ks = append(ks, k)
		k[0] = 0 // below n
		ks = append(ks, k)
		var one [32]byte
		one[31] = fill
		ks = append(ks, one)
	}
	for _, v := range []*big.Int{big.NewInt(1), big.NewInt(2), new(big.Int).Sub(p256Order, big.NewInt(1)),
		new(big.Int).Sub(p256Order, big.NewInt(2)), new(big.Int).Rsh(p256Order, 1)} {
		var k [32]byte
		v.FillBytes(k[:])
		ks = append(ks, k)
	}
	var k [32]byte
	copy(k[:], n)
	ks = append(ks, k) // n itself: the point at infinity
	for range 200 {
		rand.Read(k[:])
		ks = append(ks, k)
	}
	for _, k := range ks {
		want, err := nistec.NewP256Point().ScalarMult(q, k[:])
		if err != nil {
			t.Fatal(err)
		}
		var sum big.Int
		for i, d := range p256Digits(&k) {
			if d < -127 || d > 128 {
				t.Fatalf("%x: digit %d is %d", k, i, d)
			}
			sum.Add(&sum, new(big.Int).Lsh(big.NewInt(int64(d)), uint(8*i)))
		}
		if sum.Cmp(new(big.Int).SetBytes(k[:])) != 0 {
			t.Fatalf("%x: digits sum to %x", k, sum.Bytes())
		}
		var got nistec.P256Point
		if tab.mult(&got, &k).Equal(want) != 1 {
			t.Fatalf("k = %x: the table's k·Q is not nistec's", k)
		}
	}
}

// BenchmarkES256Verify compares one ES256 verification through the table
// with crypto/ecdsa's.
func BenchmarkES256Verify(b *testing.B) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	hash := sha256.Sum256([]byte("input"))
	r, s, _ := ecdsa.Sign(rand.Reader, priv, hash[:])
	sig := jws(r, s)
	b.Run("table", func(b *testing.B) {
		tab := newP256Table(&priv.PublicKey)
		b.ReportAllocs()
		for b.Loop() {
			if !tab.verify(&hash, sig) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("crypto/ecdsa", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !ecdsa.Verify(&priv.PublicKey, hash[:], r, s) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("table build", func(b *testing.B) {
		for b.Loop() {
			newP256Table(&priv.PublicKey)
		}
	})
}
