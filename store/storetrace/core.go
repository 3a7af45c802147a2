package storetrace

// The traced methods of store.Store, store.Events and store.SecretChecker.

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

// AppendAudit traces store.AuditStore.AppendAudit.
func (d *DB) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	ctx, tr := d.start(ctx, "AppendAudit")
	return tr.end(d.Inner.AppendAudit(ctx, e))
}

// ListAudit traces store.AuditStore.ListAudit.
func (d *DB) ListAudit(ctx context.Context, f store.AuditFilter, p store.Page) ([]*store.AuditEvent, string, error) {
	ctx, tr := d.start(ctx, "ListAudit")
	v, next, err := d.Inner.ListAudit(ctx, f, p)
	return v, next, tr.end(err)
}

// CreateClient traces store.ClientStore.CreateClient.
func (d *DB) CreateClient(ctx context.Context, c *store.Client) error {
	ctx, tr := d.start(ctx, "CreateClient")
	return tr.end(d.Inner.CreateClient(ctx, c))
}

// GetClient traces store.ClientStore.GetClient.
func (d *DB) GetClient(ctx context.Context, id string) (*store.Client, error) {
	ctx, tr := d.start(ctx, "GetClient")
	v, err := d.Inner.GetClient(ctx, id)
	return v, tr.end(err)
}

// ListClients traces store.ClientStore.ListClients.
func (d *DB) ListClients(ctx context.Context, p store.Page) ([]*store.Client, string, error) {
	ctx, tr := d.start(ctx, "ListClients")
	v, next, err := d.Inner.ListClients(ctx, p)
	return v, next, tr.end(err)
}

// UpdateClient traces store.ClientStore.UpdateClient.
func (d *DB) UpdateClient(ctx context.Context, c *store.Client) error {
	ctx, tr := d.start(ctx, "UpdateClient")
	return tr.end(d.Inner.UpdateClient(ctx, c))
}

// DeleteClient traces store.ClientStore.DeleteClient.
func (d *DB) DeleteClient(ctx context.Context, id string) error {
	ctx, tr := d.start(ctx, "DeleteClient")
	return tr.end(d.Inner.DeleteClient(ctx, id))
}

// SaveConsent traces store.SessionStore.SaveConsent.
func (d *DB) SaveConsent(ctx context.Context, c *store.Consent) error {
	ctx, tr := d.start(ctx, "SaveConsent")
	return tr.end(d.Inner.SaveConsent(ctx, c))
}

// GetConsent traces store.SessionStore.GetConsent.
func (d *DB) GetConsent(ctx context.Context, userID, clientID string) (*store.Consent, error) {
	ctx, tr := d.start(ctx, "GetConsent")
	v, err := d.Inner.GetConsent(ctx, userID, clientID)
	return v, tr.end(err)
}

// DeleteConsent traces store.SessionStore.DeleteConsent.
func (d *DB) DeleteConsent(ctx context.Context, userID, clientID string) error {
	ctx, tr := d.start(ctx, "DeleteConsent")
	return tr.end(d.Inner.DeleteConsent(ctx, userID, clientID))
}

// ListConsents traces store.SessionStore.ListConsents.
func (d *DB) ListConsents(ctx context.Context, userID string) ([]*store.Consent, error) {
	ctx, tr := d.start(ctx, "ListConsents")
	v, err := d.Inner.ListConsents(ctx, userID)
	return v, tr.end(err)
}

// ListUserBrowserSessions traces store.SessionStore.ListUserBrowserSessions.
func (d *DB) ListUserBrowserSessions(ctx context.Context, userID string, now time.Time) ([]*store.BrowserSession, error) {
	ctx, tr := d.start(ctx, "ListUserBrowserSessions")
	v, err := d.Inner.ListUserBrowserSessions(ctx, userID, now)
	return v, tr.end(err)
}

// DeleteOtherBrowserSessions traces store.SessionStore.DeleteOtherBrowserSessions.
func (d *DB) DeleteOtherBrowserSessions(ctx context.Context, userID, keepID string) (int, error) {
	ctx, tr := d.start(ctx, "DeleteOtherBrowserSessions")
	n, err := d.Inner.DeleteOtherBrowserSessions(ctx, userID, keepID)
	return n, tr.end(err)
}

// CreateBrowserSession traces store.SessionStore.CreateBrowserSession.
func (d *DB) CreateBrowserSession(ctx context.Context, s *store.BrowserSession) error {
	ctx, tr := d.start(ctx, "CreateBrowserSession")
	return tr.end(d.Inner.CreateBrowserSession(ctx, s))
}

// GetBrowserSession traces store.SessionStore.GetBrowserSession.
func (d *DB) GetBrowserSession(ctx context.Context, id string) (*store.BrowserSession, error) {
	ctx, tr := d.start(ctx, "GetBrowserSession")
	v, err := d.Inner.GetBrowserSession(ctx, id)
	return v, tr.end(err)
}

