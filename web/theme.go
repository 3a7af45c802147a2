package web

import (
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// DefaultProductName is the name the pages show when none is set.
const DefaultProductName = "Keyward"

// PublicTemplates are the templates of the public pages, each of which a
// theme may replace (docs/THEMING.md lists the data each receives).
var PublicTemplates = []string{
	"layout.html", "login.html", "consent.html", "logout.html", "device.html", "device_consent.html",
	"error.html", "message.html", "mfa.html", "upstream_continue.html", "account.html",
	"account_factors.html", "account_passkey.html", "account_self.html",
}

// Brand is what the public pages show of the deployment's identity.
type Brand struct {
	// ProductName is shown in every page's title and header ("" means
	// DefaultProductName).
	ProductName string
	// LogoURL is an https URL or a path under /static/ of an image shown
	// on every page ("" for none).
	LogoURL string
	// AccentColor is #rgb or #rrggbb: buttons, links and the header
	// ("" keeps the stylesheet's).
	AccentColor string
}

var accentPattern = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// CheckAccentColor reports an accent colour that is not #rgb or #rrggbb.
func CheckAccentColor(c string) error {
	if c != "" && !accentPattern.MatchString(c) {
		return fmt.Errorf("%q is not a colour in the form #rgb or #rrggbb", c)
	}
	return nil
}

// CheckLogoURL reports a logo URL that is neither an absolute https URL
// nor a path under /static/.
func CheckLogoURL(s string) error {
	if s == "" {
		return nil
	}
	if strings.HasPrefix(s, "/static/") {
		p := strings.TrimPrefix(s, "/static/")
		if !fs.ValidPath(p) || p == "." || strings.ContainsAny(s, "?#\\\"'<> ") {
			return fmt.Errorf("%q is not a file path under /static/", s)
		}
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" ||
		strings.ContainsAny(u.Host, " ;'\"") {
		return fmt.Errorf("%q must be an https URL or a path under /static/", s)
	}
	return nil
}

// Theme is the look of the public pages: the embedded templates and
// static files, any of which a theme directory may replace, and the brand.
type Theme struct {
	Brand Brand
	// dir is the theme directory ("" for none); templates, static and
	// locales its sub-directories (nil when absent).
	dir                        string
	templates, static, locales fs.FS
	css                        []byte // /static/theme.css
}

// NewTheme checks brand and the theme directory dir ("" for none), whose
// templates/NAME.html replace the page templates of the same name,
// static/FILE replace or add files under /static/, and locales/LANG.json
// replace or add message texts (see docs/THEMING.md). Templates are
// parsed by Pages, so a broken one fails there, before serving.
func NewTheme(dir string, brand Brand) (*Theme, error) {
	if brand.ProductName == "" {
		brand.ProductName = DefaultProductName
	}
	var errs []error
	if strings.TrimSpace(brand.ProductName) == "" || len(brand.ProductName) > 64 {
		errs = append(errs, fmt.Errorf("product name %q must be 1 to 64 characters, not all spaces", brand.ProductName))
	}
	if err := CheckAccentColor(brand.AccentColor); err != nil {
		errs = append(errs, fmt.Errorf("accent colour: %w", err))
	}
	if err := CheckLogoURL(brand.LogoURL); err != nil {
		errs = append(errs, fmt.Errorf("logo URL: %w", err))
	}
	t := &Theme{Brand: brand, dir: dir}
	if dir != "" {
		st, err := os.Stat(dir)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("theme directory: %w", err))
		case !st.IsDir():
			errs = append(errs, fmt.Errorf("theme directory: %s is not a directory", dir))
		default:
			t.templates = subdir(dir, "templates")
			t.static = subdir(dir, "static")
			t.locales = subdir(dir, "locales")
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if p, ok := strings.CutPrefix(brand.LogoURL, "/static/"); ok {
		if _, err := fs.Stat(t.Static(), p); err != nil {
			return nil, fmt.Errorf("logo URL: %s is not a file of the theme's or the built-in static files", brand.LogoURL)
		}
	}
	t.css = themeCSS(brand.AccentColor)
	return t, nil
}

func subdir(dir, name string) fs.FS {
	if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.IsDir() {
		return os.DirFS(filepath.Join(dir, name))
	}
	return nil
}

// Locales is the theme directory's locales/ (nil: none).
func (t *Theme) Locales() fs.FS { return t.locales }

// Static is the union of the theme's static files and the embedded ones,
// the theme's first.
func (t *Theme) Static() fs.FS {
	if t.static == nil {
		return Static()
	}
	return overlay{top: t.static, base: Static()}
}

// Parse parses the public page templates with funcs: the embedded ones,
// then each theme templates/NAME.html in place of the embedded NAME.html.
// An override that is not one of PublicTemplates, or does not parse, is
// an error naming its file.
func (t *Theme) Parse(funcs template.FuncMap) (*template.Template, error) {
	root := template.New("pages").Funcs(funcs)
	for _, name := range PublicTemplates {
		b, err := fs.ReadFile(templates, "templates/"+name)
		if err != nil {
			return nil, err
		}
		if t.templates != nil {
			if o, err := fs.ReadFile(t.templates, name); err == nil {
				b = o
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("theme: %s: %w", t.TemplatePath(name), err)
			}
		}
		if _, err := root.New(name).Parse(string(b)); err != nil {
			return nil, fmt.Errorf("theme: %s: %w", t.TemplatePath(name), err)
		}
	}
	if t.templates != nil {
		extra, err := fs.Glob(t.templates, "*")
		if err != nil {
			return nil, err
		}
		for _, name := range extra {
			if !slices.Contains(PublicTemplates, name) {
				return nil, fmt.Errorf("theme: %s: not a page template (the templates are %s)",
					filepath.Join(t.dir, "templates", name), strings.Join(PublicTemplates, ", "))
			}
		}
	}
	return root, nil
}

// TemplatePath names where template name comes from, for error messages.
func (t *Theme) TemplatePath(name string) string {
	if t.templates != nil {
		if _, err := fs.Stat(t.templates, name); err == nil {
			return filepath.Join(t.dir, "templates", name)
		}
	}
	return "built-in " + name
}

// StaticHandler serves the files under /static/ (mount it with the prefix
// stripped): /theme.css, generated from the accent colour unless the theme
// has its own, then the theme's files, then the embedded ones. It lists
// no directories.
func (t *Theme) StaticHandler() http.Handler {
	files := http.FileServerFS(t.Static())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if p == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		if st, err := fs.Stat(t.Static(), p); err == nil && st.IsDir() {
			http.NotFound(w, r)
			return
		}
		if p == "theme.css" && (t.static == nil || !exists(t.static, p)) {
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
			w.Header().Set("Content-Length", strconv.Itoa(len(t.css)))
			if r.Method != http.MethodHead {
				w.Write(t.css)
			}
			return
		}
		files.ServeHTTP(w, r)
	})
}

