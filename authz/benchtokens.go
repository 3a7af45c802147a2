package authz

import (
	"context"
	"errors"
	"time"

	"github.com/ory/fosite"

	"github.com/keyward/keyward/store"
)

// MintOpaqueTokens makes n opaque access tokens as the token endpoint
// issues them to clientID by client credentials (scopes granted, expiring
// after ttl), and passes each with its record to emit, which stores the
// records as it likes (keyward bench copies them into the database in
// bulk). Nothing is written here. The client must exist and issue opaque
// tokens.
func (p *Provider) MintOpaqueTokens(ctx context.Context, clientID string, scopes []string, ttl time.Duration, n int,
	emit func(token string, rec *store.TokenRecord) error) error {
	c, err := p.store.GetClient(ctx, clientID)
	if err != nil {
		return err
	}
	if fc, ok := c.(*fositeClient); !ok || fc.c.AccessTokenFormat != "opaque" {
		return errors.New("authz: the client does not issue opaque tokens")
	}
	now := p.cfg.Now().UTC().Truncate(time.Second)
	for range n {
		sess := NewSession(clientID)
		sess.SetExpiresAt(fosite.AccessToken, now.Add(ttl))
		r := fosite.NewAccessRequest(sess)
		r.Client, r.RequestedAt = c, now
		r.GrantTypes = fosite.Arguments{"client_credentials"}
		r.RequestedScope, r.GrantedScope = scopes, scopes
		tok, sig, err := p.strategy.GenerateAccessToken(ctx, r)
		if err != nil {
			return err
		}
		data, err := p.store.encode(r)
		if err != nil {
			return err
		}
		rec := &store.TokenRecord{Kind: store.KindAccessToken, Signature: sig, RequestID: r.GetID(), ClientID: clientID,
			Subject: clientID, Active: true, Data: data, RequestedAt: now, ExpiresAt: now.Add(ttl)}
		if err := emit(tok, rec); err != nil {
			return err
		}
	}
	return nil
}
