package authz

import (
	"encoding/binary"
	"encoding/json"
	"unsafe"
)

// A packed AccessClaims (packClaims), as the verified-token cache keeps
// it, is bytes without pointers: its integers, two counts, the lengths of
// its strings and of its audiences, and then their text.
const (
	packedInts   = 5 // exp, iat, nbf, auth_time, api_key_secret
	packedTexts  = 8 // iss, sub, aud (raw JSON), jti, client_id, scope, api_key_id, cnf.jkt
	packedHeader = packedInts*8 + 2 + packedTexts*2

	packedHasCnf       = 1 << 0
	packedHasAudiences = 1 << 1
)

// packClaims appends c, packed, to dst; ok is false when c does not pack
// (more than 255 audiences, a string of 64 KiB or more, or more than
// maxPackedClaims in all).
func packClaims(dst []byte, c *AccessClaims) (_ []byte, ok bool) {
	jkt := c.DPoPJKT()
	texts := [packedTexts]string{c.Issuer, c.Subject, unsafe.String(unsafe.SliceData(c.Audience), len(c.Audience)),
		c.JTI, c.ClientID, c.Scope, c.APIKeyID, jkt}
	size := packedHeader + 2*len(c.audiences)
	for _, s := range texts {
		if len(s) > 0xffff {
			return dst, false
		}
		size += len(s)
	}
	for _, a := range c.audiences {
		if len(a) > 0xffff {
			return dst, false
		}
		size += len(a)
	}
	if len(c.audiences) > 0xff || size > maxPackedClaims {
		return dst, false
	}
	for _, v := range [packedInts]int64{c.ExpiresAt, c.IssuedAt, c.NotBefore, c.AuthTime, c.APIKeySecret} {
		dst = binary.LittleEndian.AppendUint64(dst, uint64(v))
	}
	var flags byte
	if c.Cnf != nil {
		flags |= packedHasCnf
	}
	if c.audiences != nil {
		flags |= packedHasAudiences
	}
	dst = append(dst, flags, byte(len(c.audiences)))
	for _, s := range texts {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(s)))
	}
	for _, a := range c.audiences {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(a)))
	}
	for _, s := range texts {
		dst = append(dst, s...)
	}
	for _, a := range c.audiences {
		dst = append(dst, a...)
	}
	return dst, true
}

// claimsHead is what an unpacked AccessClaims holds besides its text: the
// claims, their confirmation and room for two audiences.
type claimsHead struct {
	c   AccessClaims
	cnf Confirmation
	aud [2]string
}

// unpackedSmall and unpackedLarge are a claimsHead with its text in the
// same allocation, sized to fill a size class of 512 and 1024 bytes, so an
// unpacked entry of the usual size is one allocation.
type unpackedSmall struct {
	claimsHead
	text [512 - unsafe.Sizeof(claimsHead{})]byte
}

type unpackedLarge struct {
	claimsHead
	text [1024 - unsafe.Sizeof(claimsHead{})]byte
}

// unpackClaims is the AccessClaims b (from packClaims) packs, in memory of
// its own, or nil when b is not a packed entry.
func unpackClaims(b []byte) *AccessClaims {
	if len(b) < packedHeader {
		return nil
	}
	naud := int(b[packedInts*8+1])
	lens := b[packedInts*8+2:]
	textLen := 0
	for i := range packedTexts {
		textLen += int(binary.LittleEndian.Uint16(lens[2*i:]))
	}
	audLens := b[packedHeader:]
	if len(audLens) < 2*naud {
		return nil
	}
	for i := range naud {
		textLen += int(binary.LittleEndian.Uint16(audLens[2*i:]))
	}
	src := audLens[2*naud:]
	if len(src) != textLen {
		return nil
	}
	var h *claimsHead
	var text []byte
	switch {
	case textLen <= len(unpackedSmall{}.text):
		u := new(unpackedSmall)
		h, text = &u.claimsHead, u.text[:textLen]
	case textLen <= len(unpackedLarge{}.text):
		u := new(unpackedLarge)
		h, text = &u.claimsHead, u.text[:textLen]
	default:
		h, text = new(claimsHead), make([]byte, textLen)
	}
	copy(text, src)
	c := &h.c
	ints := [packedInts]*int64{&c.ExpiresAt, &c.IssuedAt, &c.NotBefore, &c.AuthTime, &c.APIKeySecret}
	for i, p := range ints {
		*p = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	flags := b[packedInts*8]
	off := 0
	next := func(n int) string {
		s := ""
		if n > 0 {
			s = unsafe.String(&text[off], n)
		}
		off += n
		return s
	}
	strs := [packedTexts]*string{&c.Issuer, &c.Subject, nil, &c.JTI, &c.ClientID, &c.Scope, &c.APIKeyID, &h.cnf.JKT}
	for i, p := range strs {
		n := int(binary.LittleEndian.Uint16(lens[2*i:]))
		if p == nil { // aud, raw JSON
			if n > 0 {
				c.Audience = json.RawMessage(text[off : off+n : off+n])
			}
			off += n
			continue
		}
		*p = next(n)
	}
	if flags&packedHasCnf != 0 {
		c.Cnf = &h.cnf
	}
	if flags&packedHasAudiences != 0 {
		auds := h.aud[:0:len(h.aud)]
		if naud > len(h.aud) {
			auds = make([]string, 0, naud)
		}
		for i := range naud {
			auds = append(auds, next(int(binary.LittleEndian.Uint16(audLens[2*i:]))))
		}
		c.audiences = auds[:naud:naud]
	}
	return c
}
