package main

import (
	"log/slog"
	"os"
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
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if json {
		m.logger = slog.New(slog.NewJSONHandler(w, opts))
	} else {
		m.logger = slog.New(slog.NewTextHandler(w, opts))
	}
	return m.logger
}
