package authz

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/coalesce"
)

// fositeStore adapts Keyward's stores to fosite's storage interfaces and
// maps store errors to fosite's (ErrNotFound → fosite.ErrNotFound,
// inactive records → ErrInactiveToken / ErrInvalidatedAuthorizeCode).
type fositeStore struct {
	tokens      store.TokenStore
	clientCache *clients.Cache
	resources   *resources.Cache
	revoked     *revocationList
	now         func() time.Time
	// grace is the refresh grace window (0: none).
	grace time.Duration
	// parTTL is the expires_in of a pushed request's request_uri.
	parTTL time.Duration
	// batched reads what introspection needs of access and refresh token
	// records, gathering concurrent reads into one query (nil: one at a
	// time).
	batched map[store.TokenKind]*coalesce.Loader[string, introspectedRecord]
	// writes group-commits the records written outside a fosite
	// transaction (nil: each in its own).
	writes *coalesce.Committer[[]store.TokenChange]
}

// introspectedRecord is what introspection reads of a token record: whether
// it is active and, when it is, its stored request as parseIntrospected
// reads it (or why that failed).
type introspectedRecord struct {
	active bool
	req    *introspectedRequest
	err    error
}

// introspectedOf is what introspection reads of a record in state
// active with data: the data is parsed only when the record is active.
func introspectedOf(active bool, data []byte) introspectedRecord {
	r := introspectedRecord{active: active}
	if active {
		r.req, r.err = parseIntrospected(data)
	}
	return r
}

// newTokenLoaders returns a loader per cached token kind when tokens can
// read in batches, else nil. Each reads the records' state in place
// (store.TokenBatchReader) and parses the active ones' data as it goes, so
// no record is copied. Their batch sizes go to obs when it is a
// coalesce.BatchObserver.
func newTokenLoaders(tokens store.TokenStore, obs any) map[store.TokenKind]*coalesce.Loader[string, introspectedRecord] {
	b, ok := tokens.(store.TokenBatchReader)
	if !ok {
		return nil
	}
	out := map[store.TokenKind]*coalesce.Loader[string, introspectedRecord]{}
	for kind, name := range map[store.TokenKind]string{store.KindAccessToken: coalesce.LoaderAccessTokens,
		store.KindRefreshToken: coalesce.LoaderRefreshTokens} {
		out[kind] = coalesce.New(func(ctx context.Context, sigs []string) (map[string]introspectedRecord, error) {
			recs := make(map[string]introspectedRecord, len(sigs))
			err := b.ReadTokens(ctx, kind, sigs, func(sig []byte, active bool, data []byte) error {
				recs[string(sig)] = introspectedOf(active, data)
				return nil
			})
			return recs, err
		}, coalesce.Config{OnBatch: coalesce.Observe(obs, name)})
	}
	return out
}

// newTokenWrites returns the committer, writing through tokens (the
// store as the opaque cache watches it), of the token writes made outside
// a store transaction: the record of an opaque access token of client
// credentials, an authorization code with its PKCE and OpenID Connect
// records (each a set of one create), and the writes of a fosite
// transaction at its Commit (a refresh-token rotation, a code
// redemption). Concurrent token endpoints share one transaction
// (store.ApplyTokenChangeSets); each returns once its own set is
// committed, with its own outcome. Its batch sizes go to obs when it is a
// coalesce.CommitObserver.
func newTokenWrites(tokens store.TokenStore, obs any) *coalesce.Committer[[]store.TokenChange] {
	return coalesce.NewCommitter(func(ctx context.Context, sets [][]store.TokenChange) []error {
		if len(sets) == 1 && len(sets[0]) == 1 && sets[0][0].Create != nil {
			// A lone record: one statement, no transaction of its own.
			return []error{tokens.CreateToken(ctx, sets[0][0].Create)}
		}
		return store.ApplyTokenChangeSets(ctx, tokens, sets)
	}, coalesce.CommitConfig{OnBatch: coalesce.ObserveCommits(obs, coalesce.CommitterTokenRecords)})
}

// applyChanges applies changes all or none, in a group commit with other
// token endpoints' when grouped.
func (s *fositeStore) applyChanges(ctx context.Context, changes []store.TokenChange) error {
	if s.grouped(ctx) {
		return s.writes.Commit(ctx, changes)
	}
	return s.tokens.ApplyTokenChanges(ctx, changes)
}

