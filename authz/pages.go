package authz

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/keyward/keyward/web"
)

// pages renders the embedded HTML templates with the security headers every
// page carries.
type pages struct {
	t *template.Template
}

func newPages() (*pages, error) {
	t, err := template.ParseFS(web.Templates(), "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &pages{t: t}, nil
}

// render writes the named page with status. formTargets are extra origins
// a form on the page may end up at after redirects (CSP form-action).
func (p *pages) render(w http.ResponseWriter, status int, name string, data any, formTargets ...string) {
	p.write(w, status, name, data, "", false, formTargets)
}

// renderImg is render for a page that also shows an image from
// imgOrigin (a client's https logo, see consent.go), which its
// Content-Security-Policy then allows.
func (p *pages) renderImg(w http.ResponseWriter, status int, name string, data any, imgOrigin string, formTargets ...string) {
	p.write(w, status, name, data, imgOrigin, false, formTargets)
}

// renderScripted is render for a page that loads scripts from /static
// (passkeys: WebAuthn needs JavaScript) and calls this server with fetch.
func (p *pages) renderScripted(w http.ResponseWriter, status int, name string, data any, formTargets ...string) {
	p.write(w, status, name, data, "", true, formTargets)
}

func (p *pages) write(w http.ResponseWriter, status int, name string, data any, imgOrigin string, scripts bool, formTargets []string) {
	var buf bytes.Buffer
	if err := p.t.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "page unavailable", http.StatusInternalServerError)
		return
	}
	securityHeaders(w.Header(), formTargets...)
	if src := cspSource(imgOrigin); strings.HasPrefix(src, "https://") {
		h := w.Header()
		h.Set("Content-Security-Policy", strings.Replace(h.Get("Content-Security-Policy"), "img-src 'self';", "img-src 'self' "+src+";", 1))
	}
	if scripts {
		csp := w.Header().Get("Content-Security-Policy")
		w.Header().Set("Content-Security-Policy", csp+"; script-src 'self'; connect-src 'self'")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// securityHeaders sets a strict Content-Security-Policy (no script at all),
// framing protection and no caching.
func securityHeaders(h http.Header, formTargets ...string) {
	formAction := "'self'"
	for _, t := range formTargets {
		if o := cspSource(t); o != "" {
			formAction += " " + o
		}
	}
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "+
		"form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

// cspSource returns the CSP source expression for a redirect URI's origin.
func cspSource(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return ""
	}
	if u.Host == "" {
		return strings.ToLower(u.Scheme) + ":"
	}
	if strings.ContainsAny(u.Host, " ;'\"") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// pageData is what every template reads.
type pageData struct {
	Title       string
	Error       string
	Message     string
	Detail      string
	Client      string
	Username    string
	CSRF        string
	ReturnTo    string
	Scopes      []scopeText
	Done        bool
	ClientID    string
	RedirectURI string
	State       string
	// Code is the error code of an error page (error.html).
	Code string
	// UserCode and Ticket are the device verification page's (RFC 8628).
	UserCode string
	Ticket   string
	// ClientHost is the host of a metadata-document client's client_id
	// URL, ClientLogo its https logo_uri, ReturnHost the host of the
	// redirect URI the answer goes to (consent.html).
	ClientHost, ClientLogo, ReturnHost string
	// Providers are the login page's "Sign in with …" links.
	Providers []providerLink
	// MFA is the second-step page's (mfa.html), Account the account
	// page's (account*.html).
	MFA     *mfaView
	Account *accountView
	// Passkeys: the issuer is a domain, so WebAuthn works (webauthn.go).
	Passkeys bool
}

type scopeText struct{ Name, Description string }

// scopeDescriptions says in plain words what each standard scope allows.
var scopeDescriptions = map[string]string{
	"openid":         "Sign you in with your Keyward account",
	"profile":        "See your name and username",
	"email":          "See your email address",
	"offline_access": "Stay signed in when you are away",
}

func describeScopes(scopes []string) []scopeText {
	out := make([]scopeText, 0, len(scopes))
	for _, s := range scopes {
		d, ok := scopeDescriptions[s]
		if !ok {
			d = "Use the permission “" + s + "”"
		}
		out = append(out, scopeText{Name: s, Description: d})
	}
	return out
}
