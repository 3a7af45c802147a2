package authz

import (
	"bytes"
	"encoding/json"
	"testing"
)

// unmarshalVerifyJSON is how the body used to be read, the reference.
func unmarshalVerifyJSON(body []byte) (req verifyRequest, ok bool) {
	trimmed := bytes.TrimSpace(body)
	ok = len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &req) == nil
	return req, ok
}

var verifyBodies = []string{
	`{"key":"kw_live_abc","required_scope":"read"}`,
	` { "key" : "k" , "required_scope" : "a b" } `,
	"\t{\n\"key\":\"k\"\r}\n",
	`{}`, ` {} `, `{`, `}`, ``, `[]`, `"key"`, `null`, `{"key":"k"}x`, `{"key":"k",}`, `{,}`,
	`{"key":"k","key":"l"}`, `{"Key":"k"}`, `{"KEY":"k","key":"l"}`, `{"REQUIRED_SCOPE":"x"}`,
	`{"key":5}`, `{"key":null}`, `{"key":true}`, `{"key":["a"]}`, `{"key":{"a":1}}`,
	`{"key":"a\"b"}`, `{"key":"a\u0041"}`, `{"key":"\ud800"}`, `{"key":"ü"}`, "{\"key\":\"bad\xff\"}",
	"{\"key\":\"tab\there\"}", `{"other":"x","key":"k"}`, `{"other":1,"key":"k"}`, `{"other":"x","other":"y"}`,
	`{"client_id":"c","client_secret":"s","key":"k"}`, `{"client_id":"c","client_id":"d"}`,
	"\v{\"key\":\"k\"}", "\u00a0{\"key\":\"k\"}", `{"key":"k"} {"key":"l"}`, `{"key""k"}`, `{"key":}`,
	`{"k\u0065y":"x"}`, `{"kéy":"x"}`, "{\"\u212aey\":\"x\"}",
}

// TestVerifyRequestDecodersAgree: the fast decoder of verification bodies
// reads every body as json.Unmarshal does, listed edge cases and random
// mutations of them alike.
func TestVerifyRequestDecodersAgree(t *testing.T) {
	check := func(body string) {
		t.Helper()
		got, gotOK := decodeVerifyJSON([]byte(body))
		want, wantOK := unmarshalVerifyJSON([]byte(body))
		if gotOK != wantOK || (wantOK && got != want) {
			t.Fatalf("%q: got %+v %v, want %+v %v", body, got, gotOK, want, wantOK)
		}
	}
	fast := 0
	for _, b := range verifyBodies {
		check(b)
		if _, _, sure := scanVerifyJSON([]byte(b)); sure {
			fast++
		}
	}
	if fast < 5 {
		t.Fatalf("the fast path read only %d bodies", fast)
	}
	alphabet := []byte("{}[]\":, \t\nkeyrquid_scopKEY\\\x7f\xc3\xbc0n")
	mutateEach(verifyBodies, alphabet, 1, 2, 200_000, check)
}

func FuzzVerifyRequestDecoders(f *testing.F) {
	for _, b := range verifyBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, gotOK := decodeVerifyJSON(body)
		want, wantOK := unmarshalVerifyJSON(body)
		if gotOK != wantOK || (wantOK && got != want) {
			t.Fatalf("%q: got %+v %v, want %+v %v", body, got, gotOK, want, wantOK)
		}
	})
}

// TestVerifyRequestOwnsItsStrings: what parseVerifyRequest returns is its
// own, so the verify endpoint may hand the body's pooled buffer back at
// once: overwriting the body afterwards changes no field, for every
// decoder (the fast JSON path, json.Unmarshal's, the form).
func TestVerifyRequestOwnsItsStrings(t *testing.T) {
	for _, c := range []struct{ ctype, body string }{
		{"application/json", `{"key":"kw_live_abc","required_scope":"read","client_id":"c","client_secret":"s"}`},
		{"application/json", `{"key":"kw_live_\u0061bc","required_scope":"read","client_id":"c","client_secret":"s"}`},
		{"application/x-www-form-urlencoded", "key=kw_live_abc&required_scope=read&client_id=c&client_secret=s"},
	} {
		body := []byte(c.body)
		req, known, ok := parseVerifyRequest(c.ctype, body)
		if !known || !ok {
			t.Fatalf("%s %q: not read", c.ctype, c.body)
		}
		want := req
		for i := range body {
			body[i] = 'x'
		}
		if req != want || req.Key != "kw_live_abc" || req.RequiredScope != "read" || req.ClientID != "c" || req.ClientSecret != "s" {
			t.Errorf("%s: %+v after the body was overwritten (read %+v)", c.ctype, req, want)
		}
	}
}
