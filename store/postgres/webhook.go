package postgres

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

const webhookColumns = `id, url, event_types, description, secret, enabled, created_at, updated_at,
	previous_secret, previous_secret_until, failing_since`

// CreateWebhook implements store.WebhookStore.
func (d *DB) CreateWebhook(ctx context.Context, w *store.Webhook) error {
	now := d.now()
	w.CreatedAt, w.UpdatedAt = now, now
	_, err := d.q(ctx).Exec(ctx, `INSERT INTO webhooks (`+webhookColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)`,
		w.ID, w.URL, list(w.EventTypes), w.Description, w.Secret, w.Enabled, now, now,
		w.PreviousSecret, nullTime(w.PreviousSecretUntil))
	return mapErr(err)
}

// GetWebhook implements store.WebhookStore.
func (d *DB) GetWebhook(ctx context.Context, id string) (*store.Webhook, error) {
	return scanWebhook(d.q(ctx).QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id))
}

// ListWebhooks implements store.WebhookStore.
func (d *DB) ListWebhooks(ctx context.Context, p store.Page) ([]*store.Webhook, string, error) {
	p = p.Normalize()
	cond, sargs := searchClause(p.Search, "id", "url", "description")
	rows, err := d.q(ctx).Query(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE id > $1`+cond+` ORDER BY id LIMIT $2`, append([]any{p.Cursor, p.Limit}, sargs...)...)
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
	return affected(d.q(ctx).Exec(ctx, `UPDATE webhooks SET url = $1, event_types = $2, description = $3,
		secret = $4, previous_secret = $5, previous_secret_until = $6,
		failing_since = CASE WHEN NOT enabled AND $7 THEN NULL ELSE failing_since END,
		enabled = $7, updated_at = $8 WHERE id = $9`,
		w.URL, list(w.EventTypes), w.Description, w.Secret, w.PreviousSecret, nullTime(w.PreviousSecretUntil),
		w.Enabled, w.UpdatedAt, w.ID))
}

// DeleteWebhook implements store.WebhookStore.
func (d *DB) DeleteWebhook(ctx context.Context, id string) error {
	return affected(d.q(ctx).Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id))
}

func scanWebhook(s scanner) (*store.Webhook, error) {
	var (
		w                store.Webhook
		types            []byte
		created, updated time.Time
		prevUntil        *time.Time
		failing          *time.Time
	)
	if err := s.Scan(&w.ID, &w.URL, &types, &w.Description, &w.Secret, &w.Enabled, &created, &updated,
		&w.PreviousSecret, &prevUntil, &failing); err != nil {
		return nil, mapErr(err)
	}
	if err := parseList(types, &w.EventTypes); err != nil {
		return nil, err
	}
	w.CreatedAt, w.UpdatedAt = created.UTC(), updated.UTC()
	w.PreviousSecretUntil, w.FailingSince = fromNullTime(prevUntil), fromNullTime(failing)
	return &w, nil
}
