package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// TokenKind says which OAuth2 artifact a TokenRecord stores.
type TokenKind string

// The kinds of stored OAuth2 artifacts.
const (
	KindAuthorizeCode TokenKind = "code"
	KindAccessToken   TokenKind = "access"
	KindRefreshToken  TokenKind = "refresh"
	KindPKCE          TokenKind = "pkce"
	KindOIDC          TokenKind = "oidc"
	// KindRefreshGrace keeps, sealed, the answer to a refresh for the
	// grace window, keyed by a digest of the client and the used token.
	KindRefreshGrace TokenKind = "refresh_grace"
	// KindPAR is a pushed authorization request (RFC 9126), keyed by a
	// digest of its request_uri; it is deactivated when a browser first
	// brings the request_uri to the authorization endpoint.
	KindPAR TokenKind = "par"
	// KindPARClaim is a pushed request taken up by one browser, kept
	// while the person signs in and consents and deleted when the
	// authorization response is sent (so the request_uri is used once).
	KindPARClaim TokenKind = "par_claim"
)

// TokenRecord is one stored authorization request, keyed by the signature
// of the code or token it was issued for (never the token itself). All the
// records of one grant share a RequestID, so revoking a grant reaches all
// of its codes and tokens (RFC 6749 §10.5, §10.4; RFC 7009 §2.1).
type TokenRecord struct {
	Kind      TokenKind
	Signature string
	RequestID string
	ClientID  string
	Subject   string
	// Active is false once a code is used or a refresh token rotated.
	Active bool
	// AccessSignature links a refresh token to the access token issued with it.
	AccessSignature string
	// Data is the serialized request (scopes, form, session), engine-opaque.
	Data        []byte
	RequestedAt time.Time
	ExpiresAt   time.Time
	// InactiveAt is when Active became false (zero while active).
	InactiveAt time.Time
}

// TokenStore persists OAuth2 grants. Writes are single statements, or one
// short transaction inside ApplyTokenChanges, so no transaction is held
// open across calls.
type TokenStore interface {
	// CreateToken stores r; ErrConflict if (Kind, Signature) exists.
	CreateToken(ctx context.Context, r *TokenRecord) error
	// GetToken returns the record (active or not) or ErrNotFound.
	GetToken(ctx context.Context, kind TokenKind, signature string) (*TokenRecord, error)
	// DeleteToken removes one record; ErrNotFound.
	DeleteToken(ctx context.Context, kind TokenKind, signature string) error
	// DeactivateToken marks one record inactive at time at; ErrNotFound.
	// It reports whether this call was the one that deactivated it.
	DeactivateToken(ctx context.Context, kind TokenKind, signature string, at time.Time) (bool, error)
	// ListRequest returns every record of the kind in the grant.
	ListRequest(ctx context.Context, kind TokenKind, requestID string) ([]*TokenRecord, error)
	// DeactivateRequest marks every record of the kind in the grant inactive.
	DeactivateRequest(ctx context.Context, kind TokenKind, requestID string, at time.Time) error
	// DeleteRequest removes every record of every kind in the grant.
	DeleteRequest(ctx context.Context, requestID string) error
	// SubjectRequests returns, each once and sorted, the request ids of
	// every grant with a record for subject (a user's grants, to revoke
	// them all when the user is disabled or deleted).
	SubjectRequests(ctx context.Context, subject string) ([]string, error)
	// DeleteExpiredTokens removes records that expired before t.
	DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error)
	// ApplyTokenChanges applies changes in order in one short transaction:
	// all of them or none (a refresh-token rotation must not be left half
	// done by a database that goes away in the middle of it). A Deactivate
	// fails the batch with ErrConflict when the record is no longer active
	// (another request used it first) and ErrNotFound when there is none;
	// a Delete of a missing record is not an error; a Create of a taken
	// signature is ErrConflict. The failure of a change comes back as a
	// *TokenChangeError naming it.
	ApplyTokenChanges(ctx context.Context, changes []TokenChange) error
}

// TokenBatchReader reads what introspection needs of many records of one
// kind in one round trip, so that concurrent introspections of tokens not
// yet cached share one query. Both engines implement it; storetest checks
// it.
type TokenBatchReader interface {
	// ReadTokens calls fn once for each record of kind among signatures
	// that exists (active or not) with its signature, whether it is
	// active and its data, as GetToken returns them; a signature with no
	// record is skipped. signature and data belong to the driver and are
	// valid only during the call (fn copies what it keeps), so a read
	// copies no record. An error of fn ends the read and is returned.
	ReadTokens(ctx context.Context, kind TokenKind, signatures []string,
		fn func(signature []byte, active bool, data []byte) error) error
}

