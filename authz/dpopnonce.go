package authz

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// dpopNonces issues and checks DPoP-Nonce values (RFC 9449 §8): an HMAC
// of the current time window under a key derived from the system secret,
// so they are stateless and every instance accepts every other's. A nonce
// is good for the window it was issued in and the next one.
type dpopNonces struct {
	key    []byte
	period time.Duration
	now    func() time.Time
}

// DefaultDPoPNoncePeriod is the window a DPoP nonce is issued for; it is
// accepted for up to twice as long.
const DefaultDPoPNoncePeriod = 5 * time.Minute

func (n *dpopNonces) at(window int64) string {
	m := hmac.New(sha256.New, n.key)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(window))
	m.Write(b[:])
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

func (n *dpopNonces) window() int64 { return n.now().UnixNano() / int64(n.period) }

// current is the nonce to hand out now (the DPoP-Nonce header).
func (n *dpopNonces) current() string { return n.at(n.window()) }

// valid reports whether nonce is this window's or the last one's.
func (n *dpopNonces) valid(nonce string) bool {
	if nonce == "" {
		return false
	}
	w := n.window()
	return hmac.Equal([]byte(nonce), []byte(n.at(w))) || hmac.Equal([]byte(nonce), []byte(n.at(w-1)))
}