// DeleteBrowserSession traces store.SessionStore.DeleteBrowserSession.
func (d *DB) DeleteBrowserSession(ctx context.Context, id string) error {
	ctx, tr := d.start(ctx, "DeleteBrowserSession")
	return tr.end(d.Inner.DeleteBrowserSession(ctx, id))
}

// CreateIdempotencyRecord traces store.IdempotencyStore.CreateIdempotencyRecord.
func (d *DB) CreateIdempotencyRecord(ctx context.Context, r *store.IdempotencyRecord) error {
	ctx, tr := d.start(ctx, "CreateIdempotencyRecord")
	return tr.end(d.Inner.CreateIdempotencyRecord(ctx, r))
}

// GetIdempotencyRecord traces store.IdempotencyStore.GetIdempotencyRecord.
func (d *DB) GetIdempotencyRecord(ctx context.Context, principal, key string) (*store.IdempotencyRecord, error) {
	ctx, tr := d.start(ctx, "GetIdempotencyRecord")
	v, err := d.Inner.GetIdempotencyRecord(ctx, principal, key)
	return v, tr.end(err)
}

// CompleteIdempotencyRecord traces store.IdempotencyStore.CompleteIdempotencyRecord.
func (d *DB) CompleteIdempotencyRecord(ctx context.Context, principal, key string, status int, body []byte) error {
	ctx, tr := d.start(ctx, "CompleteIdempotencyRecord")
	return tr.end(d.Inner.CompleteIdempotencyRecord(ctx, principal, key, status, body))
}

// DeleteIdempotencyRecord traces store.IdempotencyStore.DeleteIdempotencyRecord.
func (d *DB) DeleteIdempotencyRecord(ctx context.Context, principal, key string) error {
	ctx, tr := d.start(ctx, "DeleteIdempotencyRecord")
	return tr.end(d.Inner.DeleteIdempotencyRecord(ctx, principal, key))
}

// PruneIdempotencyRecords traces store.IdempotencyStore.PruneIdempotencyRecords.
func (d *DB) PruneIdempotencyRecords(ctx context.Context, before time.Time) (int64, error) {
	ctx, tr := d.start(ctx, "PruneIdempotencyRecords")
	v, err := d.Inner.PruneIdempotencyRecords(ctx, before)
	return v, tr.end(err)
}

// CreateToken traces store.TokenStore.CreateToken.
func (d *DB) CreateToken(ctx context.Context, r *store.TokenRecord) error {
	ctx, tr := d.start(ctx, "CreateToken")
	return tr.end(d.Inner.CreateToken(ctx, r))
}

// GetToken traces store.TokenStore.GetToken.
func (d *DB) GetToken(ctx context.Context, kind store.TokenKind, signature string) (*store.TokenRecord, error) {
	ctx, tr := d.start(ctx, "GetToken")
	v, err := d.Inner.GetToken(ctx, kind, signature)
	return v, tr.end(err)
}

// ReadTokens traces store.TokenBatchReader.ReadTokens.
func (d *DB) ReadTokens(ctx context.Context, kind store.TokenKind, signatures []string,
	fn func(signature []byte, active bool, data []byte) error) error {
	ctx, tr := d.start(ctx, "ReadTokens")
	return tr.end(d.Inner.ReadTokens(ctx, kind, signatures, fn))
}

// DeleteToken traces store.TokenStore.DeleteToken.
func (d *DB) DeleteToken(ctx context.Context, kind store.TokenKind, signature string) error {
	ctx, tr := d.start(ctx, "DeleteToken")
	return tr.end(d.Inner.DeleteToken(ctx, kind, signature))
}

// DeactivateToken traces store.TokenStore.DeactivateToken.
func (d *DB) DeactivateToken(ctx context.Context, kind store.TokenKind, signature string, at time.Time) (bool, error) {
	ctx, tr := d.start(ctx, "DeactivateToken")
	v, err := d.Inner.DeactivateToken(ctx, kind, signature, at)
	return v, tr.end(err)
}

// ListRequest traces store.TokenStore.ListRequest.
func (d *DB) ListRequest(ctx context.Context, kind store.TokenKind, requestID string) ([]*store.TokenRecord, error) {
	ctx, tr := d.start(ctx, "ListRequest")
	v, err := d.Inner.ListRequest(ctx, kind, requestID)
	return v, tr.end(err)
}

// DeactivateRequest traces store.TokenStore.DeactivateRequest.
func (d *DB) DeactivateRequest(ctx context.Context, kind store.TokenKind, requestID string, at time.Time) error {
	ctx, tr := d.start(ctx, "DeactivateRequest")
	return tr.end(d.Inner.DeactivateRequest(ctx, kind, requestID, at))
}

