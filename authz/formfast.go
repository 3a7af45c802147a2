package authz

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
)

// formType is the Content-Type of a form POST (RFC 6749 §3.2, Appendix B).
const formType = "application/x-www-form-urlencoded"

// notMultipart marks a request's form as read and not multipart: fosite's
// handlers call ParseMultipartForm, which then returns at once instead of
// parsing the Content-Type again to learn what quickForm already checked.
// It is never written to (an empty form; its RemoveAll removes nothing).
var notMultipart = &multipart.Form{}

// formBuffers hold request bodies while they are read and parsed
// (quickForm, the verify endpoint): readBody, then releaseBody once
// nothing refers to the bytes.
var formBuffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 512)) }}

// readBody reads body into a pooled buffer; the caller hands it back with
// releaseBody.
func readBody(body io.Reader) (*bytes.Buffer, error) {
	buf := formBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	_, err := buf.ReadFrom(body)
	return buf, err
}

// releaseBody returns buf to the pool, unless a large body grew it.
func releaseBody(buf *bytes.Buffer) {
	if buf.Cap() <= 64<<10 {
		formBuffers.Put(buf)
	}
}

// maxQuickParams is the most parameters quickParse takes; a larger form
// goes to url.ParseQuery.
const maxQuickParams = 32

// quickForm is capForm for the form POST every OAuth client sends (POST,
// Content-Type exactly application/x-www-form-urlencoded, no query
// string), in a handful of allocations where net/http's ParseForm makes a
// dozen: the body is read into a pooled buffer and copied into one
// string, every value is a substring of it (unless escaped), the values
// share one array, and r.Form is r.PostForm's values in a map of its own
// (each slice at full capacity, so appending to one never shows in the
// other). r.PostForm and r.Form hold what ParseForm would give them.
// It returns done false, having read nothing, for any other request.
func quickForm(c *gin.Context) (status int, done bool) {
	r := c.Request
	if r.Method != http.MethodPost || r.Form != nil || r.PostForm != nil || r.MultipartForm != nil ||
		r.URL == nil || r.URL.RawQuery != "" || r.Body == nil || r.Body == http.NoBody ||
		!asciiEqualFold(r.Header.Get("Content-Type"), formType) {
		return 0, false
	}
	r.Body = http.MaxBytesReader(c.Writer, r.Body, maxBody)
	buf, err := readBody(r.Body)
	s := buf.String()
	releaseBody(buf)
	if err != nil {
		r.PostForm, r.Form = url.Values{}, url.Values{}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return http.StatusRequestEntityTooLarge, true
		}
		return http.StatusBadRequest, true
	}
	vs, ok := quickParse(s)
	if !ok {
		vs, err = url.ParseQuery(s)
	}
	r.PostForm = vs
	r.Form = make(url.Values, len(vs))
	for k, v := range vs {
		r.Form[k] = v[:len(v):len(v)]
	}
	if err != nil {
		return http.StatusBadRequest, true
	}
	r.MultipartForm = notMultipart
	return 0, true
}

// quickParse is url.ParseQuery of a form of at most maxQuickParams
// parameters and no semicolon, with every single value a full-capacity
// slice of one shared array. It returns false when s is anything else, or
// does not decode, for url.ParseQuery to give its answer and error.
func quickParse(s string) (url.Values, bool) {
	n := strings.Count(s, "&") + 1
	if n > maxQuickParams || strings.IndexByte(s, ';') >= 0 {
		return nil, false
	}
	vs := make(url.Values, n)
	vals := make([]string, 0, n) // never grows: at most one value per parameter
	for s != "" {
		var kv string
		kv, s, _ = strings.Cut(s, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			return nil, false
		}
		if v, err = url.QueryUnescape(v); err != nil {
			return nil, false
		}
		if old, ok := vs[k]; ok {
			vs[k] = append(old[:len(old):len(old)], v)
			continue
		}
		vals = append(vals, v)
		vs[k] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	return vs, true
}
