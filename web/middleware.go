package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// HeaderRequestID carries a request's id: taken from the request when it is a sane token,
// generated otherwise, and always echoed in the response.
const HeaderRequestID = "X-Request-Id"

const ctxRequestID = "glimpse.request_id"

func requestID(c echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}

// saneID accepts 1..64 characters of [A-Za-z0-9._-].
func saneID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		ok := r == '-' || r == '_' || r == '.' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}

// observe is the outermost middleware: request id, security headers, deadline, panic
// recovery, metrics and one log line per request.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		start := time.Now()
		req := c.Request()
		id := req.Header.Get(HeaderRequestID)
		if !saneID(id) {
			id = randomID(8)
		}
		c.Set(ctxRequestID, id)
		h := c.Response().Header()
		h.Set(HeaderRequestID, id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "+
			"script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		ctx, cancel := context.WithTimeout(req.Context(), s.o.RequestTimeout)
		defer cancel()
		c.SetRequest(req.WithContext(ctx))
		s.metrics.inflight.Inc()
		defer s.metrics.inflight.Dec()
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.o.Logger.Error("panic", "request_id", id, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = errorf(http.StatusInternalServerError, CodeInternal, "internal error; the server log has the details")
			}
			if err != nil {
				s.handleError(err, c)
			}
			route := c.Path()
			if route == "" || route == "/api/*" {
				route = "unmatched"
			}
			status := c.Response().Status
			d := time.Since(start)
			s.metrics.requests.WithLabelValues(req.Method, route, strconv.Itoa(status)).Inc()
			s.metrics.duration.WithLabelValues(req.Method, route).Observe(d.Seconds())
			lvl := slog.LevelInfo
			if status >= 500 {
				lvl = slog.LevelWarn
			}
			s.o.Logger.LogAttrs(context.Background(), lvl, "request",
				slog.String("request_id", id), slog.String("method", req.Method), slog.String("route", route),
				slog.Int("status", status), slog.Float64("duration_ms", float64(d.Microseconds())/1e3),
				slog.Int64("bytes", c.Response().Size), slog.String("client", c.RealIP()))
			err = nil // handled
		}()
		return next(c)
	}
}

// limitBody caps a request body: a declared length over max is refused before reading
// (413), and reading past max fails with *http.MaxBytesError (also 413).
func limitBody(c echo.Context, max int64) error {
	req := c.Request()
	if req.ContentLength > max {
		return errorf(http.StatusRequestEntityTooLarge, CodeTooLarge,
			"the request body is %d bytes, over the %d-byte limit", req.ContentLength, max)
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, max)
	return nil
}
