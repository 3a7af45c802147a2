package authz

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/store"
)

// deviceFlow is the device authorization grant (RFC 8628): the device
// authorization endpoint, the verification page where a person enters the
// user code, signs in and approves or denies, and the store of pending
// grants that the token endpoint's deviceGrantHandler polls.
type deviceFlow struct {
	issuer   string
	now      func() time.Time
	store    Store
	auth     *clientAuth
	limits   *limiter // the token endpoint's per-client limit
	clients  *clients.Cache
	codes    deviceCodes
	browser  *browserFlow // pages, cookies, CSRF tokens, sign-in
	guard    *accounts.LoginGuard
	ttl      time.Duration
	interval time.Duration
	auditor  *store.Auditor
	log      *slog.Logger
	// resources checks RFC 8707 resource parameters.
	resources *resourceIndicators
}

// deviceAuthResponse is the device authorization response (RFC 8628 §3.2).
type deviceAuthResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// authorize is the device authorization endpoint (RFC 8628 §3.1–3.2). The
// client authenticates as at the token endpoint (RFC 6749 §3.2.1), or
// names itself with client_id when it is public, and must be registered
// for the device_code grant; each requested scope must be one of the
// client's. The answer holds a fresh device code and user code, the
// verification page and the polling interval. Errors are RFC 6749 §5.2
// JSON; a store failure is 503 with Retry-After.
func (d *deviceFlow) authorize(c *gin.Context) {
	r := c.Request
	if !readForm(c) {
		return
	}
	clientID := claimedClient(r)
	if clientID == "" {
		c.Header("WWW-Authenticate", `Basic realm="keyward", charset="UTF-8"`)
		oauthError(c, http.StatusUnauthorized, "invalid_client", "Client authentication is required: HTTP Basic, or client_id in the body.")
		return
	}
	client, ok := d.auth.require(c, r.PostForm, false)
	if !ok {
		return
	}
	if d.limits.enabled() {
		key := "client:" + client.GetID()
		if client.IsPublic() {
			key = "public:" + client.GetID() + "|" + c.ClientIP()
		}
		ok, retry, remaining := d.limits.allow(key)
		d.limits.headers(c.Writer.Header(), ok, retry, remaining)
		if !ok {
			oauthError(c, http.StatusTooManyRequests, "slow_down", "Too many requests for this client; retry later.")
			return
		}
	}
	if !client.GetGrantTypes().Has(clients.GrantDeviceCode) {
		oauthError(c, http.StatusBadRequest, "unauthorized_client", "The client is not registered for the "+clients.GrantDeviceCode+" grant.")
		return
	}
	scopes := fosite.RemoveEmpty(strings.Split(r.PostForm.Get("scope"), " "))
	for _, s := range scopes {
		if !fosite.ExactScopeStrategy(client.GetScopes(), s) {
			oauthError(c, http.StatusBadRequest, "invalid_scope", "The client may not request the scope "+s+".")
			return
		}
	}
	scopes = slices.Compact(slices.Sorted(slices.Values(scopes)))
	audience := fosite.GetAudiences(r.PostForm)
	cl := client.(*fositeClient).c
	if err := checkAudienceParam(cl, audience); err != nil {
		oauthError(c, http.StatusBadRequest, "invalid_request", "The client may not request one of the audiences asked for.")
		return
	}
	// RFC 8707 resources, as at the authorization endpoint: they are the
	// grant's, and the token requests get (or narrow) them.
	uris, err := requestedResources(r.PostForm)
	if err == nil && len(uris) > 0 {
		var set *resources.Set
		if set, err = d.resources.check(c.Request.Context(), cl, uris); err == nil {
			for _, s := range scopes {
				if !set.Accepts(uris, s) {
					oauthError(c, http.StatusBadRequest, "invalid_scope", "The scope "+s+" is not one the requested resources accept.")
					return
				}
			}
		}
	}
	if err != nil {
		if storeFailure(err) {
			d.log.Warn("device authorization: store unavailable", "err", err)
			unavailable(c)
			return
		}
		e := fosite.ErrorToRFC6749Error(err)
		oauthError(c, http.StatusBadRequest, e.ErrorField, e.GetDescription())
		return
	}
	if len(audience) == 0 && len(uris) == 0 {
		audience = client.GetAudience()
	}
	resp, err := d.start(c, client.GetID(), scopes, audience, uris)
	if err != nil {
		d.log.Warn("device authorization: store unavailable", "err", err)
		unavailable(c)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	c.JSON(http.StatusOK, resp)
}

// start stores a new pending grant and returns the answer for the device.
// A user code already taken (by a live or not yet pruned grant) is drawn
// again.
func (d *deviceFlow) start(c *gin.Context, clientID string, scopes, audience, resources []string) (*deviceAuthResponse, error) {
	ctx := c.Request.Context()
	now := store.Truncate(d.now())
	for range 5 {
		device, err := d.codes.newDeviceCode()
		if err != nil {
			return nil, err
		}
		user, err := d.codes.newUserCode()
		if err != nil {
			return nil, err
		}
		g := &store.DeviceGrant{DeviceCodeDigest: d.codes.deviceDigest(device), UserCodeDigest: d.codes.userDigest(user),
			ClientID: clientID, Scopes: scopes, Audience: audience, Resources: resources, Interval: d.interval,
			CreatedAt: now, ExpiresAt: now.Add(d.ttl)}
		err = d.store.CreateDeviceGrant(ctx, g)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		shown := formatUserCode(user)
		return &deviceAuthResponse{
			DeviceCode: device, UserCode: shown,
			VerificationURI:         d.issuer + PathDevice,
			VerificationURIComplete: d.issuer + PathDevice + "?user_code=" + url.QueryEscape(shown),
			ExpiresIn:               int64(d.ttl / time.Second), Interval: int64(d.interval / time.Second),
		}, nil
	}
	return nil, errors.New("authz: no free user code after 5 draws")
}
