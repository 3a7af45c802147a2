package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/keys/clocktest"
)

// tlsServer starts a loopback https server and a Fetcher trusting it.
func tlsServer(t *testing.T, h http.Handler, cfg Config) (*httptest.Server, *Fetcher) {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	cfg.RootCAs = pool
	f, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return srv, f
}

// exempt lets the guard pass srv's port, standing in for a public origin.
func exempt(t *testing.T, f *Fetcher, srv *httptest.Server) {
	u, _ := url.Parse(srv.URL)
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	f.exemptPort = uint16(p)
}

func okJSON(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"ok":true}`)
}

func TestLoopbackRefusedByDefault(t *testing.T) {
	var hits atomic.Int32
	srv, f := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		okJSON(w, r)
	}), Config{})
	if _, err := f.Get(t.Context(), srv.URL); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("Get(%s) = %v, want ErrForbiddenAddress", srv.URL, err)
	}
	u, _ := url.Parse(srv.URL)
	for _, raw := range []string{
		"https://localhost:" + u.Port(),
		"https://[::ffff:127.0.0.1]:" + u.Port(),
		"https://169.254.169.254/latest/meta-data/",
	} {
		if _, err := f.Get(t.Context(), raw); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("Get(%s) = %v, want ErrForbiddenAddress", raw, err)
		}
	}
	// The dial-time guard, without the URL pre-check: the resolved
	// address is refused whatever name led to it.
	if _, err := f.Client().Get(srv.URL); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("Client().Get = %v, want ErrForbiddenAddress from the dialer", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("the loopback server was reached %d times", hits.Load())
	}
}

func TestAllowPrivate(t *testing.T) {
	srv, f := tlsServer(t, http.HandlerFunc(okJSON), Config{AllowPrivate: true})
	var v struct{ OK bool }
	if err := f.GetJSON(t.Context(), srv.URL, &v); err != nil || !v.OK {
		t.Fatalf("GetJSON = %v, %+v", err, v)
	}
	plain := httptest.NewServer(http.HandlerFunc(okJSON))
	defer plain.Close()
	if err := f.GetJSON(t.Context(), plain.URL+"/x", &v); err != nil {
		t.Fatalf("http with AllowPrivate: %v", err)
	}
}

func TestURLRefused(t *testing.T) {
	f, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"http://example.com/", "ftp://example.com/", "https://user:pw@example.com/", "https:///x", "/relative", "%zz"} {
		if _, err := f.Get(t.Context(), raw); !errors.Is(err, ErrForbiddenURL) {
			t.Errorf("Get(%q) = %v, want ErrForbiddenURL", raw, err)
		}
	}
}

func TestRedirects(t *testing.T) {
	var targetHits atomic.Int32
	target := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
		okJSON(w, r)
	}))
	defer target.Close()
	tu, _ := url.Parse(target.URL)
	mux := http.NewServeMux()
	mux.HandleFunc("/to-loopback", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/secret", http.StatusFound)
	})
	mux.HandleFunc("/to-localhost", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://localhost:"+tu.Port()+"/secret", http.StatusFound)
	})
	mux.HandleFunc("/to-metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/once", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/doc", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/doc", okJSON)
	srv, f := tlsServer(t, mux, Config{})
	exempt(t, f, srv)

	if _, err := f.Get(t.Context(), srv.URL+"/once"); err != nil {
		t.Fatalf("a redirect within the allowed origin: %v", err)
	}
	for path, want := range map[string]error{
		"/to-loopback":  ErrForbiddenAddress,
		"/to-localhost": ErrForbiddenAddress,
		"/to-metadata":  ErrForbiddenURL, // http, then a forbidden address
		"/loop":         ErrTooManyRedirects,
	} {
		if _, err := f.Get(t.Context(), srv.URL+path); !errors.Is(err, want) {
			t.Errorf("Get(%s) = %v, want %v", path, err, want)
		}
	}
	if targetHits.Load() != 0 {
		t.Fatalf("redirects reached the loopback target %d times", targetHits.Load())
	}
}

func TestSizeLimit(t *testing.T) {
	big := strings.Repeat("x", 1025)
	mux := http.NewServeMux()
	mux.HandleFunc("/declared", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, big) })
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, big[:512])
		w.(http.Flusher).Flush()
		fmt.Fprint(w, big[512:])
	})
	mux.HandleFunc("/exact", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, big[:1024]) })
	srv, f := tlsServer(t, mux, Config{AllowPrivate: true, MaxBytes: 1024})
	for _, p := range []string{"/declared", "/chunked"} {
		if _, err := f.Get(t.Context(), srv.URL+p); !errors.Is(err, ErrTooLarge) {
			t.Errorf("Get(%s) = %v, want ErrTooLarge", p, err)
		}
	}
	if r, err := f.Get(t.Context(), srv.URL+"/exact"); err != nil || len(r.Body) != 1024 {
		t.Fatalf("a body of exactly MaxBytes: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/slow-headers", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/slow-body", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"a":`)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	srv, f := tlsServer(t, mux, Config{AllowPrivate: true, Timeout: 200 * time.Millisecond})
	defer close(release)
	for _, p := range []string{"/slow-headers", "/slow-body"} {
		start := time.Now()
		r, err := f.Get(t.Context(), srv.URL+p)
		if !errors.Is(err, ErrTimeout) {
			t.Errorf("Get(%s) = %+v, %v, want ErrTimeout", p, r, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Get(%s) took %s", p, d)
		}
	}
	// The caller's own cancellation ends its wait too.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := f.Get(ctx, srv.URL+"/slow-headers?x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("canceled Get = %v", err)
	}
}

