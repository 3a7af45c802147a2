package authz

import "testing"

// TestOriginKey: redirect URIs and Origin headers meet on the RFC 6454
// serialization, with any port for loopback (RFC 8252 §7.3).
func TestOriginKey(t *testing.T) {
	for in, want := range map[string]string{
		"https://App.Example.com/cb?x=1":   "https://app.example.com",
		"https://app.example.com:443/cb":   "https://app.example.com",
		"https://app.example.com:8443/cb":  "https://app.example.com:8443",
		"http://127.0.0.1:9/callback":      "http://127.0.0.1",
		"http://127.0.0.1:5173":            "http://127.0.0.1",
		"http://[::1]:8080/cb":             "http://[::1]",
		"http://localhost/cb":              "http://localhost",
		"https://[2001:db8::1]:8443/cb":    "https://[2001:db8::1]:8443",
		"http://app.example.com:80":        "http://app.example.com",
		"com.example.app:/oauth2redirect":  "",
		"null":                             "",
		"https://user:pw@app.example.com/": "",
		"javascript:alert(1)":              "",
		"":                                 "",
	} {
		got, ok := originKey(in)
		if got != want || ok != (want != "") {
			t.Errorf("originKey(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
