package authz

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// quickFormAgrees checks that quickForm leaves r.PostForm and r.Form as
// capForm (net/http's ParseForm) does, and fails where it fails.
func quickFormAgrees(t *testing.T, body string) {
	t.Helper()
	req := func() (*gin.Context, *http.Request) {
		r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
		r.Header.Set("Content-Type", formType)
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = r
		return c, r
	}
	qc, qr := req()
	status, done := quickForm(qc)
	if !done {
		t.Fatalf("%.60q: not taken", body)
	}
	nc, nr := req()
	want := capForm(nc)
	if status != want {
		t.Fatalf("%.60q: status %d, want %d", body, status, want)
	}
	if status != 0 {
		return
	}
	if !reflect.DeepEqual(qr.PostForm, nr.PostForm) || !reflect.DeepEqual(qr.Form, nr.Form) {
		t.Fatalf("%.60q: PostForm %v Form %v, want %v %v", body, qr.PostForm, qr.Form, nr.PostForm, nr.Form)
	}
	// Appending to one of the two never shows in the other.
	for k := range qr.PostForm {
		qr.PostForm.Add(k, "added")
		qr.Form.Add(k, "other")
		if qr.PostForm[k][len(qr.PostForm[k])-1] != "added" || qr.Form[k][len(qr.Form[k])-1] != "other" ||
			len(qr.PostForm[k]) != len(nr.PostForm[k])+1 {
			t.Fatalf("%.60q: PostForm and Form share %q", body, k)
		}
	}
	if err := qr.ParseMultipartForm(1 << 20); err != nil {
		t.Fatalf("ParseMultipartForm after quickForm: %v", err)
	}
}

func TestQuickFormAgrees(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	many := strings.Repeat("p=1&", maxQuickParams) + "q=2"
	for _, body := range []string{
		"", "a=b", "grant_type=client_credentials&scope=read+write", "a=b&a=c&b=d&a=e", "a", "a=", "=b", "&", "&&a=1&&",
		"a=%zz", "%zz=a", "a;b=c", "a=b;c", "k%20y=v+w%2B", "a=%E2%82%AC", "a=\xff", "x=1&x=1", "a==b", many,
		strings.Repeat("x", maxBody+1), "a=" + strings.Repeat("y", 70<<10),
	} {
		quickFormAgrees(t, body)
	}
}

// quickForm leaves every other request to ParseForm.
func TestQuickFormDeclines(t *testing.T) {
	for _, tc := range []struct{ method, target, ct string }{
		{http.MethodGet, "/x", formType},
		{http.MethodPost, "/x?a=b", formType},
		{http.MethodPost, "/x", formType + "; charset=UTF-8"},
		{http.MethodPost, "/x", "multipart/form-data; boundary=x"},
		{http.MethodPost, "/x", ""},
	} {
		r := httptest.NewRequest(tc.method, tc.target, strings.NewReader("a=b"))
		if tc.ct != "" {
			r.Header.Set("Content-Type", tc.ct)
		}
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = r
		if _, done := quickForm(c); done || r.PostForm != nil {
			t.Errorf("%s %s %q: taken", tc.method, tc.target, tc.ct)
		}
	}
}

func FuzzQuickForm(f *testing.F) {
	for _, s := range []string{"a=b", "grant_type=client_credentials&scope=read", "a=%zz", "a;b", "a=b&a=c"} {
		f.Add(s)
	}
	gin.SetMode(gin.ReleaseMode)
	f.Fuzz(func(t *testing.T, body string) { quickFormAgrees(t, body) })
}
