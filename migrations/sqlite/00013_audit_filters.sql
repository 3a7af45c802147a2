-- +goose Up
-- The audit log is read in (created_at, id) order, newest or oldest first,
-- filtered by event type (exact, or a "prefix.*" range), actor, subject
-- and a created_at range. Each exact filter has an index that ends in
-- (created_at, id), so a filtered page is read in order without sorting.
CREATE INDEX audit_events_created_at ON audit_events (created_at, id);
CREATE INDEX audit_events_type ON audit_events (type, created_at, id);
CREATE INDEX audit_events_actor ON audit_events (actor, created_at, id);
CREATE INDEX audit_events_subject ON audit_events (subject, created_at, id);

-- +goose Down
-- Keyward's migrations are forward-only.
