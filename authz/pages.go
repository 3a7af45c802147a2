package authz

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/web"
	"github.com/keyward/keyward/web/i18n"
)

// pages renders the public page templates (the embedded ones or a
// theme's, web.Theme) in the language a request asks for (i18n), with the
// security headers every page carries.
type pages struct {
	t     *template.Template
	theme *web.Theme
	cat   *i18n.Catalogues
	// logoOrigin is the https origin of the brand logo, which every
	// page's Content-Security-Policy then allows ("" for none or /static).
	logoOrigin string
}

// newPages parses theme's templates (nil: the built-in look) and its
// catalogues, then renders every page once in every language, so a
// broken template fails here, naming its file, and not at a request.
func newPages(theme *web.Theme) (*pages, error) {
	if theme == nil {
		var err error
		if theme, err = web.NewTheme("", web.Brand{}); err != nil {
			return nil, err
		}
	}
	cat, err := i18n.Load(theme.Locales())
	if err != nil {
		return nil, err
	}
	t, err := theme.Parse(nil)
	if err != nil {
		return nil, err
	}
	p := &pages{t: t, theme: theme, cat: cat}
	if strings.HasPrefix(theme.Brand.LogoURL, "https://") {
		p.logoOrigin = cspSource(theme.Brand.LogoURL)
	}
	for _, lang := range cat.Languages() {
		for _, s := range samplePages() {
			d := s.data
			d.localize(cat.Printer(lang), theme.Brand)
			if err := t.ExecuteTemplate(io.Discard, s.name, d); err != nil {
				// Name the file that failed: the page's, or a partial's
				// (layout.html…) that the error names.
				name := s.name
				for _, n := range web.PublicTemplates {
					if strings.Contains(err.Error(), "template: "+n+":") {
						name = n
						break
					}
				}
				return nil, fmt.Errorf("theme: %s: %w", theme.TemplatePath(name), err)
			}
		}
	}
	return p, nil
}

// printer picks the language of r: its ui_locales, or that of the
// authorization request in its return_to (so the login, second-step and
// consent pages after an authorization request keep its ui_locales),
// then Accept-Language (i18n.Catalogues.Pick).
// fallback is the ui_locales of a page whose request does not carry it
// (pageData.UILocales: a pushed authorization request's).
func (p *pages) printer(r *http.Request, fallback ...string) *i18n.Printer {
	if r == nil {
		return p.cat.Printer(i18n.Default.String())
	}
	ui := uiLocales(r)
	if ui == "" && len(fallback) > 0 {
		ui = fallback[0]
	}
	return p.cat.Pick(ui, r.Header.Get("Accept-Language"))
}

// uiLocales is the ui_locales of r's query or form, else of the
// authorization request named by its return_to.
func uiLocales(r *http.Request) string {
	q := r.URL.Query()
	if v := q.Get("ui_locales"); v != "" {
		return v
	}
	if v := r.PostForm.Get("ui_locales"); v != "" {
		return v
	}
	rt := q.Get("return_to")
	if rt == "" {
		rt = r.PostForm.Get("return_to")
	}
	return uiLocalesOf(rt)
}

// uiLocalesOf is the ui_locales of the relative URL rt ("" if none).
func uiLocalesOf(rt string) string {
	if rt == "" || len(rt) > 8192 {
		return ""
	}
	if u, err := url.Parse(rt); err == nil {
		return u.Query().Get("ui_locales")
	}
	return ""
}

// render writes the named page with status. formTargets are extra origins
// a form on the page may end up at after redirects (CSP form-action).
func (p *pages) render(w http.ResponseWriter, r *http.Request, status int, name string, data pageData, formTargets ...string) {
	p.write(w, r, status, name, data, "", false, formTargets)
}

// renderImg is render for a page that also shows an image from
// imgOrigin (a client's https logo, see consent.go), which its
// Content-Security-Policy then allows.
func (p *pages) renderImg(w http.ResponseWriter, r *http.Request, status int, name string, data pageData, imgOrigin string, formTargets ...string) {
	p.write(w, r, status, name, data, imgOrigin, false, formTargets)
}

// renderScripted is render for a page that loads scripts from /static
// (passkeys: WebAuthn needs JavaScript) and calls this server with fetch.
func (p *pages) renderScripted(w http.ResponseWriter, r *http.Request, status int, name string, data pageData, formTargets ...string) {
	p.write(w, r, status, name, data, "", true, formTargets)
}

