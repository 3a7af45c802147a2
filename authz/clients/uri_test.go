package clients

import (
	"strings"
	"testing"
)

func TestValidateRedirectURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, uri string
		// wantErr is a substring of the error; "" means valid.
		wantErr string
	}{
		{"https", "https://app.example/cb", ""},
		{"https with port and query", "https://app.example:8443/cb?tenant=1", ""},
		{"upper-case scheme", "HTTPS://app.example/cb", ""},
		{"loopback IPv4 with port", "http://127.0.0.1:51004/cb", ""},
		{"loopback IPv6", "http://[::1]:8080/cb", ""},
		{"localhost", "http://localhost/cb", ""},
		{"private-use scheme, path form", "com.example.app:/oauth2redirect", ""},
		{"private-use scheme, authority form", "com.example.app://cb", ""},
		{"2048 bytes", "https://app.example/" + strings.Repeat("a", 2048-len("https://app.example/")), ""},
		{"2049 bytes", "https://app.example/" + strings.Repeat("a", 2049-len("https://app.example/")), "too long"},
		{"empty", "", "absolute"},
		{"relative", "/cb", "absolute"},
		{"unparsable", "https://app.example/%zz", "absolute"},
		{"fragment", "https://app.example/cb#state", "fragment"},
		{"empty fragment", "https://app.example/cb#", "fragment"},
		{"https without host", "https:///cb", "needs a host"},
		{"plain http", "http://app.example/cb", "loopback"},
		{"http on a name that starts with localhost", "http://localhost.evil.example/cb", "loopback"},
		{"http on another 127/8 address", "http://127.0.0.2/cb", "loopback"},
		{"http on the unspecified address", "http://0.0.0.0/cb", "loopback"},
		{"javascript", "javascript:alert(document.cookie)", "scheme not allowed"},
		{"data", "data:text/html,<script>alert(1)</script>", "scheme not allowed"},
		{"vbscript", "vbscript:msgbox", "scheme not allowed"},
		{"file", "file:///etc/passwd", "scheme not allowed"},
		{"blob", "blob:https://app.example/uuid", "scheme not allowed"},
		{"about", "about:blank", "scheme not allowed"},
		{"private-use scheme without a dot", "myapp:/cb", "reverse-domain"},
		{"ftp", "ftp://app.example/cb", "reverse-domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateRedirectURI(tt.uri)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("ValidateRedirectURI(%q) = %v; want nil", tt.uri, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("ValidateRedirectURI(%q) = %v; want an error containing %q", tt.uri, err, tt.wantErr)
			}
		})
	}
}

func TestIsLoopbackHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host string
		want bool
	}{
		{"127.0.0.1", true},
		{"::1", true},
		{"localhost", true},
		{"", false},
		{"[::1]", false},
		{"127.0.0.2", false},
		{"0.0.0.0", false},
		{"localhost.example", false},
		{"example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			t.Parallel()
			if got := IsLoopbackHost(tt.host); got != tt.want {
				t.Errorf("IsLoopbackHost(%q) = %v; want %v", tt.host, got, tt.want)
			}
		})
	}
}

func TestValidScopeToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, scope string
		want        bool
	}{
		{"word", "openid", true},
		{"colon and dot", "api.read:all", true},
		{"every allowed punctuation", "!#$%&'()*+,-./:;<=>?@[]^_`{|}~", true},
		{"256 bytes", strings.Repeat("s", 256), true},
		{"257 bytes", strings.Repeat("s", 257), false},
		{"empty", "", false},
		{"space", "a b", false},
		{"tab", "a\tb", false},
		{"double quote", `a"b`, false},
		{"backslash", `a\b`, false},
		{"DEL", "a\x7fb", false},
		{"non-ASCII", "café", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ValidScopeToken(tt.scope); got != tt.want {
				t.Errorf("ValidScopeToken(%q) = %v; want %v", tt.scope, got, tt.want)
			}
		})
	}
}

func TestValidateResourceURI(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ uri, wantErr string }{
		{"https://api.example", ""},
		{"https://api.example/orders?v=2", ""},
		{"http://127.0.0.1:8080/mcp", ""},
		{"urn:example:inventory", ""},
		{"", "1 to 2048"},
		{"https://api.example/" + strings.Repeat("a", 2048), "1 to 2048"},
		{"api.example/orders", "absolute"},
		{"//api.example/orders", "absolute"},
		{"/orders", "absolute"},
		{"https://api.example/#frag", "fragment"},
		{"https://api.example/#", "fragment"},
		{"https://api.example/a b", "spaces"},
		{"https://api.example/\n", "spaces"},
		{"https:///orders", "needs a host"},
		{"https://api.example/%zz", "absolute"},
	} {
		err := ValidateResourceURI(tc.uri)
		if tc.wantErr == "" && err != nil {
			t.Errorf("%q: %v, want valid", tc.uri, err)
		}
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%q: %v, want an error with %q", tc.uri, err, tc.wantErr)
		}
	}
}

func TestValidateBackchannelLogoutURI(t *testing.T) {
	for _, tc := range []struct {
		uri string
		ok  bool
	}{
		{"https://rp.example/logout", true},
		{"https://rp.example:8443/bc?tenant=a", true},
		{"http://127.0.0.1:9000/logout", true},
		{"http://localhost/logout", true},
		{"http://[::1]:80/logout", true},
		{"http://rp.example/logout", false},
		{"https://rp.example/logout#frag", false},
		{"https://rp.example/logout#", false},
		{"/logout", false},
		{"https:///logout", false},
		{"https://user:pw@rp.example/logout", false},
		{"com.example.app:/logout", false},
		{"javascript:alert(1)", false},
	} {
		err := ValidateBackchannelLogoutURI(tc.uri)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateBackchannelLogoutURI(%q) = %v, want ok=%v", tc.uri, err, tc.ok)
		}
	}
}
