package authz

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
)

// maxPreparsed is the largest introspection body preparseForm reads; a
// token and a hint fit many times over.
const maxPreparsed = 8 << 10

// preparseForm reads the form of an introspection request of the usual
// shape (POST, Content-Type exactly application/x-www-form-urlencoded, a
// Content-Length of at most maxPreparsed, no query string) with the
// parser ParseForm uses, url.ParseQuery, and sets r.PostForm and r.Form,
// so that readForm's ParseForm has nothing left to do. It spares
// ParseForm's growing read buffer, and the second map and value slices of
// r.Form: with no query string the two hold the same values, so they
// share one map (introspection only reads them). Any other request, or a
// body that cannot be read or parsed, is left to ParseForm as it came,
// with what was read put back, so its answer is ParseForm's.
func preparseForm(r *http.Request) {
	if r.Method != http.MethodPost || r.PostForm != nil || r.Form != nil || r.URL == nil || r.URL.RawQuery != "" ||
		r.ContentLength <= 0 || r.ContentLength > maxPreparsed || r.Body == nil || r.Body == http.NoBody ||
		r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		return
	}
	buf := make([]byte, r.ContentLength)
	n, err := io.ReadFull(r.Body, buf)
	if err == nil {
		if vs, err := url.ParseQuery(string(buf)); err == nil {
			r.PostForm, r.Form = vs, vs
			return
		}
	}
	r.Body = readBack{Reader: io.MultiReader(bytes.NewReader(buf[:n]), r.Body), Closer: r.Body}
}

// readBack is a request body with bytes already read put back before it.
type readBack struct {
	io.Reader
	io.Closer
}