// grouped reports whether writes made with ctx go to the group commit:
// there is one, and ctx carries no store transaction (whose writes the
// group commit, in a transaction of its own, would not join).
func (s *fositeStore) grouped(ctx context.Context) bool {
	return s.writes != nil && !store.InTransaction(ctx, s.tokens)
}

// introspected reads what introspection needs of the record of sig:
// store.ErrNotFound when there is none. The read goes through the kind's
// loader, sharing a query with concurrent ones (it begins after this call
// did, so the opaque cache's generation check still holds), or without
// loaders reads the record directly. Introspection reads outside any
// transaction and writes nothing, as the loaders require.
func (s *fositeStore) introspected(ctx context.Context, kind store.TokenKind, sig string) (introspectedRecord, error) {
	if l := s.batched[kind]; l != nil {
		rec, ok, err := l.Load(ctx, sig)
		if err == nil && !ok {
			err = store.ErrNotFound
		}
		return rec, err
	}
	rec, err := s.tokens.GetToken(ctx, kind, sig)
	if err != nil {
		return introspectedRecord{}, err
	}
	return introspectedOf(rec.Active, rec.Data), nil
}

var (
	_ fosite.Storage                     = (*fositeStore)(nil)
	_ oauth2.CoreStorage                 = (*fositeStore)(nil)
	_ oauth2.TokenRevocationStorage      = (*fositeStore)(nil)
	_ openid.OpenIDConnectRequestStorage = (*fositeStore)(nil)
	_ pkce.PKCERequestStorage            = (*fositeStore)(nil)
)

// storedRequestOf is the serialized form of a fosite request, its
// session as S. The form keeps only what later steps read (PKCE
// challenge, nonce, prompt, max_age…); credentials and tokens are dropped
// before anything is written.
type storedRequestOf[S any] struct {
	ID                string     `json:"id"`
	RequestedAt       time.Time  `json:"requested_at"`
	ClientID          string     `json:"client_id"`
	RequestedScope    []string   `json:"requested_scope"`
	GrantedScope      []string   `json:"granted_scope"`
	RequestedAudience []string   `json:"requested_audience"`
	GrantedAudience   []string   `json:"granted_audience"`
	Form              url.Values `json:"form"`
	Session           S          `json:"session"`
}

// storedRequest is a stored request with its session as raw JSON.
type storedRequest = storedRequestOf[json.RawMessage]

// sensitiveForm lists form fields that never reach the database.
var sensitiveForm = []string{"client_secret", "password", "code_verifier", "refresh_token", "code",
	"subject_token", "actor_token", "client_assertion", "token", "username", "device_code"}

func (s *fositeStore) encode(r fosite.Requester) ([]byte, error) {
	form := url.Values{}
	for k, v := range r.GetRequestForm() {
		form[k] = v
	}
	for _, k := range sensitiveForm {
		form.Del(k)
	}
	// The session in the same pass: marshalled apart, as a RawMessage it
	// was validated and compacted a second time.
	return json.Marshal(storedRequestOf[fosite.Session]{
		ID: r.GetID(), RequestedAt: r.GetRequestedAt(), ClientID: r.GetClient().GetID(),
		RequestedScope: r.GetRequestedScopes(), GrantedScope: r.GetGrantedScopes(),
		RequestedAudience: r.GetRequestedAudience(), GrantedAudience: r.GetGrantedAudience(),
		Form: form, Session: r.GetSession(),
	})
}

// parseStored reads a stored request as decode does: the session in the
// same pass, into the session fosite hands the store. With the session as
// a json.RawMessage and a second Unmarshal, encoding/json went over the
// session's bytes four times (validating and decoding each time), most of
// a cold opaque introspection's decoding.
func parseStored(data []byte, sess *Session) (*storedRequestOf[*Session], error) {
	sr := &storedRequestOf[*Session]{Session: sess}
	if err := json.Unmarshal(data, sr); err != nil {
		return nil, fmt.Errorf("authz: stored request: %w", err)
	}
	return sr, nil
}