func (p *pages) write(w http.ResponseWriter, r *http.Request, status int, name string, data pageData, imgOrigin string, scripts bool, formTargets []string) {
	data.localize(p.printer(r, data.UILocales), p.theme.Brand)
	var buf bytes.Buffer
	if err := p.t.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "page unavailable", http.StatusInternalServerError)
		return
	}
	securityHeaders(w.Header(), formTargets...)
	var imgs []string
	for _, o := range []string{p.logoOrigin, cspSource(imgOrigin)} {
		if strings.HasPrefix(o, "https://") && !slices.Contains(imgs, o) {
			imgs = append(imgs, o)
		}
	}
	if len(imgs) > 0 {
		h := w.Header()
		h.Set("Content-Security-Policy", strings.Replace(h.Get("Content-Security-Policy"), "img-src 'self';", "img-src 'self' "+strings.Join(imgs, " ")+";", 1))
	}
	if scripts {
		csp := w.Header().Get("Content-Security-Policy")
		w.Header().Set("Content-Security-Policy", csp+"; script-src 'self'; connect-src 'self'")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", data.Lang)
	w.Header().Add("Vary", "Accept-Language")
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

	// UILocales is the ui_locales of the authorization request a page
	// serves when the request does not carry it (a pushed request's);
	// the login form posts it back.
	UILocales string

	// Title, Message and Error are message keys (see tr) until render
	// translates them, Message with MessageArgs and Error with ErrorArgs.
	MessageArgs, ErrorArgs []any
	// Lang is the page's language (BCP 47), Brand the deployment's
	// product name, logo and accent colour; render sets both.
	Lang  string
	Brand web.Brand
	p     *i18n.Printer
}

// tr marks key as a message key of the catalogues (web/i18n/locales):
// the English text, which render translates. Keys of Go code are
// written tr("…") so that TestMessageKeys finds them.
func tr(key string) string { return key }

// localize translates d's message keys with p, and sets its language and
// brand.
func (d *pageData) localize(p *i18n.Printer, brand web.Brand) {
	d.p, d.Lang, d.Brand = p, p.Lang, brand
	d.Title = d.T(d.Title)
	if d.Message != "" {
		d.Message = d.T(d.Message, argsOf(d.Message, d.MessageArgs)...)
	}
	if d.Error != "" {
		d.Error = d.T(d.Error, argsOf(d.Error, d.ErrorArgs)...)
	}
	if d.Account != nil && len(d.Account.PasswordErrors) > 0 {
		// The password form's problems, by field (account_self.go).
		errs := make(map[string]string, len(d.Account.PasswordErrors))
		for k, v := range d.Account.PasswordErrors {
			errs[k] = d.T(v, argsOf(v, []any{accounts.MinPasswordLen, accounts.MaxPasswordLen})...)
		}
		v := *d.Account
		v.PasswordErrors = errs
		d.Account = &v
	}
	scopes := make([]scopeText, len(d.Scopes))
	for i, s := range d.Scopes {
		scopes[i] = s
		if s.known && s.Name == "openid" {
			scopes[i].Description = d.T(s.Description, brand.ProductName)
		} else if s.known {
			scopes[i].Description = d.T(s.Description)
		} else {
			scopes[i].Description = d.T(s.Description, s.Name)
		}
	}
	d.Scopes = scopes
}

// argsOf is args when key has verbs, else none (a message whose form
// has no number takes no argument).
func argsOf(key string, args []any) []any {
	if !strings.Contains(key, "%") {
		return nil
	}
	return args
}

// T is the text of message key in the page's language, formatted with
// args (fmt verbs); a template calls it as {{.T "Sign in"}}.
func (d pageData) T(key string, args ...any) string {
	if d.p == nil {
		return key
	}
	return d.p.T(key, args...)
}

// TB is T for a text with HTML markup: each argument is escaped and set
// in <strong>, e.g. {{.TB "to continue to %s" .Client}}.
func (d pageData) TB(key string, args ...any) template.HTML {
	marks := make([]any, len(args))
	for i := range args {
		marks[i] = fmt.Sprintf("\x02%d\x03", i)
	}
	s := template.HTMLEscapeString(d.T(key, marks...))
	for i, a := range args {
		s = strings.Replace(s, fmt.Sprintf("\x02%d\x03", i), "<strong>"+template.HTMLEscapeString(fmt.Sprint(a))+"</strong>", 1)
	}
	return template.HTML(s)
}

// scopeText is a scope and, in words, what it allows; Description is a
// message key until render translates it.
type scopeText struct {
	Name, Description string
	known             bool
}

// scopeDescriptions says in plain words what each standard scope allows
// (message keys; openid's takes the product name).
var scopeDescriptions = map[string]string{
	"openid":         tr("Sign you in with your %s account"),
	"profile":        tr("See your name and username"),
	"email":          tr("See your email address"),
	"offline_access": tr("Stay signed in when you are away"),
}

func describeScopes(scopes []string) []scopeText {
	out := make([]scopeText, 0, len(scopes))
	for _, s := range scopes {
		d, ok := scopeDescriptions[s]
		if !ok {
			d = tr("Use the permission “%s”")
		}
		out = append(out, scopeText{Name: s, Description: d, known: ok})
	}
	return out
}
