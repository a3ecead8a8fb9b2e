package web

import (
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// checkHost refuses a request whose Host header names a host that is neither an IP address,
// "localhost" nor one of Options.AllowedHosts (421 Misdirected Request), on every route: the
// defence against DNS rebinding, in which a page on attacker.example points its name at the
// server's address and reads the answers as same-origin.
func (s *Server) checkHost(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if host := c.Request().Host; !s.hostAllowed(host) {
			return errorf(http.StatusMisdirectedRequest, CodeBadRequest,
				"this server does not answer to the host name %q; start it with --allowed-host %s to serve it under that name",
				clip(host), clip(hostName(host)))
		}
		return next(c)
	}
}

// hostAllowed reports whether a Host header value may be served.
func (s *Server) hostAllowed(host string) bool {
	name := strings.ToLower(strings.TrimSuffix(hostName(host), "."))
	switch {
	case name == "":
		return false
	case net.ParseIP(name) != nil, name == "localhost":
		return true
	}
	return slices.ContainsFunc(s.o.AllowedHosts, func(h string) bool {
		return strings.EqualFold(strings.TrimSuffix(h, "."), name)
	})
}

// hostName is a Host header value without its port and IPv6 brackets.
func hostName(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}
