package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/keys/jsonenc"
)

// requestLogger writes the access log's lines. With JSON logs it formats
// each line itself and writes it to the logger's output in one call: the
// same bytes slog's JSON handler would write for the same record
// (TestRequestLineMatchesSlog), without slog's record, its caller lookup
// (runtime.Callers), its attribute values or encoding/json for the
// duration. With text logs the line goes through slog.
type requestLogger struct {
	log *slog.Logger
	out *logOutput // nil: through log
}

// requestLine is the members of one access-log line, in their order.
type requestLine struct {
	time                       time.Time
	level                      slog.Level
	id, listener, method, path string
	status, bytes              int
	durationMS                 float64
	remote                     string
	clientID, oauthError       string // omitted when ""
	err                        string
	hasErr                     bool
}

// lineBufs holds the buffers lines are formatted in.
var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// write logs l, when the logger is enabled at its level.
func (rl requestLogger) write(ctx context.Context, l *requestLine) {
	if !rl.log.Enabled(ctx, l.level) {
		return
	}
	if rl.out == nil {
		var buf [11]slog.Attr // on the stack: slog copies the attributes into its record
		rl.log.LogAttrs(ctx, l.level, "request", l.attrs(buf[:0])...)
		return
	}
	bp := lineBufs.Get().(*[]byte)
	b := l.appendJSON((*bp)[:0])
	rl.out.Write(b)
	if cap(b) <= 16<<10 { // a line with a very long path is not kept
		*bp = b
		lineBufs.Put(bp)
	}
}

// attrs appends the line's attributes (all but time, level and message)
// to a.
func (l *requestLine) attrs(a []slog.Attr) []slog.Attr {
	a = append(a,
		slog.String("request_id", l.id), slog.String("listener", l.listener),
		slog.String("method", l.method), slog.String("path", l.path),
		slog.Int("status", l.status), slog.Int("bytes", l.bytes),
		slog.Float64("duration_ms", l.durationMS), slog.String("remote", l.remote),
	)
	if l.clientID != "" {
		a = append(a, slog.String("client_id", l.clientID))
	}
	if l.oauthError != "" {
		a = append(a, slog.String("oauth_error", l.oauthError))
	}
	if l.hasErr {
		a = append(a, slog.String("error", l.err))
	}
	return a
}

// appendJSON appends the line as slog's JSON handler writes a record of
// message "request" with l.attrs: time in RFC 3339 with nanoseconds,
// level, msg, then the attributes, and a newline.
func (l *requestLine) appendJSON(b []byte) []byte {
	b = append(b, `{"time":"`...)
	b = appendRFC3339Nano(b, l.time)
	b = append(b, `","level":`...)
	b = jsonenc.SlogString(b, l.level.String())
	b = append(b, `,"msg":"request","request_id":`...)
	b = jsonenc.SlogString(b, l.id)
	b = append(b, `,"listener":`...)
	b = jsonenc.SlogString(b, l.listener)
	b = append(b, `,"method":`...)
	b = jsonenc.SlogString(b, l.method)
	b = append(b, `,"path":`...)
	b = jsonenc.SlogString(b, l.path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(l.status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(l.bytes), 10)
	b = append(b, `,"duration_ms":`...)
	b = appendJSONFloat(b, l.durationMS)
	b = append(b, `,"remote":`...)
	b = jsonenc.SlogString(b, l.remote)
	if l.clientID != "" {
		b = append(b, `,"client_id":`...)
		b = jsonenc.SlogString(b, l.clientID)
	}
	if l.oauthError != "" {
		b = append(b, `,"oauth_error":`...)
		b = jsonenc.SlogString(b, l.oauthError)
	}
	if l.hasErr {
		b = append(b, `,"error":`...)
		b = jsonenc.SlogString(b, l.err)
	}
	return append(b, "}\n"...)
}

// appendJSONFloat appends f as encoding/json writes it (which slog's JSON
// handler uses for floats): the shortest decimal, in exponent form only
// below 1e-6 or from 1e21 on, which encoding/json itself handles here.
func appendJSONFloat(b []byte, f float64) []byte {
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) || math.IsNaN(f) || math.IsInf(f, 0) {
		v, err := json.Marshal(f)
		if err != nil {
			return append(b, `"!ERROR:`+err.Error()+`"`...) // not reached for a duration
		}
		return append(b, v...)
	}
	if f >= 0 && f < 1e9 && !math.Signbit(f) { // not -0, which encoding/json writes as -0
		// A duration in whole microseconds (float64(n)/1000, as the access
		// log makes it) is that decimal exactly: print it with integers.
		if n := int64(f*1000 + 0.5); float64(n)/1000 == f {
			return appendMillis(b, n)
		}
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendMillis appends n thousandths as their shortest decimal: the
// whole part, and a point with the fraction's digits only when it has
// any (1500 is 1.5, 2000 is 2, 5 is 0.005). For n/1000 below 1e9 this is
// what strconv.AppendFloat(float64(n)/1000, 'f', -1) writes: no shorter
// decimal is as close to that float64 (TestAppendJSONFloatMillis).
func appendMillis(b []byte, n int64) []byte {
	b = strconv.AppendInt(b, n/1000, 10)
	frac := n % 1000
	if frac == 0 {
		return b
	}
	b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	return b
}

// stamp is one second of one location in RFC 3339: the date and time to
// the second, and the zone as time.RFC3339 writes it ("Z" or ±hh:mm). A
// zone's offset can change only on a whole second, so the text is the
// same for every instant of that second there.
type stamp struct {
	sec  int64
	loc  *time.Location
	date [19]byte // 2006-01-02T15:04:05
	zone string
}

// lastStamp is the second the access log wrote last: its lines come a
// second at a time, so most format only the fraction.
var lastStamp atomic.Pointer[stamp]

// appendRFC3339Nano appends t.AppendFormat(time.RFC3339Nano), as slog's
// JSON handler writes a record's time (TestAppendRFC3339Nano), with the
// date, time and zone of the second read from lastStamp.
func appendRFC3339Nano(b []byte, t time.Time) []byte {
	st := lastStamp.Load()
	if st == nil || st.sec != t.Unix() || st.loc != t.Location() {
		if y := t.Year(); y < 0 || y > 9999 {
			return t.AppendFormat(b, time.RFC3339Nano)
		}
		text := t.AppendFormat(make([]byte, 0, 32), time.RFC3339) // to the second
		st = &stamp{sec: t.Unix(), loc: t.Location(), zone: string(text[19:])}
		copy(st.date[:], text)
		lastStamp.Store(st)
	}
	b = append(b, st.date[:]...)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i > 0; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := len(frac)
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, st.zone...)
}

// clientAddr is gin's ClientIP, without its two allocations in the usual
// case: with no trusted proxies (so no X-Forwarded-For is believed), the
// client is the connection's peer, and when RemoteAddr's host is already
// an IP address in its canonical form (as net/http writes it), that
// substring is the answer. Anything else asks gin.
func clientAddr(c *gin.Context, proxies bool) string {
	if !proxies {
		if host, _, err := net.SplitHostPort(c.Request.RemoteAddr); err == nil {
			if ip, err := netip.ParseAddr(host); err == nil && ip.Zone() == "" && !ip.Is4In6() {
				var buf [64]byte
				if string(ip.AppendTo(buf[:0])) == host {
					return host
				}
			}
		}
	}
	return c.ClientIP()
}
