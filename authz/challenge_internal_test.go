package authz

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ory/fosite"
)

// TestTransientCookie: a sign-in accepted without remember leaves a
// session cookie without Max-Age or Expires; other cookies are untouched.
func TestTransientCookie(t *testing.T) {
	w := httptest.NewRecorder()
	http.SetCookie(w, &http.Cookie{Name: "kw_csrf", Value: "a", Path: "/", MaxAge: 3600})
	http.SetCookie(w, &http.Cookie{Name: "kw_session", Value: "b", Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteLaxMode, MaxAge: 3600})
	transientCookie(w.Header(), "kw_session")
	got := w.Header().Values("Set-Cookie")
	if len(got) != 2 || !strings.Contains(got[0], "Max-Age=3600") {
		t.Fatalf("other cookie changed: %q", got)
	}
	c, err := http.ParseSetCookie(got[1])
	if err != nil || c.Value != "b" || c.MaxAge != 0 || !c.Expires.IsZero() || !c.HttpOnly || !c.Secure ||
		c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Fatalf("session cookie %q: %+v %v", got[1], c, err)
	}
}

// TestUIErrorCodes: every code a rejection may carry reaches the client
// as itself.
func TestUIErrorCodes(t *testing.T) {
	for code := range uiErrors {
		e := fosite.ErrorToRFC6749Error(uiError(code, "why"))
		if e.ErrorField != code || e.HintField != "why" && code != "account_selection_required" {
			t.Errorf("uiError(%q) is %q (hint %q)", code, e.ErrorField, e.HintField)
		}
	}
}