func (s *fositeStore) decode(ctx context.Context, data []byte, session fosite.Session) (*fosite.Request, error) {
	sess, ok := session.(*Session)
	if !ok || sess == nil {
		sess = &Session{}
	}
	sr, err := parseStored(data, sess)
	if err != nil {
		return nil, err
	}
	client, err := s.clientCache.Get(ctx, sr.ClientID)
	if err != nil {
		return nil, err
	}
	return &fosite.Request{
		ID: sr.ID, RequestedAt: sr.RequestedAt, Client: &fositeClient{c: client},
		RequestedScope: sr.RequestedScope, GrantedScope: sr.GrantedScope,
		RequestedAudience: sr.RequestedAudience, GrantedAudience: sr.GrantedAudience,
		Form: sr.Form, Session: sess,
	}, nil
}

func (s *fositeStore) create(ctx context.Context, kind store.TokenKind, tokenType fosite.TokenType, sig, accessSig string, r fosite.Requester) error {
	data, err := s.encode(r)
	if err != nil {
		return err
	}
	exp := r.GetSession().GetExpiresAt(tokenType)
	if exp.IsZero() {
		// No expiry set: keep the record for the longest lifetime we issue.
		exp = s.now().Add(90 * 24 * time.Hour)
	}
	rec := &store.TokenRecord{
		Kind: kind, Signature: sig, RequestID: r.GetID(), ClientID: r.GetClient().GetID(),
		Subject: r.GetSession().GetSubject(), Active: true, AccessSignature: accessSig, Data: data,
		RequestedAt: store.Truncate(r.GetRequestedAt()), ExpiresAt: store.Truncate(exp),
	}
	if deferred(ctx, store.TokenChange{Create: rec}, nil) {
		return nil
	}
	if s.grouped(ctx) {
		return fositeErr(s.writes.Commit(ctx, []store.TokenChange{{Create: rec}}))
	}
	return fositeErr(s.tokens.CreateToken(ctx, rec))
}

// get loads a record; an inactive one comes back with inactiveErr.
func (s *fositeStore) get(ctx context.Context, kind store.TokenKind, sig string, session fosite.Session, inactiveErr error) (fosite.Requester, error) {
	rec, err := s.tokens.GetToken(ctx, kind, sig)
	if err != nil {
		return nil, fositeErr(err)
	}
	req, err := s.decode(ctx, rec.Data, session)
	if err != nil {
		return nil, fositeErr(err)
	}
	if !rec.Active {
		return req, inactiveErr
	}
	return req, nil
}

func (s *fositeStore) del(ctx context.Context, kind store.TokenKind, sig string) error {
	return fositeErr(s.deleteToken(ctx, kind, sig))
}

// deleteToken deletes one record, at once or at the Commit of the
// context's transaction (where a missing record is no error).
func (s *fositeStore) deleteToken(ctx context.Context, kind store.TokenKind, sig string) error {
	if deferred(ctx, store.TokenChange{Kind: kind, Signature: sig, Delete: true}, nil) {
		return nil
	}
	return s.tokens.DeleteToken(ctx, kind, sig)
}

// deactivate marks one record inactive, at once or at the Commit of the
// context's transaction; inactiveErr is the answer when another request
// deactivated it first.
func (s *fositeStore) deactivate(ctx context.Context, kind store.TokenKind, sig string, inactiveErr error) error {
	if deferred(ctx, store.TokenChange{Kind: kind, Signature: sig, Deactivate: true, At: s.now()}, inactiveErr) {
		return nil
	}
	first, err := s.tokens.DeactivateToken(ctx, kind, sig, s.now())
	if err != nil {
		return fositeErr(err)
	}
	if !first {
		return inactiveErr
	}
	return nil
}

// fositeErr maps store errors to fosite's.
func fositeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fosite.ErrNotFound
	case errors.Is(err, store.ErrConflict):
		return fosite.ErrServerError.WithDebug("duplicate token signature")
	}
	return &unavailableError{err}
}

// GetClient implements fosite.ClientManager from the client cache. A
// disabled client is not found: it can neither authenticate nor start a
// grant.
func (s *fositeStore) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := s.clientCache.Get(ctx, id)
	if err == nil && c.Disabled {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fositeErr(err)
	}
	set, err := s.resources.Current(ctx)
	if set == nil && err != nil {
		return nil, &unavailableError{err}
	}
	return &fositeClient{c: c, resources: resources.AllowedURIs(c, set)}, nil
}

