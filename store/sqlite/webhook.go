package sqlite

import (
	"context"
	"database/sql"

	"github.com/keyward/keyward/store"
)

const webhookColumns = `id, url, event_types, description, secret, enabled, created_at, updated_at,
	previous_secret, previous_secret_until, failing_since`

// CreateWebhook implements store.WebhookStore.
func (d *DB) CreateWebhook(ctx context.Context, w *store.Webhook) error {
	now := d.now()
	w.CreatedAt, w.UpdatedAt = now, now
	_, err := d.q(ctx).ExecContext(ctx, `INSERT INTO webhooks (`+webhookColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
		w.ID, w.URL, list(w.EventTypes), w.Description, w.Secret, w.Enabled, micros(now), micros(now),
		w.PreviousSecret, micros(w.PreviousSecretUntil))
	return mapErr(err)
}

// GetWebhook implements store.WebhookStore.
func (d *DB) GetWebhook(ctx context.Context, id string) (*store.Webhook, error) {
	return scanWebhook(d.q(ctx).QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
}

// ListWebhooks implements store.WebhookStore.
func (d *DB) ListWebhooks(ctx context.Context, p store.Page) ([]*store.Webhook, string, error) {
	p = p.Normalize()
	cond, sargs := searchClause(p.Search, "id", "url", "description")
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE id > ?`+cond+` ORDER BY id LIMIT ?`, pageArgs(p.Cursor, sargs, p.Limit)...)
	if err != nil {
		return nil, "", mapErr(err)
	}
	items, err := collect(rows, scanWebhook)
	if err != nil {
		return nil, "", err
	}
	items, next := store.PageOf(p, items, func(v *store.Webhook) string { return v.ID })
	return items, next, nil
}

// UpdateWebhook implements store.WebhookStore.
func (d *DB) UpdateWebhook(ctx context.Context, w *store.Webhook) error {
	w.UpdatedAt = d.now()
	return affected(d.q(ctx).ExecContext(ctx, `UPDATE webhooks SET url = ?, event_types = ?, description = ?,
		secret = ?, previous_secret = ?, previous_secret_until = ?,
		failing_since = CASE WHEN enabled = 0 AND ? THEN NULL ELSE failing_since END,
		enabled = ?, updated_at = ? WHERE id = ?`,
		w.URL, list(w.EventTypes), w.Description, w.Secret, w.PreviousSecret, micros(w.PreviousSecretUntil),
		w.Enabled, w.Enabled, micros(w.UpdatedAt), w.ID))
}

// DeleteWebhook implements store.WebhookStore.
func (d *DB) DeleteWebhook(ctx context.Context, id string) error {
	return affected(d.q(ctx).ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id))
}

func scanWebhook(s scanner) (*store.Webhook, error) {
	var (
		w                store.Webhook
		types            string
		created, updated int64
		prevUntil        int64
		failing          sql.NullInt64
	)
	if err := s.Scan(&w.ID, &w.URL, &types, &w.Description, &w.Secret, &w.Enabled, &created, &updated,
		&w.PreviousSecret, &prevUntil, &failing); err != nil {
		return nil, mapErr(err)
	}
	if err := parseList(types, &w.EventTypes); err != nil {
		return nil, err
	}
	w.CreatedAt, w.UpdatedAt = fromMicros(created), fromMicros(updated)
	w.PreviousSecretUntil, w.FailingSince = fromMicros(prevUntil), fromNullMicros(failing)
	return &w, nil
}
