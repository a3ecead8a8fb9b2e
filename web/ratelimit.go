package web

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// Bookkeeping of the per-client limiters.
const (
	limiterIdle  = 10 * time.Minute // a client unseen this long is forgotten
	limiterSweep = time.Minute      // how often forgotten clients are dropped
	maxClients   = 100_000          // past this, everybody shares one limiter until a sweep
)

// limiter is a token bucket per client address. Safe for concurrent use.
type limiter struct {
	rate     rate.Limit
	burst    int
	loopback bool // exempt loopback clients
	now      func() time.Time

	mu        sync.Mutex
	clients   map[string]*bucket
	shared    *rate.Limiter // used while the map is full
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(r float64, burst int, exemptLoopback bool, now func() time.Time) *limiter {
	return &limiter{rate: rate.Limit(r), burst: burst, loopback: exemptLoopback, now: now,
		clients: map[string]*bucket{}, shared: rate.NewLimiter(rate.Limit(r), burst), lastSweep: now()}
}

// allow takes a token for client ip; when there is none it says how long until there is.
func (l *limiter) allow(ip string) (bool, time.Duration) {
	if l.loopback {
		if a := net.ParseIP(ip); a != nil && a.IsLoopback() {
			return true, 0
		}
	}
	now := l.now()
	l.mu.Lock()
	if now.Sub(l.lastSweep) >= limiterSweep {
		for k, b := range l.clients {
			if now.Sub(b.seen) >= limiterIdle {
				delete(l.clients, k)
			}
		}
		l.lastSweep = now
	}
	b := l.clients[ip]
	var lim *rate.Limiter
	switch {
	case b != nil:
		b.seen = now
		lim = b.lim
	case len(l.clients) >= maxClients:
		lim = l.shared
	default:
		lim = rate.NewLimiter(l.rate, l.burst)
		l.clients[ip] = &bucket{lim: lim, seen: now}
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// expensive guards the model-running endpoints: the per-client rate limit (429 with
// Retry-After), then a slot among MaxConcurrent (waiting until the request's deadline).
func (s *Server) expensive(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.limit != nil {
			if ok, wait := s.limit.allow(c.RealIP()); !ok {
				s.metrics.rateLimited.WithLabelValues(c.Path()).Inc()
				secs := int(math.Ceil(wait.Seconds()))
				c.Response().Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
				return errorf(http.StatusTooManyRequests, CodeRateLimited,
					"too many requests from your address; retry in %d s", max(secs, 1))
			}
		}
		ctx := c.Request().Context()
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			return errorf(http.StatusServiceUnavailable, CodeUnavailable,
				"the server is busy: no search slot came free before the request's time limit")
		}
		defer func() { <-s.slots }()
		return next(c)
	}
}
