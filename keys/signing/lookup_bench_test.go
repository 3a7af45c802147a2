package signing

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"
)

// BenchmarkSignerLookup measures the Service's own work per Sign beyond
// go-jose: the snapshot load, the active-key lookup and the header-signer
// cache.
func BenchmarkSignerLookup(b *testing.B) {
	raw, err := os.ReadFile("testdata/es256.pem")
	if err != nil {
		b.Fatal(err)
	}
	blk, _ := pem.Decode(raw)
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		b.Fatal(err)
	}
	m, err := newMaterial("kid", ES256, k.(crypto.Signer))
	if err != nil {
		b.Fatal(err)
	}
	s := &Service{cfg: Config{Algorithms: []string{ES256}}}
	s.set.Store(&keySet{active: map[string]*material{ES256: m}})
	hdr := map[string]any{"typ": "at+jwt"}
	for b.Loop() {
		if _, err := s.activeKey(ES256).signerFor(hdr); err != nil {
			b.Fatal(err)
		}
	}
}
