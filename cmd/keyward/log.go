package main

import (
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// log returns the program's logger, built from --log-format on first use.
func (m *Main) log() *slog.Logger {
	if m.logger != nil {
		return m.logger
	}
	w := m.Stderr
	f, _ := w.(*os.File)
	json := m.Config.LogFormat == "json"
	if f != nil {
		json = m.Config.jsonLogs(f)
	} else if m.Config.LogFormat == "" {
		json = true
	}
	m.logger, m.logOut = newLogger(w, json)
	return m.logger
}

// requestLog returns the access log's writer: the program's logger and,
// for JSON logs, its output.
func (m *Main) requestLog() requestLogger {
	rl := requestLogger{log: m.log()}
	if m.logOut.json {
		rl.out = m.logOut
	}
	return rl
}

// newLogger returns a logger at level Info writing to w, JSON or text,
// and the output it writes through.
func newLogger(w io.Writer, json bool) (*slog.Logger, *logOutput) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	out := &logOutput{w: w, json: json}
	if !json {
		return slog.New(slog.NewTextHandler(out, opts)), out
	}
	return slog.New(slog.NewJSONHandler(out, opts)), out
}

// logBufferSize is the most a buffered logOutput holds before it writes.
const logBufferSize = 64 << 10

// logOutput is where log lines go. slog's handler writes each line
// through it, and so does the access log (requestLogger), which formats
// its own JSON lines; the mutex keeps lines from the two whole. Each line
// is one write to w, or, while buffered (--log-flush-interval), collected
// and written when the buffer is full, on every tick and when buffering
// stops.
type logOutput struct {
	json bool
	mu   sync.Mutex
	w    io.Writer
	buf  []byte // nil: not buffered
}

func (o *logOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.buf == nil {
		return o.w.Write(p)
	}
	if len(o.buf)+len(p) > cap(o.buf) {
		o.flushLocked()
		if len(p) > cap(o.buf) {
			return o.w.Write(p)
		}
	}
	o.buf = append(o.buf, p...)
	return len(p), nil
}

// flushLocked writes what the buffer holds; a failed write drops it, as
// a failed write of a line would.
func (o *logOutput) flushLocked() {
	if len(o.buf) > 0 {
		o.w.Write(o.buf)
		o.buf = o.buf[:0]
	}
}

// buffer collects lines until the function it returns is called, writing
// them at least every interval; that function writes what is left and
// goes back to one write per line.
func (o *logOutput) buffer(interval time.Duration) (stop func()) {
	o.mu.Lock()
	o.buf = make([]byte, 0, logBufferSize)
	o.mu.Unlock()
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				o.mu.Lock()
				o.flushLocked()
				o.mu.Unlock()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
			o.mu.Lock()
			o.flushLocked()
			o.buf = nil
			o.mu.Unlock()
		})
	}
}
