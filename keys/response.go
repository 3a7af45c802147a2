package keys

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/keyward/keyward/keys/jsonenc"
)

// MarshalJSON encodes r as the body of POST /v1/apikeys/verify:
//
//	{"valid", "code", "key_id", "scope", "expires_at", "rate_limit": {"limit", "remaining", "reset"}}
//
// The members after code are present only when the key exists; scope is
// space-separated, times are RFC 3339, expires_at is null for a key that
// never expires and rate_limit is null for an unlimited key.
func (r Result) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(nil)
}

var _ json.Marshaler = Result{}

// AppendJSON appends MarshalJSON's bytes to dst: the same bytes
// encoding/json makes of the struct MarshalJSON describes
// (TestResultJSONMatchesReflection), written without reflection, so that
// a verification's answer costs one buffer. Its error is encoding/json's
// for a time it cannot write (a year outside 0–9999).
func (r Result) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"valid":`...)
	dst = strconv.AppendBool(dst, r.Valid)
	dst = append(dst, `,"code":`...)
	dst = jsonenc.String(dst, string(r.Code))
	if r.Key == nil {
		return append(dst, '}'), nil
	}
	dst = append(dst, `,"key_id":`...)
	dst = jsonenc.String(dst, r.Key.ID)
	dst = append(dst, `,"scope":`...)
	dst = jsonenc.Joined(dst, r.Key.Scopes)
	dst = append(dst, `,"expires_at":`...)
	var err error
	if r.Key.ExpiresAt.IsZero() {
		dst = append(dst, "null"...)
	} else if dst, err = appendJSONTime(dst, r.Key.ExpiresAt.UTC()); err != nil {
		return nil, err
	}
	dst = append(dst, `,"rate_limit":`...)
	if r.RateLimit == nil {
		return append(dst, "null}"...), nil
	}
	dst = append(dst, `{"limit":`...)
	dst = strconv.AppendInt(dst, int64(r.RateLimit.Limit), 10)
	dst = append(dst, `,"remaining":`...)
	dst = strconv.AppendInt(dst, int64(r.RateLimit.Remaining), 10)
	dst = append(dst, `,"reset":`...)
	if dst, err = appendJSONTime(dst, r.RateLimit.Reset.UTC()); err != nil {
		return nil, err
	}
	return append(dst, "}}"...), nil
}

// appendJSONTime appends t as encoding/json writes a time.Time (RFC 3339
// with nanoseconds); a year outside 0–9999 is left to encoding/json, which
// refuses it.
func appendJSONTime(dst []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		b, err := json.Marshal(t)
		return append(dst, b...), err
	}
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"'), nil
}
