package accounts

import (
	"context"
	"errors"
	"time"

	"github.com/keyward/keyward/store"
)

// ResetStore is what ResetFactors removes: a user's second factors and
// browser sessions.
type ResetStore interface {
	ListWebAuthnCredentials(ctx context.Context, userID string) ([]*store.WebAuthnCredential, error)
	DeleteWebAuthnCredential(ctx context.Context, userID string, id []byte) error
	DeleteTOTP(ctx context.Context, userID string) error
	ReplaceRecoveryCodes(ctx context.Context, userID string, digests []string, at time.Time) error
	DeleteUserBrowserSessions(ctx context.Context, userID string) (int, error)
}

// FactorsReset is what ResetFactors removed.
type FactorsReset struct {
	TOTP          bool
	Passkeys      int
	SessionsEnded int
}

// FactorsResetView is the JSON shape of a reset, shared by the admin API
// and the CLI.
type FactorsResetView struct {
	ID              string `json:"id"`
	Username        string `json:"username"`
	TOTPRemoved     bool   `json:"totp_removed"`
	PasskeysRemoved int    `json:"passkeys_removed"`
	SessionsEnded   int    `json:"sessions_ended"`
}

// NewFactorsResetView describes what ResetFactors removed from u.
func NewFactorsResetView(u *store.User, r *FactorsReset) FactorsResetView {
	return FactorsResetView{ID: u.ID, Username: u.Username, TOTPRemoved: r.TOTP,
		PasskeysRemoved: r.Passkeys, SessionsEnded: r.SessionsEnded}
}

// ErrNoResetStore: Users was made without UsersConfig.Factors.
var ErrNoResetStore = errors.New("accounts: no factor store to reset factors in")

// ResetFactors removes every second factor of user id (the TOTP
// authenticator, the recovery codes and the passkeys) and ends the
// user's browser sessions, so the next sign-in is with the password alone
// and the person enrols afresh: the way back for someone who lost their
// authenticator. A user.factors_reset event records it in the same
// transaction. The user's grants stay (disable the user to end them).
// store.ErrNotFound for an unknown id.
func (u *Users) ResetFactors(ctx context.Context, id string) (*FactorsReset, error) {
	fs := u.cfg.Factors
	if fs == nil {
		return nil, ErrNoResetStore
	}
	if _, err := u.cfg.Store.GetUser(ctx, id); err != nil {
		return nil, err
	}
	var res FactorsReset
	data := map[string]any{}
	err := u.audited(ctx, "user.factors_reset", id, data, func(ctx context.Context) error {
		res = FactorsReset{}
		switch err := fs.DeleteTOTP(ctx, id); {
		case err == nil:
			res.TOTP = true
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := fs.ReplaceRecoveryCodes(ctx, id, nil, u.now()); err != nil {
			return err
		}
		creds, err := fs.ListWebAuthnCredentials(ctx, id)
		if err != nil {
			return err
		}
		for _, c := range creds {
			if err := fs.DeleteWebAuthnCredential(ctx, id, c.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		res.Passkeys = len(creds)
		if res.SessionsEnded, err = fs.DeleteUserBrowserSessions(ctx, id); err != nil {
			return err
		}
		// audited records data after this function returns.
		data["totp"], data["passkeys"], data["sessions_ended"] = res.TOTP, res.Passkeys, res.SessionsEnded
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}