func exists(fsys fs.FS, name string) bool {
	_, err := fs.Stat(fsys, name)
	return err == nil
}

// themeCSS is /static/theme.css: the accent colour as the stylesheet's
// --accent custom property, so no page needs an inline style (the
// Content-Security-Policy allows none). --on-accent, the text on it, is
// white or near-black, whichever contrasts more; --accent-text, the accent
// as text on the page's card, is darkened (light scheme) or lightened
// (dark scheme) until it meets WCAG AA contrast (4.5:1).
func themeCSS(accent string) []byte {
	if accent == "" {
		return []byte("/* Keyward theme: no --accent-color set; style.css's colours apply. */\n")
	}
	hex := strings.TrimPrefix(strings.ToLower(accent), "#")
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	v, _ := strconv.ParseUint(hex, 16, 32)
	c := rgb{float64(v >> 16 & 0xff), float64(v >> 8 & 0xff), float64(v & 0xff)}
	white, dark := rgb{255, 255, 255}, rgb{0x10, 0x13, 0x1a}
	on := white
	if contrast(c, dark) > contrast(c, white) {
		on = dark
	}
	light := readableOn(c, rgb{0, 0, 0}, white)          // style.css's light --card
	night := readableOn(c, white, rgb{0x1c, 0x1e, 0x25}) // and dark --card
	return fmt.Appendf(nil, ":root { --accent: #%s; --on-accent: %s; --accent-text: %s; }\n"+
		"@media (prefers-color-scheme: dark) { :root { --accent-text: %s; } }\n", hex, on, light, night)
}

type rgb struct{ r, g, b float64 }

func (c rgb) String() string {
	return fmt.Sprintf("#%02x%02x%02x", int(math.Round(c.r)), int(math.Round(c.g)), int(math.Round(c.b)))
}

// luminance is WCAG 2's relative luminance.
func (c rgb) luminance() float64 {
	lin := func(v float64) float64 {
		v /= 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.r) + 0.7152*lin(c.g) + 0.0722*lin(c.b)
}

// contrast is WCAG 2's contrast ratio of a and b.
func contrast(a, b rgb) float64 {
	la, lb := a.luminance(), b.luminance()
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// readableOn mixes c toward toward until it has 4.5:1 contrast on bg.
func readableOn(c, toward, bg rgb) rgb {
	for t := 0.0; t <= 1; t += 0.05 {
		m := rgb{c.r + (toward.r-c.r)*t, c.g + (toward.g-c.g)*t, c.b + (toward.b-c.b)*t}
		if contrast(m, bg) >= 4.6 { // a margin over 4.5 for rounding
			return m
		}
	}
	return toward
}

// overlay is top's files, then base's.
type overlay struct{ top, base fs.FS }

func (o overlay) Open(name string) (fs.File, error) {
	if f, err := o.top.Open(name); err == nil {
		return f, nil
	}
	return o.base.Open(name)
}
