-- +goose Up
-- The audit log is read newest or oldest first (by id), filtered by event
-- type (exact or a "prefix.*" range), actor, subject and a created_at
-- range: one index per condition, each ending in id so a filtered page is
-- read in id order without sorting.
CREATE INDEX audit_events_type ON audit_events (type, id);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
CREATE INDEX audit_events_subject ON audit_events (subject, id);
CREATE INDEX audit_events_created_at ON audit_events (created_at, id);

-- +goose Down
-- Keyward's migrations are forward-only.
