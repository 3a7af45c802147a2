package authz

import (
	"encoding/base64"
	"net/http"
	"testing"
)

// TestParseBasicAgrees: ParseBasic accepts exactly the headers
// http.Request.BasicAuth does, and returns what it returns.
func TestParseBasicAgrees(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	long := make([]byte, 600)
	for i := range long {
		long[i] = 'a'
	}
	headers := []string{
		"", "Basic", "Basic ", "basic " + b64([]byte("a:b")), "BASIC " + b64([]byte("a:b")), "Basic " + b64([]byte("a:b")),
		"Basic " + b64([]byte("ab")), "Basic " + b64([]byte(":")), "Basic " + b64([]byte("a:")), "Basic  " + b64([]byte("a:b")),
		"Basic " + b64([]byte("a:b"))[1:], "Basic " + b64([]byte("a:b")) + "=", "Basic !!!!", "Bearer " + b64([]byte("a:b")),
		"Baſic " + b64([]byte("a:b")), "Basic " + base64.RawStdEncoding.EncodeToString([]byte("a:bc")),
		"Basic " + b64(append(long, ':')), "Basic " + b64(long), "Basic " + b64([]byte("ü:\xff")),
		"Basic\t" + b64([]byte("a:b")), "Basic " + b64([]byte("a:b")) + "\n",
		"Basic " + b64([]byte("a:b:c")), "Basic " + b64([]byte("a%3Ab:c%zz")), "Basic " + b64(append(append([]byte("id:"), long...), "x:y"...)),
	}
	for _, h := range headers {
		r := http.Request{Header: http.Header{"Authorization": {h}}}
		wantID, wantSecret, want := r.BasicAuth()
		if id, secret, got := ParseBasic(h); got != want || id != wantID || secret != wantSecret {
			t.Errorf("%q: %q %q %v, want %q %q %v", h, id, secret, got, wantID, wantSecret, want)
		}
		// The access log's BasicUser: the same user-id, with or without
		// the request's authentication memo.
		if id, got := BasicUser(&r); got != want || id != wantID {
			t.Errorf("BasicUser, %q: %q %v, want %q %v", h, id, got, wantID, want)
		}
		if id, got := BasicUser(withAuthMemo(&r)); got != want || id != wantID {
			t.Errorf("BasicUser with a memo, %q: %q %v, want %q %v", h, id, got, wantID, want)
		}
	}
}

// TestBasicUserFromMemo: once a request's client authentication has
// decoded its Authorization header, the access log's BasicUser reads the
// memo instead of decoding the header again.
func TestBasicUserFromMemo(t *testing.T) {
	r := withAuthMemo(&http.Request{Header: http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("app:s3cret"))}}})
	if id, _, ok := rawBasic(r); !ok || id != "app" {
		t.Fatalf("rawBasic: %q %v", id, ok)
	}
	r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("other:x")))
	if id, ok := BasicUser(r); !ok || id != "app" {
		t.Errorf("BasicUser after authentication: %q %v, want the memo's \"app\"", id, ok)
	}
}
