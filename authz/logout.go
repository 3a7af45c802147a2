package authz

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/store"
)

// logout is the end_session_endpoint (OpenID Connect RP-Initiated Logout
// 1.0): GET asks the signed-in user to confirm, POST signs out, then the
// browser goes to post_logout_redirect_uri when it is registered for the
// client named by client_id or by the id_token_hint's audience.
func (p *Provider) logout(c *gin.Context) {
	ctx, r := c.Request.Context(), c.Request
	if !p.parsePageForm(c) {
		return
	}
	clientID := r.Form.Get("client_id")
	if hint := r.Form.Get("id_token_hint"); hint != "" {
		aud, ok := p.hintAudience(hint)
		if !ok {
			p.badRequestPage(c.Writer, http.StatusBadRequest, "The id_token_hint is not an ID token of this server.")
			return
		}
		if clientID == "" {
			clientID = aud
		} else if clientID != aud {
			p.badRequestPage(c.Writer, http.StatusBadRequest, "client_id does not match the id_token_hint.")
			return
		}
	}
	redirect := r.Form.Get("post_logout_redirect_uri")
	if redirect != "" {
		fc, err := p.clientCache.Get(ctx, clientID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			p.cfg.Logger.Warn("logout: store unavailable", "err", err)
			p.outagePage(c.Writer)
			return
		}
		if err != nil || !slices.Contains(fc.PostLogoutRedirectURIs, redirect) {
			p.badRequestPage(c.Writer, http.StatusBadRequest, "post_logout_redirect_uri is not registered for this client.")
			return
		}
	}
	who, err := p.currentUser(ctx, r)
	if err != nil {
		p.cfg.Logger.Warn("logout: store unavailable", "err", err)
		p.outagePage(c.Writer)
		return
	}
	if r.Method == http.MethodGet && who != nil {
		csrf, err := p.csrfToken(c.Writer, r, "logout")
		if err != nil {
			c.Status(http.StatusInternalServerError)
			return
		}
		p.pages.render(c.Writer, http.StatusOK, "logout.html", pageData{Title: "Sign out", Username: who.user.Username,
			CSRF: csrf, ClientID: clientID, RedirectURI: redirect, State: r.Form.Get("state")}, redirect)
		return
	}
	if r.Method == http.MethodPost && who != nil && !p.checkCSRF(r, "logout") {
		p.pages.render(c.Writer, http.StatusForbidden, "message.html", pageData{Title: "Request expired", Message: "Please try signing out again."})
		return
	}
	p.endSession(ctx, c.Writer, r)
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
	p.pages.render(c.Writer, http.StatusOK, "logout.html", pageData{Title: "Signed out", Done: true})
}

// hintAudience verifies an ID token of this issuer (expired is fine) and
// returns its first audience. Only an ID token will do (RP-Initiated
// Logout §2): ours have typ JWT and sub, aud, iat and exp (OIDC Core §2),
// so an access token (typ at+jwt, RFC 9068 §2.1) or another JWT signed by
// the same keys is refused.
func (p *Provider) hintAudience(token string) (string, bool) {
	if !isJWT(token) {
		return "", false
	}
	payload, _, err := p.cfg.Signer.Verify(token)
	if err != nil {
		return "", false
	}
	if typ := jwtType(token); typ != "" && !strings.EqualFold(typ, "JWT") {
		return "", false
	}
	var claims struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Iat *float64        `json:"iat"`
		Exp *float64        `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Iss != p.cfg.Issuer || claims.Sub == "" ||
		claims.Iat == nil || claims.Exp == nil {
		return "", false
	}
	ac := AccessClaims{Audience: claims.Aud}
	if auds := ac.Audiences(); len(auds) > 0 {
		return auds[0], true
	}
	return "", false
}
