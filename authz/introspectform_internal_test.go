package authz

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// TestPreparseFormAsParseForm: for every request, preparseForm followed
// by ParseForm leaves the same PostForm and Form, and the same error or
// none, as ParseForm alone: the forms it reads itself, and those it
// leaves to ParseForm (its body put back).
func TestPreparseFormAsParseForm(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	long := "token=" + strings.Repeat("x", maxPreparsed)
	for _, tc := range []struct {
		name, method, target, ctype, body string
		chunked                           bool
	}{
		{"token", "POST", "/oauth2/introspect", form, "token=eyJhbGciOi.eyJpc3Mi.c2ln", false},
		{"token and hint", "POST", "/oauth2/introspect", form, "token=abc&token_type_hint=access_token", false},
		{"escapes", "POST", "/oauth2/introspect", form, "token=a%2Bb+c&client_id=x%40y", false},
		{"repeated", "POST", "/oauth2/introspect", form, "token=a&token=b", false},
		{"bad escape", "POST", "/oauth2/introspect", form, "token=%zz&x=1", false},
		{"semicolon", "POST", "/oauth2/introspect", form, "token=a;b=c", false},
		{"not UTF-8", "POST", "/oauth2/introspect", form, "token=%ff%fe", false},
		{"empty values", "POST", "/oauth2/introspect", form, "token=&=&&x", false},
		{"query string", "POST", "/oauth2/introspect?token=q", form, "token=a", false},
		{"charset", "POST", "/oauth2/introspect", form + "; charset=UTF-8", "token=a", false},
		{"other type", "POST", "/oauth2/introspect", "application/json", `{"token":"a"}`, false},
		{"no type", "POST", "/oauth2/introspect", "", "token=a", false},
		{"GET", "GET", "/oauth2/introspect", form, "token=a", false},
		{"too long", "POST", "/oauth2/introspect", form, long, false},
		{"chunked", "POST", "/oauth2/introspect", form, "token=a", true},
		{"empty", "POST", "/oauth2/introspect", form, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := func() *http.Request {
				r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
				if tc.ctype != "" {
					r.Header.Set("Content-Type", tc.ctype)
				}
				if tc.chunked {
					r.ContentLength = -1
				}
				return r
			}
			want := req()
			wantErr := want.ParseForm()
			got := req()
			preparseForm(got)
			gotErr := got.ParseForm()
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("error %v, ParseForm's %v", gotErr, wantErr)
			}
			if !reflect.DeepEqual(got.PostForm, want.PostForm) || !reflect.DeepEqual(got.Form, want.Form) {
				t.Fatalf("PostForm %v Form %v; ParseForm's %v %v", got.PostForm, got.Form, want.PostForm, want.Form)
			}
			rest, _ := io.ReadAll(got.Body)
			wantRest, _ := io.ReadAll(want.Body)
			if string(rest) != string(wantRest) {
				t.Fatalf("body left %q, ParseForm's %q", rest, wantRest)
			}
		})
	}
}

// TestPreparseFormPutsBack: a body preparseForm cannot parse reaches
// ParseForm whole.
func TestPreparseFormPutsBack(t *testing.T) {
	r := httptest.NewRequest("POST", "/oauth2/introspect", strings.NewReader("token=%zz"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	preparseForm(r)
	if r.PostForm != nil || r.Form != nil {
		t.Fatal("a form that does not parse was set")
	}
	if b, _ := io.ReadAll(r.Body); string(b) != "token=%zz" {
		t.Fatalf("body %q", b)
	}
}