// ClientAssertionJWTValid implements fosite.ClientManager. fosite's own
// client-assertion path is never taken (assertions replaces it and keeps
// the jtis in store.AssertionStore), so every jti fosite might ask about
// is reported as already used.
func (s *fositeStore) ClientAssertionJWTValid(context.Context, string) error {
	return fosite.ErrJTIKnown
}

// SetClientAssertionJWT implements fosite.ClientManager.
func (s *fositeStore) SetClientAssertionJWT(context.Context, string, time.Time) error { return nil }

// CreateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
func (s *fositeStore) CreateAuthorizeCodeSession(ctx context.Context, sig string, r fosite.Requester) error {
	capCodeLifespan(r, s.now())
	return s.create(ctx, store.KindAuthorizeCode, fosite.AuthorizeCode, sig, "", r)
}

// GetAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage; a used
// code returns its request with fosite.ErrInvalidatedAuthorizeCode, which
// makes fosite revoke every token issued from it (RFC 6749 §4.1.2).
func (s *fositeStore) GetAuthorizeCodeSession(ctx context.Context, sig string, session fosite.Session) (fosite.Requester, error) {
	return s.get(ctx, store.KindAuthorizeCode, sig, session, fosite.ErrInvalidatedAuthorizeCode)
}

// InvalidateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
func (s *fositeStore) InvalidateAuthorizeCodeSession(ctx context.Context, sig string) error {
	// Two redemptions racing: only one may win.
	return s.deactivate(ctx, store.KindAuthorizeCode, sig, fosite.ErrInvalidatedAuthorizeCode)
}

// CreateAccessTokenSession implements oauth2.AccessTokenStorage. JWT access
// tokens of client-credentials and token-exchange grants are stateless: no
// write at all (DESIGN.md); revocation goes through the jti list.
func (s *fositeStore) CreateAccessTokenSession(ctx context.Context, sig string, r fosite.Requester) error {
	if stateless(r) {
		return nil
	}
	return s.create(ctx, store.KindAccessToken, fosite.AccessToken, sig, "", r)
}

// stateless reports whether the access token of r is a JWT with no grant
// behind it to revoke.
func stateless(r fosite.Requester) bool {
	sess, _ := r.GetSession().(*Session)
	return sess != nil && sess.AccessFormat == "jwt" && sess.stateless
}

// GetAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *fositeStore) GetAccessTokenSession(ctx context.Context, sig string, session fosite.Session) (fosite.Requester, error) {
	return s.get(ctx, store.KindAccessToken, sig, session, fosite.ErrInactiveToken)
}

// DeleteAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *fositeStore) DeleteAccessTokenSession(ctx context.Context, sig string) error {
	return s.del(ctx, store.KindAccessToken, sig)
}

// CreateRefreshTokenSession implements oauth2.RefreshTokenStorage.
func (s *fositeStore) CreateRefreshTokenSession(ctx context.Context, sig, accessSig string, r fosite.Requester) error {
	return s.create(ctx, store.KindRefreshToken, fosite.RefreshToken, sig, accessSig, r)
}

// GetRefreshTokenSession implements oauth2.RefreshTokenStorage; a rotated
// token returns fosite.ErrInactiveToken, which fosite treats as reuse and
// answers by revoking the whole grant.
//
// Inside the refresh grace window (see inGrace) a just-rotated token
// presented by the client it was issued to is reported as not found
// instead: fosite then answers invalid_grant without revoking the grant,
// and the token endpoint replays the rotation's answer (a second tab
// racing the first, perhaps on another instance). Once its successor has
// been used, it is reuse. Presented by another client, a rotated token is
// only refused: that client could not have used it, and letting it revoke
// the grant would let anyone holding an old token end someone's session.
func (s *fositeStore) GetRefreshTokenSession(ctx context.Context, sig string, session fosite.Session) (fosite.Requester, error) {
	rec, err := s.tokens.GetToken(ctx, store.KindRefreshToken, sig)
	if err != nil {
		return nil, fositeErr(err)
	}
	req, err := s.decode(ctx, rec.Data, session)
	if err != nil {
		return nil, fositeErr(err)
	}
	if rec.Active {
		return req, nil
	}
	switch client := requestingClient(ctx); {
	case client != "" && client != rec.ClientID:
		// Not this client's token: refused (invalid_grant) without
		// revoking anything, or whoever learnt an old token could end
		// another client's grant with it.
		return nil, fosite.ErrNotFound
	case s.grace > 0 && client == rec.ClientID && inGrace(ctx, s.tokens, rec, s.grace, s.now()):
		return nil, fosite.ErrNotFound
	}
	return req, fosite.ErrInactiveToken
}

