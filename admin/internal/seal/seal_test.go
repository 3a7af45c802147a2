package seal

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	s := New(bytes.Repeat([]byte{7}, 32))
	sealed := s.Seal([]byte("whsec_x"), []byte("row-1"))
	if bytes.Contains(sealed, []byte("whsec_x")) {
		t.Fatal("the plaintext shows in the sealed value")
	}
	if again := s.Seal([]byte("whsec_x"), []byte("row-1")); bytes.Equal(again, sealed) {
		t.Error("two seals of one value are equal (nonce reused)")
	}
	plain, err := s.Open(sealed, []byte("row-1"))
	if err != nil || string(plain) != "whsec_x" {
		t.Fatalf("Open = %q, %v", plain, err)
	}
	other := New(bytes.Repeat([]byte{8}, 32))
	for name, open := range map[string]func() ([]byte, error){
		"other row":   func() ([]byte, error) { return s.Open(sealed, []byte("row-2")) },
		"other key":   func() ([]byte, error) { return other.Open(sealed, []byte("row-1")) },
		"truncated":   func() ([]byte, error) { return s.Open(sealed[:20], []byte("row-1")) },
		"tampered":    func() ([]byte, error) { b := bytes.Clone(sealed); b[len(b)-1] ^= 1; return s.Open(b, []byte("row-1")) },
		"empty value": func() ([]byte, error) { return s.Open(nil, nil) },
	} {
		if _, err := open(); !errors.Is(err, ErrUnseal) {
			t.Errorf("%s: %v, want ErrUnseal", name, err)
		}
	}
}