// TokenRows is the part of an engine's result rows that ScanTokenStates
// uses (pgx.Rows and *sql.Rows have it).
type TokenRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ScanTokenStates implements ReadTokens over rows of (signature, active,
// data), scanning the signature and data into a B (the driver's
// no-copy byte type) and calling fn with each row; errors of the rows go
// through mapErr, fn's come back as they are. The caller closes rows.
func ScanTokenStates[B ~[]byte](rows TokenRows, mapErr func(error) error,
	fn func(signature []byte, active bool, data []byte) error) error {
	var (
		sig, data B
		active    bool
	)
	for rows.Next() {
		if err := rows.Scan(&sig, &active, &data); err != nil {
			return mapErr(err)
		}
		if err := fn(sig, active, data); err != nil {
			return err
		}
	}
	return mapErr(rows.Err())
}

// TokenChange is one write of ApplyTokenChanges: Create inserts a record;
// otherwise the record of Kind and Signature is deactivated at At
// (Deactivate) or deleted (Delete).
type TokenChange struct {
	Create     *TokenRecord
	Kind       TokenKind
	Signature  string
	Deactivate bool
	At         time.Time
	Delete     bool
}

// TokenChangeError is the failure of the change at Index of a batch; it
// matches the change's own error (errors.Is).
type TokenChangeError struct {
	Index int
	Err   error
}

func (e *TokenChangeError) Error() string { return fmt.Sprintf("token change %d: %v", e.Index, e.Err) }

// Unwrap returns the change's error.
func (e *TokenChangeError) Unwrap() error { return e.Err }

// ApplyTokenChangeSets applies sets, each a unit of ApplyTokenChanges
// (all of it or none: a refresh-token rotation, one record of a token
// endpoint), in one transaction of ts.ApplyTokenChanges (a group commit
// of concurrent token endpoints), and returns each set's outcome as
// ApplyTokenChanges would have answered it alone. A set whose own change
// fails (ErrConflict: a signature taken or a record no longer active, by
// an earlier set of the same call too; ErrNotFound: a record to
// deactivate missing; ErrInvalid) gets that *TokenChangeError, its Index
// within the set, and the other sets are applied again without it; any
// other failure (the database is down, the transaction timed out) is
// every set's.
func ApplyTokenChangeSets(ctx context.Context, ts TokenStore, sets [][]TokenChange) []error {
	if len(sets) == 1 {
		// Its own outcome as it is: nothing to tell apart or apply again.
		return []error{ts.ApplyTokenChanges(ctx, sets[0])}
	}
	errs := make([]error, len(sets))
	left := make([]int, 0, len(sets)) // indexes into sets still to apply
	n := 0
	for i, set := range sets {
		if len(set) > 0 {
			left = append(left, i)
			n += len(set)
		}
	}
	changes := make([]TokenChange, 0, n)
	for len(left) > 0 {
		changes = changes[:0]
		for _, i := range left {
			changes = append(changes, sets[i]...)
		}
		err := ts.ApplyTokenChanges(ctx, changes)
		if err == nil {
			return errs
		}
		var ce *TokenChangeError
		if !errors.As(err, &ce) || ce.Index < 0 || ce.Index >= len(changes) ||
			!(errors.Is(ce.Err, ErrConflict) || errors.Is(ce.Err, ErrNotFound) || errors.Is(ce.Err, ErrInvalid)) {
			for _, i := range left {
				errs[i] = err
			}
			return errs
		}
		// The set the failed change belongs to.
		at, off := 0, 0
		for off+len(sets[left[at]]) <= ce.Index {
			off += len(sets[left[at]])
			at++
		}
		errs[left[at]] = &TokenChangeError{Index: ce.Index - off, Err: ce.Err}
		left = append(left[:at], left[at+1:]...)
	}
	return errs
}

// RevokedToken is the jti of a revoked stateless (JWT) access token, kept
// until the token's own expiry.
type RevokedToken struct {
	JTI       string
	ExpiresAt time.Time
}

// RevocationStore keeps the revocation list of JWT access tokens.
type RevocationStore interface {
	// RevokeJTI adds jti to the list (idempotent).
	RevokeJTI(ctx context.Context, jti string, expiresAt time.Time) error
	// ListRevokedJTIs returns every entry that expires after now.
	ListRevokedJTIs(ctx context.Context, now time.Time) ([]RevokedToken, error)
	// DeleteExpiredJTIs prunes entries that expired before t.
	DeleteExpiredJTIs(ctx context.Context, before time.Time) (int64, error)
}