// requestingClient is the authenticated client of the token request fosite
// is handling in ctx ("" outside the token endpoint).
func requestingClient(ctx context.Context) string {
	if ar, ok := ctx.Value(fosite.AccessRequestContextKey).(fosite.AccessRequester); ok && ar.GetClient() != nil {
		return ar.GetClient().GetID()
	}
	return ""
}

// DeleteRefreshTokenSession implements oauth2.RefreshTokenStorage.
func (s *fositeStore) DeleteRefreshTokenSession(ctx context.Context, sig string) error {
	return s.del(ctx, store.KindRefreshToken, sig)
}

// RotateRefreshToken implements oauth2.RefreshTokenStorage: the used
// refresh token becomes inactive (kept, so a later reuse is detected).
func (s *fositeStore) RotateRefreshToken(ctx context.Context, requestID, sig string) error {
	return s.deactivate(ctx, store.KindRefreshToken, sig, fosite.ErrInactiveToken)
}

// RevokeRefreshToken implements oauth2.TokenRevocationStorage (RFC 7009
// §2.1): every refresh token of the grant is deleted.
func (s *fositeStore) RevokeRefreshToken(ctx context.Context, requestID string) error {
	recs, err := s.tokens.ListRequest(ctx, store.KindRefreshToken, requestID)
	if err != nil {
		return fositeErr(err)
	}
	for _, r := range recs {
		if err := s.deleteToken(ctx, r.Kind, r.Signature); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// RevokeAccessToken implements oauth2.TokenRevocationStorage: every access
// token of the grant is deleted, and the jti of each JWT among them joins
// the revocation list until the token's expiry.
func (s *fositeStore) RevokeAccessToken(ctx context.Context, requestID string) error {
	recs, err := s.tokens.ListRequest(ctx, store.KindAccessToken, requestID)
	if err != nil {
		return fositeErr(err)
	}
	for _, r := range recs {
		var sr struct {
			Session struct {
				AccessJTI string `json:"access_jti"`
			} `json:"session"`
		}
		if json.Unmarshal(r.Data, &sr) == nil && sr.Session.AccessJTI != "" && r.ExpiresAt.After(s.now()) {
			if err := s.revoked.Revoke(ctx, sr.Session.AccessJTI, r.ExpiresAt); err != nil {
				return err
			}
		}
		if err := s.deleteToken(ctx, r.Kind, r.Signature); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// CreateOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *fositeStore) CreateOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) error {
	return s.create(ctx, store.KindOIDC, fosite.AuthorizeCode, codeKey(code), "", r)
}

// GetOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *fositeStore) GetOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) (fosite.Requester, error) {
	req, err := s.get(ctx, store.KindOIDC, codeKey(code), r.GetSession(), fosite.ErrNotFound)
	if errors.Is(err, fosite.ErrNotFound) {
		return nil, openid.ErrNoSessionFound
	}
	return req, err
}

// DeleteOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (s *fositeStore) DeleteOpenIDConnectSession(ctx context.Context, code string) error {
	return s.del(ctx, store.KindOIDC, codeKey(code))
}

// codeKey is the key of an OpenID Connect session: fosite hands the raw
// authorization code to this storage, and a raw code is never written.
func codeKey(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// CreatePKCERequestSession implements pkce.PKCERequestStorage.
func (s *fositeStore) CreatePKCERequestSession(ctx context.Context, sig string, r fosite.Requester) error {
	return s.create(ctx, store.KindPKCE, fosite.AuthorizeCode, sig, "", r)
}

// GetPKCERequestSession implements pkce.PKCERequestStorage.
func (s *fositeStore) GetPKCERequestSession(ctx context.Context, sig string, session fosite.Session) (fosite.Requester, error) {
	return s.get(ctx, store.KindPKCE, sig, session, fosite.ErrNotFound)
}

// DeletePKCERequestSession implements pkce.PKCERequestStorage.
func (s *fositeStore) DeletePKCERequestSession(ctx context.Context, sig string) error {
	return s.del(ctx, store.KindPKCE, sig)
}
