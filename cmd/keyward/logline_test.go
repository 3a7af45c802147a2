package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// TestRequestLineMatchesSlog: the access log's own JSON lines are byte
// for byte what slog's JSON handler writes for the same record, whatever
// the strings hold (quotes, control characters, invalid UTF-8, U+2028,
// HTML characters) and for each optional member.
func TestRequestLineMatchesSlog(t *testing.T) {
	at := time.Date(2026, 12, 5, 17, 29, 0, 117594366, time.UTC)
	lines := []requestLine{
		{time: at, level: slog.LevelInfo, id: "a8839bbbfb5e2d64", listener: "public", method: "GET",
			path: "/.well-known/jwks.json", status: 200, bytes: 1640, durationMS: 0.123, remote: "127.0.0.1"},
		{time: at.Add(-117594366), level: slog.LevelError, id: "x", listener: "admin", method: "POST",
			path: "/admin/v1/clients", status: 500, bytes: 0, durationMS: 0, remote: "::1", err: "boom\n\"quoted\"", hasErr: true},
		{time: at.In(time.FixedZone("", 3600+1800)), level: slog.LevelInfo, listener: "public", method: "POST",
			path: "/oauth2/token", status: 401, bytes: 77, durationMS: 12345.678, remote: "2001:db8::1",
			clientID: "app<&>'\\", oauthError: "invalid_client", hasErr: true},
		{time: at, level: slog.LevelInfo, path: "/a\x00b\x1fc\x7fd\te\rf\u2028g\u2029h\xffi\xc3j€k", method: "BREW",
			clientID: strings.Repeat("é", 70), durationMS: 1e-3, status: -1, bytes: -5},
		{time: at, level: slog.LevelInfo, durationMS: 2.5e-7},
		{time: at, level: slog.LevelInfo, durationMS: 3e21},
		{time: at, level: slog.LevelInfo, durationMS: 1 << 53},
	}
	for i, l := range lines {
		var want bytes.Buffer
		h := slog.NewJSONHandler(&want, nil)
		r := slog.NewRecord(l.time, l.level, "request", 0)
		r.AddAttrs(l.attrs(nil)...)
		if err := h.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		if got := l.appendJSON(nil); string(got) != want.String() {
			t.Errorf("line %d:\n got %s\nwant %s", i, got, want.Bytes())
		}
	}
}

// TestClientAddr: the access log's client address is gin's ClientIP,
// for every form of RemoteAddr, and with trusted proxies gin decides.
func TestClientAddr(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	for _, proxies := range []bool{false, true} {
		e := gin.New()
		var trusted []string
		if proxies {
			trusted = []string{"10.0.0.0/8"}
		}
		if err := e.SetTrustedProxies(trusted); err != nil {
			t.Fatal(err)
		}
		var got, want string
		e.GET("/", func(c *gin.Context) { got, want = clientAddr(c, proxies), c.ClientIP() })
		for _, addr := range []string{"127.0.0.1:50000", "[::1]:443", "[2001:db8::1]:1", "[2001:0db8:0::1]:1",
			"[::ffff:192.0.2.1]:80", "[fe80::1%eth0]:80", "10.1.2.3:9", "192.0.2.1", "", "@", " 127.0.0.1:1",
			"example.com:80", "[2001:DB8::A]:1", "1.2.3.4:", "01.2.3.4:1"} {
			for _, xff := range []string{"", "203.0.113.9"} {
				req := httptest.NewRequest(http.MethodGet, "/", nil)
				req.RemoteAddr = addr
				if xff != "" {
					req.Header.Set("X-Forwarded-For", xff)
				}
				got, want = "unset", "unset"
				e.ServeHTTP(httptest.NewRecorder(), req)
				if got != want || got == "unset" {
					t.Errorf("proxies %v, RemoteAddr %q, X-Forwarded-For %q: %q, gin says %q", proxies, addr, xff, got, want)
				}
			}
		}
	}
}

// countingWriter records each write it is given.
type countingWriter struct {
	mu     sync.Mutex
	writes []string
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func (w *countingWriter) all() (string, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.writes, ""), len(w.writes)
}

// TestLogOutputBuffered: unbuffered, each line is one write; buffered,
// lines wait until the buffer would overflow or buffering stops, a line
// larger than the buffer is written on its own, and stopping writes
// everything and goes back to one write per line.
func TestLogOutputBuffered(t *testing.T) {
	w := &countingWriter{}
	out := &logOutput{w: w, json: true}
	out.Write([]byte("a\n"))
	if _, n := w.all(); n != 1 {
		t.Fatalf("unbuffered: %d writes, want 1", n)
	}
	stop := out.buffer(time.Hour) // the ticker never fires here
	line := []byte(strings.Repeat("x", 1000) + "\n")
	var want strings.Builder
	want.WriteString("a\n")
	for range logBufferSize / len(line) {
		out.Write(line)
		want.Write(line)
	}
	if _, n := w.all(); n != 1 {
		t.Fatalf("buffered: %d writes before the buffer is full, want 1", n)
	}
	out.Write(line) // overflows: the buffer is written first
	want.Write(line)
	if _, n := w.all(); n != 2 {
		t.Fatalf("buffered: %d writes after overflowing, want 2", n)
	}
	big := []byte(strings.Repeat("y", logBufferSize+1))
	out.Write(big)
	want.Write(big)
	if _, n := w.all(); n != 4 { // the pending line, then the big one
		t.Fatalf("a line larger than the buffer: %d writes, want 4", n)
	}
	out.Write([]byte("last\n"))
	want.WriteString("last\n")
	stop()
	stop()
	got, n := w.all()
	if got != want.String() || n != 5 {
		t.Fatalf("after stop: %d writes, %d bytes, want 5 writes, %d bytes", n, len(got), want.Len())
	}
	out.Write([]byte("after\n"))
	if _, n := w.all(); n != 6 {
		t.Fatalf("after stop: %d writes, want one per line again", n)
	}
}

