package store

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"
)

// AuditEvent records one change made to Keyward's state.
type AuditEvent struct {
	ID string
	// Type names what happened, e.g. "client.created", "signing_key.rotated".
	Type string
	// Actor is who did it: "cli", "user:<id>", "client:<id>", "system".
	Actor string
	// Subject is the id of the thing acted upon.
	Subject string
	// Data holds event-specific details; never a secret.
	Data      json.RawMessage
	CreatedAt time.Time
}

// AuditStore appends to and reads the audit log. Events are never updated.
type AuditStore interface {
	// AppendAudit stores e (its ID must be new) and, in the same
	// transaction, a pending delivery of it to every enabled webhook that
	// Selects it.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns one page ordered by ID and the next cursor.
	ListAudit(ctx context.Context, p Page) ([]*AuditEvent, string, error)
}

type actorKey struct{}

// WithActor returns a context that attributes audit events to actor
// ("cli", "user:<id>", "client:<id>", "system").
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor of ctx, or "system".
func ActorFrom(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}

// Auditor appends audit events with generated ids and the context's actor.
// It satisfies the Auditor interfaces that keys and keys/signing declare.
type Auditor struct {
	Store AuditStore
	// NewID returns a new, time-ordered event id.
	NewID func() string
	Now   func() time.Time
	// OnEvent, when set, is called with each event once it is committed
	// (admin/webhooks wakes its deliveries). It must not block.
	OnEvent func(*AuditEvent)
	// Logger, when set, receives one "audit" line per event committed:
	// its type, actor, subject, id and data (which holds no secret).
	Logger *slog.Logger
}

// Record appends one event of eventType about subject; data must hold no secret.
func (a *Auditor) Record(ctx context.Context, eventType, subject string, data map[string]any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if data == nil {
		b = []byte("{}")
	}
	e := &AuditEvent{
		ID: a.NewID(), Type: eventType, Actor: ActorFrom(ctx), Subject: subject,
		Data: b, CreatedAt: Truncate(a.Now()),
	}
	if err := a.Store.AppendAudit(ctx, e); err != nil {
		return err
	}
	if a.OnEvent != nil || a.Logger != nil {
		// Once committed: an event rolled back with its change is neither
		// logged nor delivered.
		AfterCommit(ctx, a.Store, func() {
			if a.Logger != nil {
				a.Logger.LogAttrs(context.WithoutCancel(ctx), slog.LevelInfo, "audit", slog.String("event", e.Type), slog.String("actor", e.Actor),
					slog.String("subject", e.Subject), slog.String("event_id", e.ID), slog.Any("data", e.Data))
			}
			if a.OnEvent != nil {
				a.OnEvent(e)
			}
		})
	}
	return nil
}

// Atomic runs fn in one transaction of the audit store (see Transactor):
// a change made in fn and the events fn records are committed together,
// or neither is.
func (a *Auditor) Atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	return Atomic(ctx, a.Store, fn)
}
