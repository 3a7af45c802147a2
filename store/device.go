package store

import (
	"context"
	"time"
)

// DeviceStatus is where a device authorization grant stands (RFC 8628).
type DeviceStatus string

// The states of a device grant: pending until the user decides, then
// approved or denied; an approved grant becomes redeemed when its device
// code is exchanged for tokens, which happens once.
const (
	DevicePending  DeviceStatus = "pending"
	DeviceApproved DeviceStatus = "approved"
	DeviceDenied   DeviceStatus = "denied"
	DeviceRedeemed DeviceStatus = "redeemed"
)

// DeviceGrant is one device authorization request (RFC 8628 §3.1–3.5). It
// is keyed by keyed digests of its device code and of its normalised user
// code, never by the codes themselves.
type DeviceGrant struct {
	// DeviceCodeDigest identifies the grant (the device polls with the code).
	DeviceCodeDigest string
	// UserCodeDigest is unique among all stored grants (the person types
	// the code on the verification page).
	UserCodeDigest string
	ClientID       string
	Scopes         []string
	Audience       []string
	// Resources are the RFC 8707 resources the request named: the
	// grant's, which its token requests may narrow.
	Resources []string
	Status    DeviceStatus
	// UserID is the user who approved or denied ("" while pending).
	UserID string
	// AuthTime is when that user signed in (the ID token's auth_time).
	AuthTime time.Time
	// Interval is the least time between two polls (RFC 8628 §3.2);
	// every slow_down answer adds 5 seconds to it (§3.5).
	Interval time.Duration
	// LastPolledAt is the time of the latest poll (zero before the first).
	LastPolledAt time.Time
	CreatedAt    time.Time
	ExpiresAt    time.Time
	// DecidedAt is when the user approved or denied; RedeemedAt when the
	// tokens were issued.
	DecidedAt  time.Time
	RedeemedAt time.Time
}

// DeviceDecision is a person's answer on the verification page.
type DeviceDecision struct {
	Approved bool
	UserID   string
	AuthTime time.Time
	At       time.Time
}

// DeviceStore persists device authorization grants. Each method is one
// statement (or a read after a write that touched nothing, to tell
// ErrNotFound from ErrConflict), so concurrent polls and decisions on
// several instances never need a lock held across calls.
type DeviceStore interface {
	// CreateDeviceGrant stores g as pending; ErrConflict when either
	// digest is taken, ErrNotFound when its client does not exist.
	CreateDeviceGrant(ctx context.Context, g *DeviceGrant) error
	// GetDeviceGrant returns the grant of a device-code digest, or
	// ErrNotFound.
	GetDeviceGrant(ctx context.Context, deviceCodeDigest string) (*DeviceGrant, error)
	// GetDeviceGrantByUserCode returns the grant of a user-code digest,
	// or ErrNotFound.
	GetDeviceGrantByUserCode(ctx context.Context, userCodeDigest string) (*DeviceGrant, error)
	// PollDeviceGrant records a poll at time at and returns the grant as
	// it then is. When the grant is pending and the previous poll came
	// less than Interval-slack before at, the poll is too fast: Interval
	// grows by 5 seconds and slowDown is true (RFC 8628 §3.5). Concurrent
	// polls are each judged against the one before. ErrNotFound.
	PollDeviceGrant(ctx context.Context, deviceCodeDigest string, at time.Time, slack time.Duration) (g *DeviceGrant, slowDown bool, err error)
	// DecideDeviceGrant approves or denies the pending grant of a
	// user-code digest. ErrConflict when it is no longer pending or has
	// expired by d.At (only the first decision counts), ErrNotFound when
	// there is none.
	DecideDeviceGrant(ctx context.Context, userCodeDigest string, d DeviceDecision) error
	// RedeemDeviceGrant marks an approved grant redeemed at time at:
	// exactly one of any number of concurrent calls succeeds. ErrConflict
	// when the grant is not approved (still pending, denied, or redeemed
	// already), ErrNotFound when there is none.
	RedeemDeviceGrant(ctx context.Context, deviceCodeDigest string, at time.Time) error
	// DeleteExpiredDeviceGrants removes grants that expired before t.
	DeleteExpiredDeviceGrants(ctx context.Context, before time.Time) (int64, error)
}
