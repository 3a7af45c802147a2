package outbound

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
)

// forbiddenPrefixes are the special-purpose ranges (RFC 6890 and its IANA
// registries) that the netip predicates in Forbidden do not already cover.
var forbiddenPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network" (RFC 791)
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments (RFC 6890)
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1 (RFC 5737)
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking (RFC 2544)
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated, RFC 4291 §2.5.5.1)
	netip.MustParsePrefix("100::/64"),        // discard-only (RFC 6666)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation (RFC 3849)
}

// embedsIPv4 are IPv6 ranges that carry an IPv4 address a gateway may
// route to: NAT64 (RFC 6052) in the last 32 bits, 6to4 (RFC 3056) in bits
// 16–47. The embedded address is checked like any other.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	nat64l    = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// Forbidden reports whether the guard refuses to connect to addr:
// loopback, private (RFC 1918, fc00::/7), link-local (169.254.0.0/16 with
// the 169.254.169.254 cloud metadata address, fe80::/10), unspecified,
// multicast, carrier-grade NAT, the other special-purpose ranges above,
// and IPv4 addresses hidden in IPv4-mapped, NAT64 or 6to4 IPv6 ones.
func Forbidden(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsUnspecified() ||
		addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() || addr.IsMulticast() ||
		addr.IsInterfaceLocalMulticast() {
		return true
	}
	for _, p := range forbiddenPrefixes {
		if p.Contains(addr) {
			return true
		}
	}
	if addr.Is6() {
		b := addr.As16()
		switch {
		case nat64.Contains(addr), nat64l.Contains(addr):
			return Forbidden(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case sixToFour.Contains(addr):
			return Forbidden(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	return false
}

// control is the net.Dialer Control hook: it sees the address actually
// being dialled, after name resolution, so a name that resolves to a
// forbidden address (first or on a later lookup) is refused.
func (f *Fetcher) control(network, address string, _ syscall.RawConn) error {
	if f.cfg.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, address)
	}
	if Forbidden(ap.Addr()) && (f.exemptPort == 0 || ap.Port() != f.exemptPort) {
		f.cfg.Logger.Debug("outbound: refused to dial", "network", network, "address", address)
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
	}
	return nil
}

// checkURL refuses what may not be fetched before any dial: a scheme
// other than https (http too with AllowPrivate), user info, no host, and
// a host that is itself a forbidden IP literal.
func (f *Fetcher) checkURL(u *url.URL) error {
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && f.cfg.AllowPrivate:
	default:
		return fmt.Errorf("%w: %q is not https", ErrForbiddenURL, u.Redacted())
	}
	if u.User != nil || u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%w: %q", ErrForbiddenURL, u.Redacted())
	}
	if f.cfg.AllowPrivate {
		return nil
	}
	host := strings.TrimSuffix(u.Hostname(), ".")
	if a, err := netip.ParseAddr(host); err == nil && Forbidden(a) &&
		(f.exemptPort == 0 || u.Port() != strconv.Itoa(int(f.exemptPort))) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, a)
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, host)
	}
	return nil
}