// DeleteRequest traces store.TokenStore.DeleteRequest.
func (d *DB) DeleteRequest(ctx context.Context, requestID string) error {
	ctx, tr := d.start(ctx, "DeleteRequest")
	return tr.end(d.Inner.DeleteRequest(ctx, requestID))
}

// SubjectRequests traces store.TokenStore.SubjectRequests.
func (d *DB) SubjectRequests(ctx context.Context, subject string) ([]string, error) {
	ctx, tr := d.start(ctx, "SubjectRequests")
	v, err := d.Inner.SubjectRequests(ctx, subject)
	return v, tr.end(err)
}

// DeleteExpiredTokens traces store.TokenStore.DeleteExpiredTokens.
func (d *DB) DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error) {
	ctx, tr := d.start(ctx, "DeleteExpiredTokens")
	v, err := d.Inner.DeleteExpiredTokens(ctx, before)
	return v, tr.end(err)
}

// ApplyTokenChanges traces store.TokenStore.ApplyTokenChanges.
func (d *DB) ApplyTokenChanges(ctx context.Context, changes []store.TokenChange) error {
	ctx, tr := d.start(ctx, "ApplyTokenChanges")
	return tr.end(d.Inner.ApplyTokenChanges(ctx, changes))
}

// RevokeJTI traces store.RevocationStore.RevokeJTI.
func (d *DB) RevokeJTI(ctx context.Context, jti string, expiresAt time.Time) error {
	ctx, tr := d.start(ctx, "RevokeJTI")
	return tr.end(d.Inner.RevokeJTI(ctx, jti, expiresAt))
}

// ListRevokedJTIs traces store.RevocationStore.ListRevokedJTIs.
func (d *DB) ListRevokedJTIs(ctx context.Context, now time.Time) ([]store.RevokedToken, error) {
	ctx, tr := d.start(ctx, "ListRevokedJTIs")
	v, err := d.Inner.ListRevokedJTIs(ctx, now)
	return v, tr.end(err)
}

// DeleteExpiredJTIs traces store.RevocationStore.DeleteExpiredJTIs.
func (d *DB) DeleteExpiredJTIs(ctx context.Context, before time.Time) (int64, error) {
	ctx, tr := d.start(ctx, "DeleteExpiredJTIs")
	v, err := d.Inner.DeleteExpiredJTIs(ctx, before)
	return v, tr.end(err)
}

// CreateUser traces store.UserStore.CreateUser.
func (d *DB) CreateUser(ctx context.Context, u *store.User) error {
	ctx, tr := d.start(ctx, "CreateUser")
	return tr.end(d.Inner.CreateUser(ctx, u))
}

// GetUser traces store.UserStore.GetUser.
func (d *DB) GetUser(ctx context.Context, id string) (*store.User, error) {
	ctx, tr := d.start(ctx, "GetUser")
	v, err := d.Inner.GetUser(ctx, id)
	return v, tr.end(err)
}

// GetUserByUsername traces store.UserStore.GetUserByUsername.
func (d *DB) GetUserByUsername(ctx context.Context, username string) (*store.User, error) {
	ctx, tr := d.start(ctx, "GetUserByUsername")
	v, err := d.Inner.GetUserByUsername(ctx, username)
	return v, tr.end(err)
}

// ListUsers traces store.UserStore.ListUsers.
func (d *DB) ListUsers(ctx context.Context, p store.Page) ([]*store.User, string, error) {
	ctx, tr := d.start(ctx, "ListUsers")
	v, next, err := d.Inner.ListUsers(ctx, p)
	return v, next, tr.end(err)
}

// UpdateUser traces store.UserStore.UpdateUser.
func (d *DB) UpdateUser(ctx context.Context, u *store.User) error {
	ctx, tr := d.start(ctx, "UpdateUser")
	return tr.end(d.Inner.UpdateUser(ctx, u))
}

// DeleteUser traces store.UserStore.DeleteUser.
func (d *DB) DeleteUser(ctx context.Context, id string) error {
	ctx, tr := d.start(ctx, "DeleteUser")
	return tr.end(d.Inner.DeleteUser(ctx, id))
}

// CountAdmins traces store.UserStore.CountAdmins.
func (d *DB) CountAdmins(ctx context.Context) (int, error) {
	ctx, tr := d.start(ctx, "CountAdmins")
	v, err := d.Inner.CountAdmins(ctx)
	return v, tr.end(err)
}

// CreateWebhook traces store.WebhookStore.CreateWebhook.
func (d *DB) CreateWebhook(ctx context.Context, w *store.Webhook) error {
	ctx, tr := d.start(ctx, "CreateWebhook")
	return tr.end(d.Inner.CreateWebhook(ctx, w))
}

