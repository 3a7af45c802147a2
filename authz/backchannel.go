package authz

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/keyward/keyward/store"
)

// OpenID Connect Back-Channel Logout 1.0.
//
// When a browser session ends (the end_session_endpoint) or a user is
// disabled or deleted, every client with a backchannel_logout_uri that the
// session (or user) signed in to is sent a logout token. The deliveries
// are written to the logout outbox (store.BackchannelStore) in the
// transaction that ends the session, so they exist exactly when the
// session ended; the outbox's dispatcher (admin/webhooks) delivers them,
// with retries, and asks LogoutToken for the token at each attempt.
//
// The token is signed at delivery time, not at enqueue time: it can stay
// short-lived (LogoutTokenTTL, whatever the retry window), it is signed
// by the key active when it is sent (a key rotated away in between is not
// used), and the outbox holds no credential. Its jti is fixed at enqueue
// time, so a retry of a token the client acted on is one it can drop
// (§2.6 step 10).
const (
	// LogoutTokenType is the typ header of a logout token (§2.4).
	LogoutTokenType = "logout+jwt"
	// BackchannelLogoutEvent is the member of a logout token's events
	// claim (§2.4).
	BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"
	// LogoutTokenTTL is the life of a logout token from its signing (§2.4
	// recommends two minutes at most).
	LogoutTokenTTL = 2 * time.Minute
)

// ErrNoBackchannelURI is LogoutToken's answer for a client that no longer
// has a backchannel_logout_uri (or no longer exists): the delivery is
// dropped, not retried.
var ErrNoBackchannelURI = errors.New("authz: the client has no backchannel_logout_uri")

// backchannel queues and signs logout tokens.
type backchannel struct {
	issuer string
	store  Store
	signer Signer
	now    func() time.Time
	log    *slog.Logger
	// queued is called once a transaction that queued logouts has
	// committed (the dispatcher's wake-up); nil: it polls.
	queued func()
}

