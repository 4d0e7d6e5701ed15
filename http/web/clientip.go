package web

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// clientIP is the address a request came from, as the login throttle
// counts it. Behind a reverse proxy every peer is the proxy, so when the
// peer is one of PARLEY_TRUSTED_PROXIES the client comes from
// X-Forwarded-For: the right-most address that is not itself a trusted
// proxy. Each proxy appends the address it received the request from, so
// that is the first address no trusted hop could have been lied to about;
// anything left of it was written by the client and is ignored (taking
// the left-most, as Fiber's ProxyHeader does, would let every attempt
// claim a fresh address). Any other peer's X-Forwarded-For is ignored.
func clientIP(c *fiber.Ctx, trusted []netip.Prefix) string {
	peer := c.Context().RemoteIP().String()
	if len(trusted) == 0 || !c.IsProxyTrusted() {
		return peer
	}
	var hops []string
	c.Request().Header.VisitAll(func(k, v []byte) {
		if strings.EqualFold(string(k), fiber.HeaderXForwardedFor) {
			hops = append(hops, strings.Split(string(v), ",")...)
		}
	})
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break // not an address: nothing left of it can be trusted
		}
		a = a.Unmap()
		client = a.String()
		if !inPrefixes(a, trusted) {
			break
		}
	}
	return client
}

// parseHop reads one X-Forwarded-For entry: a bare address, or one with a
// port ("203.0.113.7:5123", "[2001:db8::1]:443") or in brackets, as some
// proxies write them.
func parseHop(hop string) (netip.Addr, bool) {
	hop = strings.TrimSpace(hop)
	if a, err := netip.ParseAddr(hop); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(hop); err == nil {
		return ap.Addr(), true
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(hop, "["), "]")); err == nil {
		return a, true
	}
	return netip.Addr{}, false
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
