package authz

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"
	"github.com/ory/fosite"

	"github.com/keyward/keyward/store"
)

// showConsent renders the consent page for an authorization request.
func (b *browserFlow) showConsent(c *gin.Context, ar fosite.AuthorizeRequester, who *signedIn, returnTo string) {
	// The token approves this request only: a token of another consent
	// page cannot approve a request whose scopes the user never saw.
	csrf, err := b.csrfToken(c.Writer, c.Request, "consent", returnTo)
	if err != nil {
		b.authorizeError(c.Request.Context(), c.Writer, c.Request, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	client := ar.GetClient().(*fositeClient).c
	d := pageData{
		Title: tr("Allow access?"), Client: client.Name, Username: who.user.Username, CSRF: csrf,
		ReturnTo: returnTo, Scopes: describeScopes(ar.GetRequestedScopes()),
	}
	// The logo the client registered (https only, clients.ValidateLogoURI);
	// a metadata-document client's comes from its document below.
	d.ClientLogo = client.LogoURI
	d.UILocales = ar.GetRequestForm().Get("ui_locales")
	if u := ar.GetRedirectURI(); u != nil {
		d.ReturnHost = u.Host
		if d.ReturnHost == "" {
			d.ReturnHost = u.Scheme + ":"
		}
	}
	if isCIMDClientID(client.ID) && b.cimd != nil {
		// From the Fetcher's cache: checkCIMD resolved it a moment ago.
		if cc, err := b.cimd.resolve(c.Request.Context(), client.ID); err == nil {
			d.ClientHost, d.ClientLogo = cc.host, cc.logoURI
		}
	}
	b.pages.renderImg(c.Writer, c.Request, http.StatusOK, "consent.html", d, d.ClientLogo, client.RedirectURIs...)
}

// consent records the user's decision (POST /oauth2/consent) and finishes
// the authorization request: a code on "allow", access_denied on "deny".
// The CSRF token must be the one the consent page issued for this very
// return_to (the authorization request shown); any other answers 403 and
// grants nothing.
func (b *browserFlow) consent(c *gin.Context) {
	ctx, r := c.Request.Context(), c.Request
	if !b.parsePageForm(c) {
		return
	}
	returnTo := safeReturn(r.PostForm.Get("return_to"))
	if returnTo == "" || !b.checkCSRF(r, "consent", returnTo) {
		b.pages.render(c.Writer, c.Request, http.StatusForbidden, "message.html", pageData{Title: tr("Request expired"),
			Message: tr("This consent form expired. Go back to the application and sign in again.")})
		return
	}
	who, err := b.currentUser(ctx, r)
	if err != nil {
		b.log.Warn("consent: store unavailable", "err", err)
		b.outagePage(c.Writer, c.Request)
		return
	}
	if who == nil {
		http.Redirect(c.Writer, r, "/login?return_to="+url.QueryEscape(returnTo), http.StatusSeeOther)
		return
	}
	// Re-validate the original authorization request exactly as sent.
	orig, err := url.Parse(returnTo)
	if err != nil {
		b.badRequestPage(c.Writer, c.Request, http.StatusBadRequest, "The authorization request could not be read.")
		return
	}
	areq := r.Clone(ctx)
	areq.Method = http.MethodGet
	areq.URL = &url.URL{Path: "/oauth2/auth", RawQuery: orig.RawQuery}
	areq.Form, areq.PostForm, areq.Body = nil, nil, http.NoBody
	ar, err := b.newAuthorizeRequest(ctx, nil, areq)
	if err != nil {
		b.authorizeError(ctx, c.Writer, c.Request, ar, err)
		return
	}
	switch r.PostForm.Get("decision") {
	case "allow":
	case "deny":
		b.authorizeError(ctx, c.Writer, c.Request, ar, fosite.ErrAccessDenied.WithHint("The user denied the request."))
		return
	default:
		b.badRequestPage(c.Writer, c.Request, http.StatusBadRequest, "decision must be allow or deny.")
		return
	}
	client := ar.GetClient().(*fositeClient).c
	scopes := []string(ar.GetRequestedScopes())
	if prev, err := b.store.GetConsent(ctx, who.user.ID, client.ID); err == nil {
		for _, s := range prev.Scopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	// A metadata-document client (cimd.go) is not remembered: its
	// document, redirect URIs included, may change at any time, so the
	// person decides each time.
	if !isCIMDClientID(client.ID) {
		if err := b.store.SaveConsent(ctx, &store.Consent{UserID: who.user.ID, ClientID: client.ID, Scopes: scopes}); err != nil {
			b.authorizeError(ctx, c.Writer, c.Request, ar, fosite.ErrTemporarilyUnavailable.WithWrap(err))
			return
		}
	}
	if b.auditor != nil {
		_ = b.auditor.Record(store.WithActor(ctx, "user:"+who.user.ID), "consent.granted", client.ID,
			map[string]any{"scopes": scopes})
	}
	b.issueCode(ctx, c.Writer, c.Request, ar, who)
}
