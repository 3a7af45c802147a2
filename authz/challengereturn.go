package authz

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ory/fosite"

	"github.com/keyward/keyward/store"
)

// uiReturn is where the browser comes back from an external UI (GET
// PathUIReturn?verifier=…): the verifier is taken up once, must come from
// the browser the challenge was issued to, and its outcome resumes the
// authorization request: a sign-in starts the browser session and returns
// to the authorization endpoint (which may then ask for consent); a
// consent grants the accepted scopes and issues the code; a rejection
// ends at the client's redirect URI with its error (RFC 6749 §4.1.2.1).
func (u *UIRequests) uiReturn(c *gin.Context) {
	b := u.b
	ctx, w, r := c.Request.Context(), c.Writer, c.Request
	v := c.Query("verifier")
	if v == "" || len(v) > 128 {
		b.badRequestPage(w, r, http.StatusBadRequest, "The sign-in link is incomplete.")
		return
	}
	ch, err := b.store.UseUIChallenge(ctx, u.digest("verifier", v), b.now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		b.uiExpired(w, r)
		return
	}
	if err != nil {
		b.log.Warn("ui return: store unavailable", "err", err)
		b.outagePage(w, r)
		return
	}
	var p pendingUI
	var o uiOutcome
	if json.Unmarshal([]byte(ch.Request), &p) != nil || json.Unmarshal([]byte(ch.Outcome), &o) != nil {
		b.uiExpired(w, r)
		return
	}
	// Only the browser the challenge was issued to may finish it: a
	// verifier sent to someone else signs nobody in.
	bind := b.parBinding(nil, r)
	if bind == nil || !equalMAC(p.Binding, bind("ui:"+ch.ID)) {
		b.pages.render(w, r, http.StatusForbidden, "message.html", pageData{Title: tr("Wrong browser"),
			Message: tr("This sign-in was started in another browser. Go back to the application and sign in again.")})
		return
	}
	returnTo := safeReturn(p.ReturnTo)
	if returnTo == "" {
		b.uiExpired(w, r)
		return
	}
	if ch.Kind == UILogin && o.Accepted {
		user, err := b.store.GetUser(ctx, o.UserID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			b.outagePage(w, r)
			return
		}
		if err != nil || user.Disabled {
			b.uiExpired(w, r)
			return
		}
		// The methods the app says it checked become the session's, so
		// the ID token's amr (and the acr derived from it) tell the truth
		// about this sign-in (RFC 8176).
		if err := b.sessions.StartAMR(ctx, w, r, user, o.AMR); err != nil {
			b.log.Warn("ui return: store unavailable", "err", err)
			b.outagePage(w, r)
			return
		}
		if !o.Remember {
			transientCookie(w.Header(), b.sessions.Cookie)
		}
		http.Redirect(w, r, returnTo, http.StatusSeeOther)
		return
	}
	// Re-validate the authorization request exactly as sent.
	orig, err := url.Parse(returnTo)
	if err != nil {
		b.badRequestPage(w, r, http.StatusBadRequest, "The authorization request could not be read.")
		return
	}
	areq := r.Clone(ctx)
	areq.Method = http.MethodGet
	areq.URL = &url.URL{Path: PathAuthorize, RawQuery: orig.RawQuery}
	areq.Form, areq.PostForm, areq.Body = nil, nil, http.NoBody
	ar, err := b.newAuthorizeRequest(ctx, nil, areq)
	if err != nil {
		b.authorizeError(ctx, w, r, ar, err)
		return
	}
	if !o.Accepted {
		b.authorizeError(ctx, w, r, ar, uiError(o.Error, o.ErrorDesc))
		return
	}
	who, err := b.currentUser(ctx, r)
	if err != nil {
		b.outagePage(w, r)
		return
	}
	if who == nil || who.user.ID != o.UserID {
		// Signed out (or in as someone else) since the consent was asked.
		http.Redirect(w, r, returnTo, http.StatusSeeOther)
		return
	}
	client := ar.GetClient().(*fositeClient).c
	if o.Remember && !isCIMDClientID(client.ID) {
		scopes := slices.Clone(o.GrantScope)
		if prev, err := b.store.GetConsent(ctx, who.user.ID, client.ID); err == nil {
			for _, s := range prev.Scopes {
				if !slices.Contains(scopes, s) {
					scopes = append(scopes, s)
				}
			}
		}
		if err := b.store.SaveConsent(ctx, &store.Consent{UserID: who.user.ID, ClientID: client.ID, Scopes: scopes}); err != nil {
			b.authorizeError(ctx, w, r, ar, fosite.ErrTemporarilyUnavailable.WithWrap(err))
			return
		}
	}
	// Only the scopes the person granted (issueCode grants the requested).
	ar.SetRequestedScopes(fosite.Arguments(o.GrantScope))
	b.issueCode(ctx, w, r, ar, who)
}

// uiErrors are the OAuth errors a headless UI may reject a request with
// (RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6), by code.
var uiErrors = map[string]*fosite.RFC6749Error{
	"access_denied":             fosite.ErrAccessDenied,
	"invalid_request":           fosite.ErrInvalidRequest,
	"unauthorized_client":       fosite.ErrUnauthorizedClient,
	"unsupported_response_type": fosite.ErrUnsupportedResponseType,
	"invalid_scope":             fosite.ErrInvalidScope,
	"server_error":              fosite.ErrServerError,
	"temporarily_unavailable":   fosite.ErrTemporarilyUnavailable,
	"interaction_required":      fosite.ErrInteractionRequired,
	"login_required":            fosite.ErrLoginRequired,
	"account_selection_required": {ErrorField: "account_selection_required",
		DescriptionField: "The End-User is required to select a session.", CodeField: http.StatusBadRequest},
	"consent_required": fosite.ErrConsentRequired,
}

// uiError is the fosite error of a rejection's code and description.
func uiError(code, desc string) error {
	e, ok := uiErrors[code]
	if !ok {
		e = fosite.ErrAccessDenied
	}
	if desc != "" {
		return e.WithHint(desc)
	}
	return e
}

func (b *browserFlow) uiExpired(w http.ResponseWriter, r *http.Request) {
	b.pages.render(w, r, http.StatusBadRequest, "message.html", pageData{Title: tr("Link expired"),
		Message: tr("This sign-in link was used already or has expired. Go back to the application and sign in again.")})
}

// transientCookie turns the cookie name just set in h into one the
// browser forgets when it closes (no Max-Age, no Expires): a sign-in the
// app accepted without remember. The server-side session keeps its TTL.
func transientCookie(h http.Header, name string) {
	lines := h.Values("Set-Cookie")
	for i, line := range lines {
		c, err := http.ParseSetCookie(line)
		if err != nil || c.Name != name || c.MaxAge <= 0 {
			continue
		}
		c.MaxAge, c.Expires = 0, time.Time{}
		lines[i] = c.String()
	}
}
