package authz

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

var claimPayloads = []string{
	`{"aud":["app"],"client_id":"app","exp":1767225600,"iat":1767222000,"iss":"http://127.0.0.1:8080","jti":"3q2-7w","nbf":1767222000,"scope":"read write","sub":"app"}`,
	`{"aud":"app","client_id":"app","cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"},"exp":2,"iat":1,"iss":"i","jti":"j","nbf":1,"scope":"","sub":"s"}`,
	`{"api_key_id":"k1","api_key_secret":1767222000123456,"auth_time":-5,"aud":["https://api.example","app"],"client_id":"c"}`,
	` { "iss" : "i" , "aud" : [ "a" , "b" ] , "cnf" : { } } `, `{}`, ` {} `, `{`, ``, `[]`, `null`, `"x"`,
	`{"iss":"i"}x`, `{"iss":"i",}`, `{"iss":"i","iss":"j"}`, `{"ISS":"i"}`, `{"Exp":5}`, `{"iss":null}`, `{"exp":null}`,
	`{"exp":1.5}`, `{"exp":1e3}`, `{"exp":01}`, `{"exp":-}`, `{"exp":-0}`, `{"exp":"5"}`, `{"exp":123456789012345678}`,
	`{"exp":1234567890123456789}`, `{"exp":99999999999999999999}`, `{"aud":5}`, `{"aud":null}`, `{"aud":[]}`, `{"aud":[ ]}`,
	`{"aud":""}`, `{"aud":["a",5]}`, `{"aud":["a",]}`, `{"aud":[["a"]]}`, `{"cnf":null}`, `{"cnf":{"jkt":5}}`,
	`{"cnf":{"JKT":"x"}}`, `{"cnf":{"jkt":"x","other":"y"}}`, `{"cnf":{"jkt":"x"},"cnf":{}}`, `{"cnf":"x"}`,
	`{"other":"x","iss":"i"}`, `{"other":5,"iss":"i"}`, `{"other":{"a":1},"iss":"i"}`, `{"other":[1],"iss":"i"}`,
	`{"other":true}`, `{"iss":"a\"b"}`, `{"iss":"\u0041"}`, `{"iss":"ü"}`, "{\"iss\":\"bad\xff\"}", `{"iss":"<&>"}`,
	"{\"iss\":\"tab\there\"}", `{"client_ID":"c"}`, `{"api_key_secret":-12}`, `{"auth_time":1,"auth_time":2}`,
}

// TestAccessClaimsDecodersAgree: the claims scanner reads every payload as
// json.Unmarshal does, listed edge cases and random mutations of them
// alike, and reads the payloads this server signs itself.
func TestAccessClaimsDecodersAgree(t *testing.T) {
	check := func(p string) {
		t.Helper()
		var got, want AccessClaims
		gotErr := decodeAccessClaims([]byte(p), &got)
		wantErr := json.Unmarshal([]byte(p), &want)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%q: error %v, json.Unmarshal %v", p, gotErr, wantErr)
		}
		if wantErr != nil {
			return
		}
		if !sameClaims(&got, &want) {
			t.Fatalf("%q:\n got %+v\nwant %+v", p, got, want)
		}
		if g, w := got.Audiences(), want.Audiences(); !reflect.DeepEqual(g, w) {
			t.Fatalf("%q: audiences %#v, want %#v", p, g, w)
		}
	}
	fast := 0
	for _, p := range claimPayloads {
		check(p)
		var c AccessClaims
		if scanAccessClaims([]byte(p), &c) {
			fast++
		}
	}
	if fast < 10 {
		t.Fatalf("the scanner read only %d payloads", fast)
	}
	var c AccessClaims
	if !scanAccessClaims([]byte(claimPayloads[0]), &c) || !scanAccessClaims([]byte(claimPayloads[2]), &c) {
		t.Fatal("the scanner does not read a payload as this server signs it")
	}
	alphabet := []byte(`{}[]":, 0123456789-.eE` + "audiexpcnfjktsbAUDEXP\\\x7f\xc3\xbc" + "nul")
	mutateEach(claimPayloads, alphabet, 7, 8, 200_000, check)
}

// sameClaims compares two claims field by field (aud as its raw JSON).
func sameClaims(a, b *AccessClaims) bool {
	x, y := *a, *b
	x.audiences, y.audiences = nil, nil
	x.Audience, y.Audience = nil, nil
	x.Cnf, y.Cnf = nil, nil
	return reflect.DeepEqual(x, y) && bytes.Equal(a.Audience, b.Audience) && (a.Cnf == nil) == (b.Cnf == nil) &&
		(a.Cnf == nil || *a.Cnf == *b.Cnf)
}

func FuzzAccessClaimsDecoders(f *testing.F) {
	for _, p := range claimPayloads {
		f.Add([]byte(p))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		var got, want AccessClaims
		gotErr := decodeAccessClaims(p, &got)
		wantErr := json.Unmarshal(p, &want)
		if (gotErr == nil) != (wantErr == nil) || (wantErr == nil && !sameClaims(&got, &want)) {
			t.Fatalf("%q: got %+v %v, want %+v %v", p, got, gotErr, want, wantErr)
		}
	})
}
