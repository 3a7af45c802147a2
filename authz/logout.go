package authz

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

// logout is the end_session_endpoint (OpenID Connect RP-Initiated Logout
// 1.0): GET asks the signed-in user to confirm, POST signs out, then the
// browser goes to post_logout_redirect_uri when it is registered for the
// client named by client_id or by the id_token_hint's audience.
func (b *browserFlow) logout(c *gin.Context) {
	ctx, r := c.Request.Context(), c.Request
	if !b.parsePageForm(c) {
		return
	}
	clientID := r.Form.Get("client_id")
	if hint := r.Form.Get("id_token_hint"); hint != "" {
		aud, ok := b.hintAudience(hint)
		if !ok {
			b.badRequestPage(c.Writer, c.Request, http.StatusBadRequest, "The id_token_hint is not an ID token of this server.")
			return
		}
		if clientID == "" {
			clientID = aud
		} else if clientID != aud {
			b.badRequestPage(c.Writer, c.Request, http.StatusBadRequest, "client_id does not match the id_token_hint.")
			return
		}
	}
	redirect := r.Form.Get("post_logout_redirect_uri")
	if redirect != "" {
		fc, err := b.clients.Get(ctx, clientID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			b.log.Warn("logout: store unavailable", "err", err)
			b.outagePage(c.Writer, c.Request)
			return
		}
		if err != nil || !slices.Contains(fc.PostLogoutRedirectURIs, redirect) {
			b.badRequestPage(c.Writer, c.Request, http.StatusBadRequest, "post_logout_redirect_uri is not registered for this client.")
			return
		}
	}
	who, err := b.currentUser(ctx, r)
	if err != nil {
		b.log.Warn("logout: store unavailable", "err", err)
		b.outagePage(c.Writer, c.Request)
		return
	}
	if r.Method == http.MethodGet && who != nil {
		csrf, err := b.csrfToken(c.Writer, r, "logout")
		if err != nil {
			c.Status(http.StatusInternalServerError)
			return
		}
		b.pages.render(c.Writer, c.Request, http.StatusOK, "logout.html", pageData{Title: tr("Sign out"), Username: who.user.Username,
			CSRF: csrf, ClientID: clientID, RedirectURI: redirect, State: r.Form.Get("state")}, redirect)
		return
	}
	if r.Method == http.MethodPost && who != nil && !b.checkCSRF(r, "logout") {
		b.pages.render(c.Writer, c.Request, http.StatusForbidden, "message.html", pageData{Title: tr("Request expired"), Message: tr("Please try signing out again.")})
		return
	}
	if err := b.endSession(ctx, c.Writer, r, who); err != nil {
		b.log.Warn("logout: store unavailable", "err", err)
		b.outagePage(c.Writer, c.Request)
		return
	}
	if redirect != "" {
		u, _ := url.Parse(redirect)
		if st := r.Form.Get("state"); st != "" {
			q := u.Query()
			q.Set("state", st)
			u.RawQuery = q.Encode()
		}
		http.Redirect(c.Writer, r, u.String(), http.StatusSeeOther)
		return
	}
	b.pages.render(c.Writer, c.Request, http.StatusOK, "logout.html", pageData{Title: tr("Signed out"), Done: true})
}

// hintAudience verifies an ID token of this issuer (expired is fine) and
// returns its first audience. Only an ID token will do (RP-Initiated
// Logout §2): ours have typ JWT and sub, aud, iat and exp (OIDC Core §2),
// so an access token (typ at+jwt, RFC 9068 §2.1) or another JWT signed by
// the same keys is refused.
func (b *browserFlow) hintAudience(token string) (string, bool) {
	if !isJWT(token) {
		return "", false
	}
	payload, _, err := b.signer.Verify(token)
	if err != nil {
		return "", false
	}
	if typ := signing.HeaderType(token); typ != "" && !strings.EqualFold(typ, "JWT") {
		return "", false
	}
	var claims struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Iat *float64        `json:"iat"`
		Exp *float64        `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Iss != b.issuer || claims.Sub == "" ||
		claims.Iat == nil || claims.Exp == nil {
		return "", false
	}
	ac := AccessClaims{Audience: claims.Aud}
	if auds := ac.Audiences(); len(auds) > 0 {
		return auds[0], true
	}
	return "", false
}
