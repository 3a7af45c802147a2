// Package web embeds the HTML templates and static files of Keyward's
// pages: login, consent, logout, device verification (RFC 8628) and error
// pages on the public listener, and the admin console. The pages use no
// inline script or style, so a strict Content-Security-Policy holds. A
// Theme (theme.go) brands the public pages and lets a directory replace
// their templates and static files; package i18n holds their messages.
package web

import (
	"embed"
	"io/fs"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

// Templates returns the page templates.
func Templates() fs.FS { return templates }

// Static returns the files served under /static/.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}
