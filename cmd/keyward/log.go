package main

import (
	"io"
	"log/slog"
	"os"
	"sync"
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
	return requestLogger{log: m.log(), out: m.logOut}
}

// newLogger returns a logger at level Info writing to w, JSON or text;
// for JSON also the output it writes through, which the access log
// appends its lines to (nil for text).
func newLogger(w io.Writer, json bool) (*slog.Logger, *logOutput) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if !json {
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	out := &logOutput{w: w}
	return slog.New(slog.NewJSONHandler(out, opts)), out
}

// logOutput is where JSON log lines go. slog's handler writes each line
// through it, and so does the access log (requestLogger), which formats
// its own lines; the mutex keeps lines from the two whole.
type logOutput struct {
	mu sync.Mutex
	w  io.Writer
}

func (o *logOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.w.Write(p)
}
