package authz

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestIntrospectionFormAsParseForm: for every request an introspection
// client may send, the protocol endpoints' form reading (parseCappedForm:
// quickForm, else capForm) leaves the same PostForm and Form, and fails
// where ParseForm fails: the forms quickForm reads itself, and those it
// leaves to ParseForm (their body unread).
func TestIntrospectionFormAsParseForm(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	const form = "application/x-www-form-urlencoded"
	long := "token=" + strings.Repeat("x", 8<<10)
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
		{"long", "POST", "/oauth2/introspect", form, long, false},
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
			c, _ := gin.CreateTestContext(httptest.NewRecorder())
			c.Request = got
			ok := parseCappedForm(c)
			if ok != (wantErr == nil) {
				t.Fatalf("read %v, ParseForm's error %v", ok, wantErr)
			}
			if !ok {
				return // answered 400 or 413; the form is not used
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
