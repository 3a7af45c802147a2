package clients

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/keyward/keyward/store"
)

// RegistrationAccessTokenPrefix starts every registration access token
// (RFC 7592 §3), so that secret scanners can tell it apart.
const RegistrationAccessTokenPrefix = "kwrat_"

// Register creates a client that registered itself at the dynamic client
// registration endpoint (RFC 7591 §3.1): like Create, but marked
// Registered, keeping metadata (a JSON object, or nil), audited as
// client.registered, and with a registration access token (RFC 7592 §3)
// for the client configuration endpoint, returned once beside the secret
// ("" for a public client). Only the token's keyed digest is stored.
func (r *Registry) Register(ctx context.Context, p Params, metadata json.RawMessage) (cl *store.Client, secret, accessToken string, err error) {
	raw, err := r.newSecret()
	if err != nil {
		return nil, "", "", err
	}
	accessToken = RegistrationAccessTokenPrefix + raw
	cl, secret, err = r.create(ctx, p, "client.registered", func(cl *store.Client) {
		cl.Registered = true
		cl.RegistrationTokenDigest = r.cfg.Hasher.Digest([]byte(accessToken))
		cl.RegistrationMetadata = metadata
	})
	if err != nil {
		return nil, "", "", err
	}
	return cl, secret, accessToken, nil
}

// UpdateRegistration replaces the settings and kept metadata of a client
// (RFC 7592 §2.2), audited as client.updated; its secret and registration
// access token stay.
func (r *Registry) UpdateRegistration(ctx context.Context, id string, p Params, metadata json.RawMessage) (*store.Client, error) {
	return r.update(ctx, id, p, func(cl *store.Client) { cl.RegistrationMetadata = metadata })
}

// Registration returns the client id whose registration access token is
// token (RFC 7592 §3). ErrSecretMismatch for an unknown client, one
// without such a token, or a wrong token; another error (an unreachable
// database) is never reported as a mismatch.
func (r *Registry) Registration(ctx context.Context, id, token string) (*store.Client, error) {
	cl, err := r.cfg.Store.GetClient(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrSecretMismatch
		}
		return nil, err
	}
	if err := r.cfg.Hasher.Compare(ctx, cl.RegistrationTokenDigest, []byte(token)); err != nil {
		return nil, err
	}
	return cl, nil
}
