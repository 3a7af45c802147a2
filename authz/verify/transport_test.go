package verify_test

import (
	"errors"
	"net/http"
	"sync/atomic"
	"time"
)

// flakyTransport is http.DefaultTransport that can be made to fail, or to
// wait before each request to paths containing slowPath.
type flakyTransport struct {
	fail     atomic.Bool
	delay    time.Duration
	slowPath string
}

func (f *flakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.fail.Load() {
		return nil, errors.New("connection refused (test)")
	}
	if f.delay > 0 && f.slowPath != "" && r.URL.Path == f.slowPath {
		time.Sleep(f.delay)
	}
	return http.DefaultTransport.RoundTrip(r)
}
