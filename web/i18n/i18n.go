// Package i18n holds the message catalogues of Keyward's public pages and
// picks the language of a request: the first of the OpenID Connect
// ui_locales (Core §3.1.2.1) that a catalogue serves, else the best match
// of Accept-Language (RFC 9110 §12.5.4), else English.
//
// A catalogue is a JSON object from message key to text, one file per
// language under locales/. The key is the English text, as with gettext;
// text may hold fmt verbs (%s, %d) for the arguments the page passes.
// Every catalogue has the same keys (TestCatalogueKeys), and a key that
// a catalogue lacks renders as Missing(key), never as the key itself, so
// a test can find it.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

//go:embed locales/*.json
var locales embed.FS

// Default is the language of a request that asks for none that is served.
var Default = language.English

// Catalogues are the loaded message catalogues and the matcher over their
// languages. Its methods are safe for concurrent use.
type Catalogues struct {
	tags    []language.Tag               // Default first
	names   []string                     // tags' BCP 47 strings, same order
	msgs    map[string]map[string]string // language → key → text
	builder *catalog.Builder
	matcher language.Matcher
}

// Load reads the embedded catalogues, then those of overrides (a theme
// directory's locales/, may be nil): a file there replaces texts of, or
// adds keys to, the embedded catalogue of its language, or adds a
// language. It fails on a file that is not a JSON object of strings or
// whose name is not a language tag.
func Load(overrides fs.FS) (*Catalogues, error) {
	c := &Catalogues{msgs: map[string]map[string]string{}}
	if err := c.read(locales, "locales"); err != nil {
		return nil, err
	}
	if overrides != nil {
		if err := c.read(overrides, "."); err != nil {
			return nil, err
		}
	}
	if _, ok := c.msgs[Default.String()]; !ok {
		return nil, fmt.Errorf("i18n: no catalogue for %s", Default)
	}
	c.builder = catalog.NewBuilder(catalog.Fallback(Default))
	c.tags = []language.Tag{Default}
	for _, name := range slices.Sorted(maps.Keys(c.msgs)) {
		tag := language.MustParse(name)
		if tag != Default {
			c.tags = append(c.tags, tag)
		}
		for k, v := range c.msgs[name] {
			if err := c.builder.SetString(tag, k, v); err != nil {
				return nil, fmt.Errorf("i18n: %s: %q: %w", name, k, err)
			}
		}
	}
	for _, t := range c.tags {
		c.names = append(c.names, t.String())
	}
	c.matcher = language.NewMatcher(c.tags)
	return c, nil
}

func (c *Catalogues) read(fsys fs.FS, dir string) error {
	files, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".json")
		tag, err := language.Parse(name)
		if err != nil || tag.String() != name {
			return fmt.Errorf("i18n: %s: the file name is not a language tag such as de or pt-BR", f)
		}
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return err
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("i18n: %s: not a JSON object of strings: %w", f, err)
		}
		if c.msgs[name] == nil {
			c.msgs[name] = map[string]string{}
		}
		for k, v := range m {
			c.msgs[name][k] = v
		}
	}
	return nil
}

// Languages are the served languages' tags, English first (the
// ui_locales_supported of discovery).
func (c *Catalogues) Languages() []string { return slices.Clone(c.names) }

// Keys are the message keys of language lang, sorted (nil: not served).
func (c *Catalogues) Keys(lang string) []string {
	m, ok := c.msgs[lang]
	if !ok {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}

// Pick returns the printer of the language a request asks for:
// uiLocales is the space-separated ui_locales parameter (OpenID Connect
// Core §3.1.2.1), acceptLanguage the Accept-Language header. The first
// ui_locales tag that a catalogue serves wins; then the best
// Accept-Language match; else English. Malformed values are ignored.
func (c *Catalogues) Pick(uiLocales, acceptLanguage string) *Printer {
	for _, s := range strings.Fields(uiLocales) {
		if len(s) > 35 { // RFC 5646 §4.4.1: 35 characters hold any useful tag
			continue
		}
		tag, err := language.Parse(s)
		if err != nil {
			continue
		}
		if _, i, conf := c.matcher.Match(tag); conf >= language.High {
			return c.printer(i)
		}
	}
	if len(acceptLanguage) <= 1024 {
		if tags, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil && len(tags) > 0 {
			if _, i, conf := c.matcher.Match(tags...); conf >= language.High {
				return c.printer(i)
			}
		}
	}
	return c.printer(0)
}

// Printer returns the printer of the served language lang (English when
// lang is not served).
func (c *Catalogues) Printer(lang string) *Printer {
	if i := slices.Index(c.names, lang); i >= 0 {
		return c.printer(i)
	}
	return c.printer(0)
}

func (c *Catalogues) printer(i int) *Printer {
	return &Printer{Lang: c.names[i], msgs: c.msgs[c.names[i]],
		p: message.NewPrinter(c.tags[i], message.Catalog(c.builder))}
}

// Printer translates the messages of one language.
type Printer struct {
	// Lang is the BCP 47 tag of the language (<html lang>).
	Lang string
	msgs map[string]string
	p    *message.Printer
}

// Missing is what T renders for a key its catalogue lacks.
func Missing(key string) string { return "[MISSING " + key + "]" }

// T returns the text of key in p's language, formatted with args like
// fmt.Sprintf; Missing(key) when the catalogue lacks key.
func (p *Printer) T(key string, args ...any) string {
	if _, ok := p.msgs[key]; !ok {
		return Missing(key)
	}
	return p.p.Sprintf(key, args...)
}

// Has reports whether p's catalogue holds key.
func (p *Printer) Has(key string) bool {
	_, ok := p.msgs[key]
	return ok
}
