package authz

import (
	"net"
	"net/http"
	"time"
)

// UpstreamClientTimeout bounds every fetch from an upstream OpenID
// provider: discovery, JWKS, token and UserInfo requests.
const UpstreamClientTimeout = 10 * time.Second

// defaultUpstreamClient is the *http.Client for upstream providers when
// Config.UpstreamClient is nil: a plain client with time limits. The
// providers are configured by an administrator, not by a client, so no
// SSRF guard is needed yet; this one function is the seam where the
// guarded outbound fetcher (DESIGN.md: "one outbound fetcher") plugs in.
func defaultUpstreamClient() *http.Client {
	return &http.Client{
		Timeout: UpstreamClientTimeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: UpstreamClientTimeout,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
		},
	}
}
