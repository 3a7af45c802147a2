package client_test

import (
	"strings"
	"testing"

	"github.com/keyward/keyward/admin/client"
)

// TestNewRefusesPlainHTTPOffLoopback: the admin token goes over plain http
// only to this machine; anywhere else New asks for https.
func TestNewRefusesPlainHTTPOffLoopback(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8081", "http://[::1]:8081/admin/v1", "http://localhost:8081",
		"https://keyward.example", "https://10.0.0.5:8081"} {
		if _, err := client.New(ok, "token"); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://keyward.example", "http://10.0.0.5:8081", "http://127.0.0.1.example"} {
		if _, err := client.New(bad, "token"); err == nil || !strings.Contains(err.Error(), "https") {
			t.Errorf("%s: %v, want a refusal naming https", bad, err)
		}
	}
}
