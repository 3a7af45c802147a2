package main

import (
	"net/url"
	"testing"
)

// TestLoginForm: the bench signs in through the form that has a password
// input, sending its hidden fields and its first submit button as a
// browser does, not another form of the page.
func TestLoginForm(t *testing.T) {
	page := `<html><body>
<form method="post" action="/elsewhere"><input type="hidden" name="csrf_token" value="other"><button name="x" value="y">Go</button></form>
<form method="post" action="/login" autocomplete="on">
  <input type="hidden" name="csrf_token" value="c&amp;1">
  <input type="hidden" name="return_to" value="/oauth2/auth?a=b">
  <input id="username" name="username" type="text" value="">
  <input id="password" name="password" type="password">
  <button type="submit" name="action" value="login">Sign in</button>
  <button type="submit" name="action" value="other">Other</button>
</form></body></html>`
	action, fields, ok := loginForm(page)
	want := url.Values{"csrf_token": {"c&1"}, "return_to": {"/oauth2/auth?a=b"}, "username": {""}, "action": {"login"}}
	if !ok || action != "/login" || fields.Encode() != want.Encode() {
		t.Fatalf("loginForm = %q, %v, %v; want /login, %v", action, fields, ok, want)
	}
	if _, _, ok := loginForm(`<form action="/x"><input name="q"></form>`); ok {
		t.Error("a page without a password input gave a login form")
	}
}
