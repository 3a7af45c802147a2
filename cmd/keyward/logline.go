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
	b = l.time.AppendFormat(b, time.RFC3339Nano)
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
	return strconv.AppendFloat(b, f, 'f', -1, 64)
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