func TestStatusAndJSON(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/html", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "<html>") })
	srv, f := tlsServer(t, mux, Config{AllowPrivate: true})
	_, err := f.Get(t.Context(), srv.URL+"/missing")
	var se *StatusError
	if !errors.Is(err, ErrStatus) || !errors.As(err, &se) || se.Code != 404 {
		t.Fatalf("Get(/missing) = %v", err)
	}
	var v map[string]any
	if err := f.GetJSON(t.Context(), srv.URL+"/html", &v); !errors.Is(err, ErrBadJSON) {
		t.Fatalf("GetJSON(/html) = %v", err)
	}
}

func TestCache(t *testing.T) {
	hits := map[string]int{}
	var mu sync.Mutex
	count := func(r *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		hits[r.URL.Path]++
		return hits[r.URL.Path]
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/max-age", func(w http.ResponseWriter, r *http.Request) {
		count(r)
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		okJSON(w, r)
	})
	mux.HandleFunc("/no-store", func(w http.ResponseWriter, r *http.Request) {
		count(r)
		w.Header().Set("Cache-Control", "no-store")
		okJSON(w, r)
	})
	mux.HandleFunc("/no-cache", func(w http.ResponseWriter, r *http.Request) {
		count(r)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", `"n"`)
		if r.Header.Get("If-None-Match") == `"n"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		okJSON(w, r)
	})
	mux.HandleFunc("/expires", func(w http.ResponseWriter, r *http.Request) {
		count(r)
		now := time.Now()
		w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
		w.Header().Set("Expires", now.Add(2*time.Hour).UTC().Format(http.TimeFormat))
		okJSON(w, r)
	})
	mux.HandleFunc("/huge-max-age", func(w http.ResponseWriter, r *http.Request) {
		count(r)
		w.Header().Set("Cache-Control", "max-age=99999999")
		okJSON(w, r)
	})
	mux.HandleFunc("/zero", func(w http.ResponseWriter, r *http.Request) {
		count(r)
		w.Header().Set("Cache-Control", "max-age=0")
		okJSON(w, r)
	})
	clk := clocktest.At(time.Now())
	srv, f := tlsServer(t, mux, Config{AllowPrivate: true, Now: clk.Now, MinTTL: 10 * time.Second, MaxTTL: time.Hour})
	get := func(p string) *Response {
		t.Helper()
		r, err := f.Get(t.Context(), srv.URL+p)
		if err != nil || string(r.Body) != `{"ok":true}` {
			t.Fatalf("Get(%s) = %v", p, err)
		}
		return r
	}
	want := func(p string, n int) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if hits[p] != n {
			t.Fatalf("%s: origin hit %d times, want %d", p, hits[p], n)
		}
	}
	for _, p := range []string{"/max-age", "/no-store", "/no-cache", "/expires", "/huge-max-age", "/zero"} {
		if get(p).Cached {
			t.Fatalf("%s: first Get answered from the cache", p)
		}
	}
	for _, p := range []string{"/max-age", "/no-store", "/no-cache", "/expires", "/huge-max-age", "/zero"} {
		get(p)
	}
	want("/max-age", 1)
	want("/no-store", 2)
	want("/no-cache", 2) // revalidated every time
	want("/expires", 1)
	want("/huge-max-age", 1)
	want("/zero", 1) // raised to MinTTL

	clk.Add(11 * time.Second)
	get("/zero")
	want("/zero", 2)

	clk.Add(50 * time.Second) // max-age=60 is over: revalidated with If-None-Match
	if r := get("/max-age"); !r.Cached {
		t.Fatal("a 304 revalidation should answer from the cache")
	}
	want("/max-age", 2)
	get("/max-age")
	want("/max-age", 2)

	clk.Add(time.Hour + time.Second) // MaxTTL caps the 2h Expires and the huge max-age
	get("/expires")
	get("/huge-max-age")
	want("/expires", 2)
	want("/huge-max-age", 2)
}

func TestCacheBounded(t *testing.T) {
	srv, f := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		okJSON(w, r)
	}), Config{AllowPrivate: true, CacheEntries: 3})
	for i := range 10 {
		if _, err := f.Get(t.Context(), fmt.Sprintf("%s/%d", srv.URL, i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.Len(); n != 3 {
		t.Fatalf("cache holds %d entries, want 3", n)
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{
		{MinTTL: time.Hour, MaxTTL: time.Minute},
		{MaxBytes: -1},
		{Timeout: -time.Second},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestMaxConcurrent(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{}, 1)
	srv, f := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			started <- struct{}{}
			<-release
		}
		okJSON(w, r)
	}), Config{AllowPrivate: true, MaxConcurrent: 1, Timeout: 2 * time.Second})
	done := make(chan error, 1)
	go func() { _, err := f.Get(context.Background(), srv.URL+"/block"); done <- err }()
	<-started
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := f.Get(ctx, srv.URL+"/other"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second fetch while the only turn is taken: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(t.Context(), srv.URL+"/other"); err != nil {
		t.Fatalf("after the turn is free: %v", err)
	}
}

func TestStaleWhileUnreachable(t *testing.T) {
	var status atomic.Int32
	status.Store(200)
	clk := clocktest.At(time.Now())
	srv, f := tlsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := int(status.Load()); s != 200 {
			w.WriteHeader(s)
			return
		}
		okJSON(w, r)
	}), Config{AllowPrivate: true, Now: clk.Now, MinTTL: 10 * time.Second, MaxStale: time.Minute})
	get := func() error { _, err := f.Get(t.Context(), srv.URL+"/doc"); return err }
	if err := get(); err != nil {
		t.Fatal(err)
	}
	clk.Add(11 * time.Second)
	status.Store(503)
	if err := get(); err != nil {
		t.Fatalf("a 503 within MaxStale should serve the stale copy: %v", err)
	}
	clk.Add(time.Minute)
	if err := get(); !errors.Is(err, ErrStatus) {
		t.Fatalf("a 503 beyond MaxStale: %v, want ErrStatus", err)
	}
	status.Store(200)
	if err := get(); err != nil {
		t.Fatal(err)
	}
	clk.Add(11 * time.Second)
	status.Store(404)
	if err := get(); !errors.Is(err, ErrStatus) {
		t.Fatalf("a 404 is an answer, never papered over: %v", err)
	}
	srv.Close() // the origin is gone: a network error
	if err := get(); err != nil {
		t.Fatalf("an unreachable origin within MaxStale should serve the stale copy: %v", err)
	}
}
