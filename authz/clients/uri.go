package clients

import (
	"errors"
	"net/url"
	"slices"
	"strings"
)

// ValidScopeToken reports whether s is a scope-token of RFC 6749 §3.3.
func ValidScopeToken(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return true
}

// ValidateRedirectURI checks a redirect URI for registration: absolute,
// no fragment (RFC 6749 §3.1.2), https or http on a loopback host (RFC
// 8252 §7.3), or a private-use scheme with a dot (RFC 8252 §7.1); never a
// scheme that runs code in the browser.
func ValidateRedirectURI(raw string) error {
	if len(raw) > 2048 {
		return errors.New("too long")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return errors.New("must be an absolute URI")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("must not have a fragment")
	}
	switch scheme := strings.ToLower(u.Scheme); {
	case scheme == "https":
		if u.Host == "" {
			return errors.New("needs a host")
		}
	case scheme == "http":
		if !IsLoopbackHost(u.Hostname()) {
			return errors.New("http is allowed only for loopback hosts; use https")
		}
	case slices.Contains([]string{"javascript", "data", "vbscript", "file", "blob", "about"}, scheme):
		return errors.New("scheme not allowed")
	case strings.Contains(scheme, "."):
		// Private-use URI scheme of a native app (reverse domain name).
	default:
		return errors.New("must be https, loopback http, or a reverse-domain private-use scheme")
	}
	return nil
}

// IsLoopbackHost reports whether host names the loopback interface the way
// a loopback redirect URI may (RFC 8252 §7.3, §8.3).
func IsLoopbackHost(host string) bool {
	return host == "127.0.0.1" || host == "::1" || host == "localhost"
}

// ValidateResourceURI checks a resource indicator: an absolute URI without
// a fragment (RFC 8707 §2), at most 2048 bytes, without spaces. The
// authorization and token endpoints answer invalid_target for one that
// fails; registration refuses it.
func ValidateResourceURI(raw string) error {
	if raw == "" || len(raw) > 2048 {
		return errors.New("must be 1 to 2048 characters")
	}
	if strings.ContainsAny(raw, " \t\r\n") {
		return errors.New("must not contain spaces")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return errors.New("must be an absolute URI (RFC 8707 §2)")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("must not have a fragment (RFC 8707 §2)")
	}
	if u.Opaque == "" && u.Host == "" && (u.Scheme == "http" || u.Scheme == "https") {
		return errors.New("needs a host")
	}
	return nil
}

// ValidateBackchannelLogoutURI checks a backchannel_logout_uri (OpenID
// Connect Back-Channel Logout 1.0 §2.2): absolute, https (http only to a
// loopback host, for development), with a host, and no fragment (a query
// is allowed).
func ValidateBackchannelLogoutURI(raw string) error {
	if len(raw) > 2048 {
		return errors.New("too long")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return errors.New("must be an absolute URI")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("must not have a fragment (Back-Channel Logout §2.2)")
	}
	if u.Host == "" || u.Opaque != "" || u.User != nil {
		return errors.New("needs a host and no user information")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !IsLoopbackHost(u.Hostname()) {
			return errors.New("http is allowed only for loopback hosts; use https")
		}
	default:
		return errors.New("must be https (or http to a loopback host)")
	}
	return nil
}

// ValidateLogoURI checks a client's logo_uri (RFC 7591 §2): empty, or an
// absolute https URL with a host, no user info and no fragment, of at
// most 2048 bytes. The consent page shows it, so nothing but https.
func ValidateLogoURI(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || len(raw) > 2048 || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" ||
		strings.ContainsAny(u.Host, " ;'\"") {
		return errors.New("must be an absolute https URL without user info or fragment")
	}
	return nil
}
