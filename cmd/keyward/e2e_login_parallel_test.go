package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sync"
	"testing"
)

// TestLoginParallelGuesses: the login backoff cannot be outrun with
// parallel requests. Each attempt is counted before its password is
// hashed, so of 40 simultaneous wrong passwords for one user only the
// free failures (5) and perhaps one or two settled in between are
// checked; the rest are refused with 429 (or, on a machine so busy that a
// checked attempt waited too long for a turn at hashing, with 503 and
// Retry-After from the hash gate: refused without being checked too).
func TestLoginParallelGuesses(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	if code, _, stderr := e.run("correct horse battery\n", "users", "create", "--username", "bob", "--password-stdin"); code != 0 {
		t.Fatal(stderr)
	}
	s := e.serve()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	form := url.Values{"username": {"bob"}, "password": {"wrong password"}, "csrf_token": {loginCSRF(t, c, s.PublicURL)}}

	const n = 40
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts = map[int]int{}
		start  = make(chan struct{})
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := c.PostForm(s.PublicURL+"/login", form)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mu.Lock()
			counts[resp.StatusCode]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	checked, limited := counts[http.StatusUnauthorized], counts[http.StatusTooManyRequests]+counts[http.StatusServiceUnavailable]
	if checked+limited != n {
		t.Fatalf("answers %v, want only 401, 429 and 503", counts)
	}
	t.Logf("%d parallel wrong passwords: %v", n, counts)
	if checked > 8 || limited < n-8 {
		t.Errorf("%d parallel wrong passwords: %d checked (401), %d refused (429); want at most 8 checked", n, checked, limited)
	}
}
