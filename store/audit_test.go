package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// auditLog is an AuditStore in memory that can fail.
type auditLog struct {
	events []*store.AuditEvent
	fail   error
}

func (l *auditLog) AppendAudit(_ context.Context, e *store.AuditEvent) error {
	if l.fail != nil {
		return l.fail
	}
	l.events = append(l.events, e)
	return nil
}

func (l *auditLog) ListAudit(context.Context, store.Page) ([]*store.AuditEvent, string, error) {
	return l.events, "", nil
}

// TestAuditorLogsEachEvent: with a Logger, every stored event is one
// "audit" line with its type, actor, subject, id and data; an event the
// store refused is not logged.
func TestAuditorLogsEachEvent(t *testing.T) {
	var buf bytes.Buffer
	st := &auditLog{}
	a := &store.Auditor{Store: st, NewID: func() string { return "ev1" },
		Now: func() time.Time { return time.Unix(1e9, 0) }, Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	ctx := store.WithActor(context.Background(), "user:u1")
	if err := a.Record(ctx, "api_key.created", "k1", map[string]any{"name": "ci"}); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	want := map[string]any{"level": "INFO", "msg": "audit", "event": "api_key.created", "actor": "user:u1",
		"subject": "k1", "event_id": "ev1"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v (%s)", k, line[k], v, buf.Bytes())
		}
	}
	if d, _ := line["data"].(map[string]any); d["name"] != "ci" {
		t.Errorf("data = %v", line["data"])
	}

	buf.Reset()
	st.fail = store.ErrUnavailable
	if err := a.Record(ctx, "api_key.deleted", "k1", nil); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Record = %v", err)
	}
	if buf.Len() != 0 {
		t.Errorf("an event that was not stored was logged: %s", buf.Bytes())
	}
}
