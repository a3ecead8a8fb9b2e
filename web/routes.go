package web

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// APIPrefix is where the REST API v1 lives.
const APIPrefix = "/api/v1"

// routes builds the echo instance: middleware, the API, health and metrics, the UI.
func (s *Server) routes() error {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	if s.o.TrustProxy {
		trust := []echo.TrustOption{echo.TrustLoopback(true), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, p := range s.o.TrustedProxies {
			n, err := parseCIDR(p)
			if err != nil {
				return fmt.Errorf("web: trusted proxy %q: %w", p, err)
			}
			trust = append(trust, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(trust...)
	}
	e.Use(s.observe)
	if len(s.o.CORSOrigins) > 0 {
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:  s.o.CORSOrigins,
			AllowMethods:  []string{http.MethodGet, http.MethodPost, http.MethodDelete},
			AllowHeaders:  []string{echo.HeaderAuthorization, echo.HeaderContentType, HeaderRequestID},
			ExposeHeaders: []string{HeaderRequestID, "Retry-After", HeaderPMatch, HeaderITC},
			MaxAge:        600,
		}))
	}
	e.Use(s.checkHost)   // after CORS, whose preflight answers carry no data
	e.Use(s.requireRead) // after checkHost: a rebinding page learns nothing, not even that a key is needed
	s.e = e

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(s.metrics.handler))

	api := e.Group(APIPrefix)
	api.GET("/openapi.json", s.openAPI)
	api.GET("/search", s.searchText, s.expensive)
	api.POST("/search/image", s.searchImage, s.expensive)
	api.POST("/score", s.score, s.expensive)
	api.GET("/explain", s.explain, s.expensive)
	api.GET("/images/:id", s.image)
	api.GET("/images/:id/meta", s.imageMeta)
	api.DELETE("/images/:id", s.deleteImage, s.requireKey)
	api.GET("/thumbs/:id", s.thumb)
	api.GET("/folders", s.folders)
	api.POST("/texts", s.addTexts, s.requireKey)
	api.POST("/index", s.startIndex, s.requireKey)
	api.GET("/jobs/:id", s.job, s.requireKey)
	api.DELETE("/jobs/:id", s.cancelJob, s.requireKey)
	api.GET("/backup", s.backup, s.requireKey)
	// Anything else under /api is a JSON 404 or 405, never the UI.
	e.Any("/api/*", s.noRoute)
	return s.mountUI()
}

// noRoute answers a request under /api that no route took: 405 with Allow when the path is an
// endpoint of another method, else 404.
func (s *Server) noRoute(c echo.Context) error {
	p := c.Request().URL.Path
	var allow []string
	for _, r := range s.e.Routes() {
		if r.Path != "/api/*" && r.Method != echo.RouteNotFound && matchRoute(r.Path, p) && !slices.Contains(allow, r.Method) {
			allow = append(allow, r.Method)
		}
	}
	if len(allow) > 0 {
		slices.Sort(allow)
		c.Response().Header().Set(echo.HeaderAllow, strings.Join(allow, ", "))
		return errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "%s does not take %s; it takes %s",
			clip(p), c.Request().Method, strings.Join(allow, ", "))
	}
	return errorf(http.StatusNotFound, CodeNotFound, "no such API endpoint; the list is at %s/openapi.json", APIPrefix)
}

// matchRoute reports whether a path matches a route pattern whose ":name" segments match any
// one segment.
func matchRoute(pattern, p string) bool {
	ps, qs := strings.Split(pattern, "/"), strings.Split(p, "/")
	if len(ps) != len(qs) {
		return false
	}
	for i := range ps {
		if ps[i] != qs[i] && !(strings.HasPrefix(ps[i], ":") && qs[i] != "") {
			return false
		}
	}
	return true
}

// parseCIDR reads "10.0.0.0/8" or a single address ("10.0.0.5": a /32 or /128).
func parseCIDR(s string) (*net.IPNet, error) {
	if _, n, err := net.ParseCIDR(s); err == nil {
		return n, nil
	}
	ip := net.ParseIP(s)
	if ip == nil {
		return nil, fmt.Errorf("not an address or CIDR")
	}
	bits := 128
	if ip.To4() != nil {
		ip, bits = ip.To4(), 32
	}
	return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}, nil
}
