package store

import (
	"context"
	"time"
)

// IdempotencyRecord remembers the response to one POST of the admin API
// sent with an Idempotency-Key header, so a retry gets the same answer
// without acting again.
type IdempotencyRecord struct {
	// Principal is who sent the request ("client:<id>", "user:<id>"): keys
	// of different callers never collide.
	Principal string
	Key       string
	// RequestHash identifies the request (method, path and body).
	RequestHash []byte
	// Status is the response's HTTP status, 0 while the first request is
	// still being answered.
	Status int
	// Body is the response body as the admin package sealed it (it may
	// hold a secret shown once); the store keeps it opaque.
	Body      []byte
	CreatedAt time.Time
}

// IdempotencyStore persists idempotency records.
type IdempotencyStore interface {
	// CreateIdempotencyRecord stores r; ErrConflict if (Principal, Key)
	// exists, which is how concurrent retries find each other.
	CreateIdempotencyRecord(ctx context.Context, r *IdempotencyRecord) error
	// GetIdempotencyRecord returns the record or ErrNotFound.
	GetIdempotencyRecord(ctx context.Context, principal, key string) (*IdempotencyRecord, error)
	// CompleteIdempotencyRecord sets the response of a record; ErrNotFound.
	CompleteIdempotencyRecord(ctx context.Context, principal, key string, status int, body []byte) error
	// DeleteIdempotencyRecord removes the record; ErrNotFound.
	DeleteIdempotencyRecord(ctx context.Context, principal, key string) error
	// PruneIdempotencyRecords removes every record created before t and
	// returns how many it removed.
	PruneIdempotencyRecords(ctx context.Context, before time.Time) (int64, error)
}
