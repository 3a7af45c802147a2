package authz

import (
	"bytes"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/keyward/keyward/web"
	"github.com/keyward/keyward/web/i18n"
)

// TestEveryPageEveryLanguage renders every public page, with data that
// takes every branch of its template, in every served language, and fails
// on a message its catalogue lacks (i18n.Missing). In languages other than
// English, a page equal to its English rendering means a text was left
// untranslated.
func TestEveryPageEveryLanguage(t *testing.T) {
	p, err := newPages(nil)
	if err != nil {
		t.Fatal(err)
	}
	langs := p.cat.Languages()
	if !slices.Contains(langs, "de") || langs[0] != "en" {
		t.Fatalf("languages %v, want en first and de", langs)
	}
	rendered := map[string]bool{}
	for i, s := range samplePages() {
		english := ""
		for _, lang := range langs {
			d := s.data
			d.localize(p.cat.Printer(lang), web.Brand{ProductName: "Acme"})
			var buf bytes.Buffer
			if err := p.t.ExecuteTemplate(&buf, s.name, d); err != nil {
				t.Fatalf("%s #%d (%s): %v", s.name, i, lang, err)
			}
			out := buf.String()
			if strings.Contains(out, "[MISSING ") {
				t.Errorf("%s #%d (%s) shows a missing message: %s", s.name, i, lang, regexp.MustCompile(`\[MISSING [^\]]*\]`).FindString(out))
			}
			if !strings.Contains(out, `<html lang="`+lang+`">`) {
				t.Errorf("%s #%d (%s): no <html lang=%q>", s.name, i, lang, lang)
			}
			if lang == "en" {
				english = out
			} else if out == english {
				t.Errorf("%s #%d: the %s page is the English one", s.name, i, lang)
			}
		}
		rendered[s.name] = true
	}
	for _, name := range web.PublicTemplates {
		switch name {
		case "layout.html", "account_factors.html", "account_passkey.html", "account_self.html": // partials of the pages
		default:
			if !rendered[name] {
				t.Errorf("samplePages has no %s", name)
			}
		}
	}
}

// TestCatalogueKeys checks that every catalogue has exactly the keys of
// the English one, that every key the code (tr("…")) and the templates
// ({{.T "…"}}, {{.TB "…"}}) use is in it, and that it holds no key that
// nothing uses.
func TestCatalogueKeys(t *testing.T) {
	cat, err := i18n.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := cat.Keys("en")
	for _, lang := range cat.Languages() {
		got := cat.Keys(lang)
		if !slices.Equal(got, want) {
			t.Errorf("catalogue %s: keys differ from en's: only in %s %q, only in en %q", lang, lang, minus(got, want), minus(want, got))
		}
	}
	used := usedKeys(t)
	if missing := minus(used, want); len(missing) > 0 {
		t.Errorf("keys used but not in the catalogues: %q", missing)
	}
	if stale := minus(want, used); len(stale) > 0 {
		t.Errorf("catalogue keys nothing uses: %q", stale)
	}
	en := cat.Printer("en")
	for _, k := range want {
		if got := en.T(k); strings.Count(got, "%") != strings.Count(k, "%") {
			t.Errorf("en %q: the text has other verbs than the key: %q", k, got)
		}
	}
}

func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

var templateKey = regexp.MustCompile(`\.TB? ("(?:[^"\\]|\\.)*")`)

// usedKeys are the message keys of authz's tr("…") calls and of the
// public templates, sorted.
func usedKeys(t *testing.T) []string {
	keys := map[string]bool{}
	fset := token.NewFileSet()
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if id, isID := c.Fun.(*ast.Ident); !isID || id.Name != "tr" || len(c.Args) != 1 {
				return true
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			expr := string(src[fset.Position(c.Args[0].Pos()).Offset:fset.Position(c.Args[0].End()).Offset])
			tv, err := types.Eval(token.NewFileSet(), nil, token.NoPos, expr)
			if err != nil || tv.Value == nil || tv.Value.Kind() != constant.String {
				t.Errorf("%s: tr(%s): the key must be a string constant", fset.Position(c.Pos()), expr)
				return true
			}
			keys[constant.StringVal(tv.Value)] = true
			return true
		})
	}
	for _, name := range web.PublicTemplates {
		b := readTemplate(t, name)
		for _, m := range templateKey.FindAllStringSubmatch(string(b), -1) {
			s, err := strconv.Unquote(m[1])
			if err != nil {
				t.Fatal(err)
			}
			keys[s] = true
		}
	}
	return slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	})
}

func readTemplate(t *testing.T, name string) []byte {
	t.Helper()
	f, err := web.Templates().Open("templates/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTemplatesHaveNoLiteralText parses every public template as HTML and
// fails on text a person reads (text nodes, and the alt, title,
// placeholder, aria-label and value of buttons) that is not all template
// actions: such text would show in English whatever the language. Marks
// and punctuation between actions (·, parentheses) are allowed.
func TestTemplatesHaveNoLiteralText(t *testing.T) {
	action := regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	letters := regexp.MustCompile(`\p{L}`)
	check := func(name, where, s string) {
		if rest := action.ReplaceAllString(s, ""); letters.MatchString(rest) {
			t.Errorf("%s: literal text in %s: %q (put it through {{.T \"…\"}})", name, where, strings.TrimSpace(rest))
		}
	}
	// Every template but the console's, so a page added without being
	// listed (and translated) fails here too.
	all, err := fs.Glob(web.Templates(), "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range all {
		name := strings.TrimPrefix(path, "templates/")
		if strings.HasPrefix(name, "console_") {
			continue
		}
		if !slices.Contains(web.PublicTemplates, name) {
			t.Errorf("%s is not in web.PublicTemplates (and docs/THEMING.md)", name)
		}
		// Actions hold quotes that would end an attribute value early.
		src := action.ReplaceAll(readTemplate(t, name), []byte("#"))
		z := html.NewTokenizer(bytes.NewReader(src))
		inScript := false
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				if z.Err() != io.EOF {
					t.Fatalf("%s: %v", name, z.Err())
				}
				break
			}
			tok := z.Token()
			switch tt {
			case html.TextToken:
				if !inScript {
					check(name, "text", tok.Data)
				}
			case html.StartTagToken, html.SelfClosingTagToken:
				inScript = tok.Data == "script" || tok.Data == "style"
				for _, a := range tok.Attr {
					switch a.Key {
					case "alt", "title", "placeholder", "aria-label", "label":
						check(name, "<"+tok.Data+" "+a.Key+">", a.Val)
					}
				}
			case html.EndTagToken:
				inScript = false
			}
		}
	}
}

// TestLiteralCheckCatchesText makes sure the check above can fail.
func TestLiteralCheckCatchesText(t *testing.T) {
	action := regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	z := html.NewTokenizer(strings.NewReader(`<p>{{.T "Sign in"}} · {{.Username}}</p><p>Hello {{.Username}}</p>`))
	var flagged []string
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if tok := z.Token(); tt == html.TextToken && regexp.MustCompile(`\p{L}`).MatchString(action.ReplaceAllString(tok.Data, "")) {
			flagged = append(flagged, strings.TrimSpace(tok.Data))
		}
	}
	if !slices.Equal(flagged, []string{"Hello {{.Username}}"}) {
		t.Fatalf("flagged %q", flagged)
	}
}
