package main

import (
	"net"
	"net/url"
	"runtime"
)

// BuildDate is set at build time with -ldflags "-X main.BuildDate=…"
// (RFC 3339); empty in a plain `go build`.
var BuildDate = ""

// buildInfo is what `keyward version` prints: the version, commit and
// date injected at build (see the Makefile and Dockerfile), or what the
// Go toolchain recorded.
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	BuildDate string `json:"build_date,omitempty"`
	Go        string `json:"go"`
}

func currentBuild() buildInfo {
	return buildInfo{Version: Version, Commit: buildCommit(), BuildDate: BuildDate, Go: runtime.Version()}
}

// publishedAdminURL is the admin base URL to print: when the admin
// listener is bound to every address (0.0.0.0 or ::, as in a container),
// the host people reach it by is the issuer's, not the bind address.
func publishedAdminURL(adminURL, issuer string) string {
	a, err := url.Parse(adminURL)
	if err != nil {
		return adminURL
	}
	host, port, err := net.SplitHostPort(a.Host)
	if err != nil {
		return adminURL
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
		return adminURL
	}
	iss, err := url.Parse(issuer)
	if err != nil || iss.Hostname() == "" {
		return adminURL
	}
	a.Host = net.JoinHostPort(iss.Hostname(), port)
	return a.String()
}