// GetWebhook traces store.WebhookStore.GetWebhook.
func (d *DB) GetWebhook(ctx context.Context, id string) (*store.Webhook, error) {
	ctx, tr := d.start(ctx, "GetWebhook")
	v, err := d.Inner.GetWebhook(ctx, id)
	return v, tr.end(err)
}

// ListWebhooks traces store.WebhookStore.ListWebhooks.
func (d *DB) ListWebhooks(ctx context.Context, p store.Page) ([]*store.Webhook, string, error) {
	ctx, tr := d.start(ctx, "ListWebhooks")
	v, next, err := d.Inner.ListWebhooks(ctx, p)
	return v, next, tr.end(err)
}

// UpdateWebhook traces store.WebhookStore.UpdateWebhook.
func (d *DB) UpdateWebhook(ctx context.Context, w *store.Webhook) error {
	ctx, tr := d.start(ctx, "UpdateWebhook")
	return tr.end(d.Inner.UpdateWebhook(ctx, w))
}

// DeleteWebhook traces store.WebhookStore.DeleteWebhook.
func (d *DB) DeleteWebhook(ctx context.Context, id string) error {
	ctx, tr := d.start(ctx, "DeleteWebhook")
	return tr.end(d.Inner.DeleteWebhook(ctx, id))
}

// InTx traces store.Transactor.InTx: the calls fn makes with the context
// it receives are children of the transaction's span.
func (d *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, tr := d.start(ctx, "InTx")
	return tr.end(d.Inner.InTx(ctx, fn))
}

// Ping traces store.Store.Ping.
func (d *DB) Ping(ctx context.Context) error {
	ctx, tr := d.start(ctx, "Ping")
	return tr.end(d.Inner.Ping(ctx))
}

// Notify traces store.Events.Notify.
func (d *DB) Notify(ctx context.Context, channel, payload string) error {
	ctx, tr := d.start(ctx, "Notify")
	return tr.end(d.Inner.Notify(ctx, channel, payload))
}

// CheckSecretFingerprint traces store.SecretChecker.CheckSecretFingerprint.
func (d *DB) CheckSecretFingerprint(ctx context.Context, fp []byte) error {
	ctx, tr := d.start(ctx, "CheckSecretFingerprint")
	return tr.end(d.Inner.CheckSecretFingerprint(ctx, fp))
}

// CreateResource traces store.ResourceStore.CreateResource.
func (d *DB) CreateResource(ctx context.Context, r *store.Resource) error {
	ctx, tr := d.start(ctx, "CreateResource")
	return tr.end(d.Inner.CreateResource(ctx, r))
}

// GetResource traces store.ResourceStore.GetResource.
func (d *DB) GetResource(ctx context.Context, id string) (*store.Resource, error) {
	ctx, tr := d.start(ctx, "GetResource")
	v, err := d.Inner.GetResource(ctx, id)
	return v, tr.end(err)
}

// GetResourceByURI traces store.ResourceStore.GetResourceByURI.
func (d *DB) GetResourceByURI(ctx context.Context, uri string) (*store.Resource, error) {
	ctx, tr := d.start(ctx, "GetResourceByURI")
	v, err := d.Inner.GetResourceByURI(ctx, uri)
	return v, tr.end(err)
}

// ListResources traces store.ResourceStore.ListResources.
func (d *DB) ListResources(ctx context.Context, p store.Page) ([]*store.Resource, string, error) {
	ctx, tr := d.start(ctx, "ListResources")
	v, next, err := d.Inner.ListResources(ctx, p)
	return v, next, tr.end(err)
}

// UpdateResource traces store.ResourceStore.UpdateResource.
func (d *DB) UpdateResource(ctx context.Context, r *store.Resource) error {
	ctx, tr := d.start(ctx, "UpdateResource")
	return tr.end(d.Inner.UpdateResource(ctx, r))
}

// DeleteResource traces store.ResourceStore.DeleteResource.
func (d *DB) DeleteResource(ctx context.Context, id string) error {
	ctx, tr := d.start(ctx, "DeleteResource")
	return tr.end(d.Inner.DeleteResource(ctx, id))
}

// UseDPoPProof traces store.DPoPReplayStore.UseDPoPProof.
func (d *DB) UseDPoPProof(ctx context.Context, key string, expiresAt time.Time) (bool, error) {
	ctx, tr := d.start(ctx, "UseDPoPProof")
	v, err := d.Inner.UseDPoPProof(ctx, key, expiresAt)
	return v, tr.end(err)
}

// DeleteExpiredDPoPProofs traces store.DPoPReplayStore.DeleteExpiredDPoPProofs.
func (d *DB) DeleteExpiredDPoPProofs(ctx context.Context, before time.Time) (int64, error) {
	ctx, tr := d.start(ctx, "DeleteExpiredDPoPProofs")
	v, err := d.Inner.DeleteExpiredDPoPProofs(ctx, before)
	return v, tr.end(err)
}