// SessionSID is the sid of a browser session (OIDC Back-Channel Logout
// §2.1, OIDC Front-Channel Logout §3): stable for the life of the
// session, the same for every client, and not the stored session id (a
// digest of the cookie), from which it is derived one way.
func SessionSID(sessionID string) string {
	sum := sha256.Sum256([]byte("keyward sid v1\x00" + sessionID))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// signedInTo records that the browser session of who signed in to
// client, when the client listens for logouts; the session's logout then
// reaches it.
func (bc *backchannel) signedInTo(ctx context.Context, who *signedIn, client *store.Client) error {
	if client.BackchannelLogoutURI == "" {
		return nil
	}
	return bc.store.AddSessionClient(ctx, &store.SessionClient{SessionID: who.session.ID, ClientID: client.ID, UserID: who.user.ID})
}

// newJTI returns a random jti.
func newJTI() (string, error) { return randomToken(18) }

// listeners returns the clients among ids with a backchannel_logout_uri;
// a client deleted meanwhile is skipped.
func (bc *backchannel) listeners(ctx context.Context, ids []string) (map[string]*store.Client, error) {
	out := map[string]*store.Client{}
	for _, id := range ids {
		if _, ok := out[id]; ok {
			continue
		}
		c, err := bc.store.GetClient(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if c.BackchannelLogoutURI != "" {
			out[id] = c
		}
	}
	return out, nil
}

// queue writes ds to the outbox and arranges the wake-up.
func (bc *backchannel) queue(ctx context.Context, ds []*store.LogoutDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	for _, d := range ds {
		jti, err := newJTI()
		if err != nil {
			return err
		}
		d.JTI = jti
	}
	if err := bc.store.QueueLogouts(ctx, ds); err != nil {
		return err
	}
	if bc.queued != nil {
		store.AfterCommit(ctx, bc.store, bc.queued)
	}
	return nil
}

// sessionEnded queues a logout token (sub and sid) for each listening
// client the session signed in to, revokes the refresh tokens those
// clients got in the session (sessionGrants), and deletes the session:
// all in one transaction. It returns the clients told.
func (bc *backchannel) sessionEnded(ctx context.Context, fs *fositeStore, userID, sessionID string) ([]string, error) {
	var told []string
	err := store.Atomic(ctx, bc.store, func(ctx context.Context) error {
		scs, err := bc.store.SessionClients(ctx, sessionID)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(scs))
		for _, sc := range scs {
			ids = append(ids, sc.ClientID)
		}
		ls, err := bc.listeners(ctx, ids)
		if err != nil {
			return err
		}
		sid := SessionSID(sessionID)
		var ds []*store.LogoutDelivery
		for _, id := range ids {
			if _, ok := ls[id]; ok {
				ds = append(ds, &store.LogoutDelivery{ClientID: id, Subject: userID, SID: sid})
				told = append(told, id)
			}
		}
		if err := bc.queue(ctx, ds); err != nil {
			return err
		}
		if err := bc.revokeSessionGrants(ctx, fs, userID, sid, told); err != nil {
			return err
		}
		if err := bc.store.DeleteBrowserSession(ctx, sessionID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	return told, err
}

// revokeSessionGrants ends the grants of userID that clients got in the
// browser session sid, unless offline_access was granted. Back-Channel
// Logout §2.7: "Refresh tokens issued without the offline_access property
// to a session being logged out SHOULD be revoked. Refresh tokens issued
// with the offline_access property normally SHOULD NOT be revoked." The
// OP holds those refresh tokens, so it revokes them itself rather than
// rely on each RP to call the revocation endpoint.
func (bc *backchannel) revokeSessionGrants(ctx context.Context, fs *fositeStore, userID, sid string, clientIDs []string) error {
	if len(clientIDs) == 0 {
		return nil
	}
	grants, err := bc.store.SubjectRequests(ctx, userID)
	if err != nil {
		return err
	}
	for _, id := range grants {
		recs, err := bc.store.ListRequest(ctx, store.KindRefreshToken, id)
		if err != nil {
			return err
		}
		if len(recs) == 0 || !slices.Contains(clientIDs, recs[0].ClientID) {
			continue
		}
		var sr storedRequest
		sess := &Session{}
		if json.Unmarshal(recs[0].Data, &sr) != nil || json.Unmarshal(sr.Session, sess) != nil {
			continue
		}
		if grantSID(sess) != sid || slices.Contains(sr.GrantedScope, "offline_access") {
			continue
		}
		if err := fs.RevokeAccessToken(ctx, id); err != nil {
			return err
		}
		if err := fs.tokens.DeleteRequest(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// grantSID is the sid the grant's ID tokens carry ("" for none).
func grantSID(s *Session) string {
	if s.DefaultSession == nil || s.Claims == nil {
		return ""
	}
	sid, _ := s.Claims.Extra["sid"].(string)
	return sid
}

// userEnded queues logout tokens for a user who was disabled or deleted,
// and signs them out of every browser, in one transaction: a token per
// session (sub and sid) to each client that requires sid, else one per
// client with sub only (all of the user's sessions at the client, §2.4),
// sent to every listening client among grantClients (the clients of the
// user's grants) and the clients of the user's sessions.
func (bc *backchannel) userEnded(ctx context.Context, userID string, grantClients []string) error {
	return store.Atomic(ctx, bc.store, func(ctx context.Context) error {
		scs, err := bc.store.UserSessionClients(ctx, userID)
		if err != nil {
			return err
		}
		ids := slices.Clone(grantClients)
		for _, sc := range scs {
			ids = append(ids, sc.ClientID)
		}
		ls, err := bc.listeners(ctx, ids)
		if err != nil {
			return err
		}
		var ds []*store.LogoutDelivery
		done := map[string]bool{}
		for _, sc := range scs {
			c := ls[sc.ClientID]
			if c == nil || !c.BackchannelLogoutSessionRequired {
				continue
			}
			ds = append(ds, &store.LogoutDelivery{ClientID: c.ID, Subject: userID, SID: SessionSID(sc.SessionID)})
			done[c.ID] = true
		}
		for _, id := range ids {
			c := ls[id]
			if c == nil || done[id] || c.BackchannelLogoutSessionRequired {
				continue
			}
			ds = append(ds, &store.LogoutDelivery{ClientID: id, Subject: userID})
			done[id] = true
		}
		if err := bc.queue(ctx, ds); err != nil {
			return err
		}
		_, err = bc.store.DeleteUserBrowserSessions(ctx, userID)
		return err
	})
}

// token returns the client's backchannel_logout_uri and a logout token
// for d (§2.4), signed now with the client's ID-token algorithm (§2.6:
// it is validated like an ID token) by that algorithm's active key:
// header typ logout+jwt; claims iss, aud, iat, exp, jti, sub and/or sid,
// events; never a nonce. ErrNoBackchannelURI when the client has none.
func (bc *backchannel) token(ctx context.Context, d *store.LogoutDelivery) (string, string, error) {
	c, err := bc.store.GetClient(ctx, d.ClientID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.BackchannelLogoutURI == "") {
		return "", "", ErrNoBackchannelURI
	}
	if err != nil {
		return "", "", err
	}
	if d.Subject == "" && d.SID == "" {
		return "", "", fmt.Errorf("authz: logout delivery %d names neither a subject nor a session", d.ID)
	}
	now := bc.now()
	claims := map[string]any{
		"iss": bc.issuer, "aud": c.ID, "iat": now.Unix(), "exp": now.Add(LogoutTokenTTL).Unix(), "jti": d.JTI,
		"events": map[string]any{BackchannelLogoutEvent: map[string]any{}},
	}
	if d.Subject != "" {
		claims["sub"] = d.Subject
	}
	if d.SID != "" {
		claims["sid"] = d.SID
	}
	alg := c.IDTokenAlg
	if alg == "" {
		alg = DefaultIDTokenAlg
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", "", fmt.Errorf("authz: logout token claims: %w", err)
	}
	tok, err := bc.signer.Sign(ctx, alg, LogoutTokenType, payload)
	if err != nil {
		return "", "", err
	}
	return c.BackchannelLogoutURI, tok, nil
}

// LogoutToken returns where to POST the logout token of d and the token,
// signed now (see backchannel.token); the outbox's dispatcher calls it at
// each attempt. ErrNoBackchannelURI when the client no longer listens.
func (p *Provider) LogoutToken(ctx context.Context, d *store.LogoutDelivery) (uri, token string, err error) {
	return p.backchannel.token(ctx, d)
}