// TestLogFlushIntervalShutdown: with --log-flush-interval, a clean
// shutdown writes every request line the buffer held (the buffering itself
// is TestLogOutputBuffered's).
func TestLogFlushIntervalShutdown(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	s := e.serve("--log-flush-interval", "10s")
	const n = 20
	for range n {
		if code, _ := get(t, s.PublicURL+"/.well-known/jwks.json"); code != http.StatusOK {
			t.Fatalf("jwks: %d", code)
		}
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	logs := s.logs.String()
	if c := strings.Count(logs, `"path":"/.well-known/jwks.json"`); c != n || !strings.Contains(logs, `"msg":"stopped"`) {
		t.Fatalf("after a clean shutdown: %d of %d request lines, stopped line %v:\n%s", c, n,
			strings.Contains(logs, `"msg":"stopped"`), logs)
	}
}

// TestAppendRFC3339Nano: the access log's time is what
// time.RFC3339Nano gives (slog's JSON handler), whatever the second,
// the zone and the fraction, and however lines of different zones and
// seconds interleave (the cached second is swapped, never mixed up).
func TestAppendRFC3339Nano(t *testing.T) {
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("", 5*3600+1800), time.FixedZone("X", -8*3600),
		time.FixedZone("", 1050) /* 00:17:30 */, time.FixedZone("", -(9*3600 + 30*60 + 15))}
	if ny, err := time.LoadLocation("America/New_York"); err == nil {
		zones = append(zones, ny)
	}
	check := func(at time.Time) {
		t.Helper()
		if got, want := appendRFC3339Nano(nil, at), at.AppendFormat(nil, time.RFC3339Nano); string(got) != string(want) {
			t.Errorf("%v: %s, want %s", at, got, want)
		}
	}
	base := time.Date(2026, 3, 8, 6, 59, 58, 0, time.UTC) // two seconds before New York's clocks go forward
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		at := base.Add(time.Duration(rng.Int64N(int64(5 * time.Second))))
		switch i % 5 {
		case 0:
			at = at.Truncate(time.Second) // no fraction
		case 1:
			at = at.Truncate(time.Millisecond) // trailing zeros
		}
		check(at.In(zones[rng.IntN(len(zones))]))
	}
	for _, at := range []time.Time{{}, time.Date(0, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 5, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 5, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 5e8, time.UTC),
		time.Now(), time.Now().Round(0)} {
		for _, z := range zones {
			check(at.In(z))
		}
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				check(base.Add(time.Duration(i)*time.Millisecond + time.Duration(g)).In(zones[(i+g)%len(zones)]))
			}
		}()
	}
	wg.Wait()
}

// TestAppendJSONFloatMillis: a duration in whole microseconds, as the
// access log makes it (float64(µs)/1000), is written as encoding/json
// writes the float64 (slog's JSON handler), by integers; other floats
// still go through strconv, and agree too.
func TestAppendJSONFloatMillis(t *testing.T) {
	check := func(f float64) {
		t.Helper()
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONFloat(nil, f); string(got) != string(want) {
			t.Errorf("%v: %s, want %s", f, got, want)
		}
	}
	for n := range int64(1_000_000) {
		check(float64(n) / 1000)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200_000 {
		check(float64(rng.Int64N(1e12)) / 1000)
		check(rng.Float64() * 1e6)
	}
	for _, f := range []float64{1e9 - 0.001, 1e9, 1e9 + 0.5, 999999999.999, 0.0005, 0.0015, 1.0 / 3, 2.5e-7, 3e21, -1, -0.001, math.Copysign(0, -1)} {
		check(f)
	}
	if got := string(appendMillis(nil, 1500)) + " " + string(appendMillis(nil, 2000)) + " " + string(appendMillis(nil, 5)) + " " + string(appendMillis(nil, 0)); got != "1.5 2 0.005 0" {
		t.Errorf("appendMillis: %s", got)
	}
}

// BenchmarkRequestLine is the formatting of one access-log line as the
// public listener writes it for an API-key verification, a line a few
// microseconds after the one before.
func BenchmarkRequestLine(b *testing.B) {
	l := requestLine{time: time.Now(), level: slog.LevelInfo, id: "a8839bbbfb5e2d64", listener: "public", method: "POST",
		path: "/v1/apikeys/verify", status: 200, bytes: 108, remote: "127.0.0.1",
		clientID: "0193a3f1-2b4c-7d5e-8f60-718293a4b5c6"}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		l.time = l.time.Add(1733 * time.Nanosecond)
		l.durationMS = float64(100+i%900) / 1000
		buf = l.appendJSON(buf[:0])
	}
}
