package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/glimpse-search/glimpse/photo"
	"github.com/glimpse-search/glimpse/searcher"
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
func (l *limiter) allow(ip string, cost int) (bool, time.Duration) {
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
	r := lim.ReserveN(now, min(cost, l.burst))
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// expensive guards the model-running endpoints: the per-client rate limit (429 with
// Retry-After), the whole body read and capped (readBody), then a slot among MaxConcurrent
// (waiting until the request's deadline). A slow client's upload never holds a slot.
func (s *Server) expensive(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.limit != nil {
			if ok, wait := s.limit.allow(c.RealIP(), requestCost(c)); !ok {
				s.metrics.rateLimited.WithLabelValues(c.Path()).Inc()
				secs := int(math.Ceil(wait.Seconds()))
				c.Response().Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
				return errorf(http.StatusTooManyRequests, CodeRateLimited,
					"too many requests from your address; retry in %d s", max(secs, 1))
			}
		}
		if err := s.readBody(c); err != nil {
			return err
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

// readBody reads a POST body into memory before the request may take a search slot: at most
// MaxUploadBytes plus the multipart slack for a multipart upload, MaxBodyBytes otherwise (413
// past it), within RequestTimeout of the request's start (a client sending a byte every few
// seconds gets 408 and holds nothing meanwhile but its own connection). At most 4 x
// MaxConcurrent bodies are read at once; more wait, until the request's deadline (503).
func (s *Server) readBody(c echo.Context) error {
	req := c.Request()
	if req.Method != http.MethodPost || req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	limit := s.o.MaxBodyBytes
	if strings.HasPrefix(strings.ToLower(req.Header.Get(echo.HeaderContentType)), "multipart/") {
		limit = s.o.MaxUploadBytes + multipartSlack
	}
	if err := limitBody(c, limit); err != nil {
		return err
	}
	ctx := req.Context()
	select {
	case s.bodies <- struct{}{}:
	case <-ctx.Done():
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "the server is busy reading other uploads; try again")
	}
	defer func() { <-s.bodies }()
	rc := http.NewResponseController(c.Response())
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(s.o.RequestTimeout)
	}
	_ = rc.SetReadDeadline(deadline) // unsupported by test recorders: then only ReadTimeout applies
	data, err := io.ReadAll(req.Body)
	if err != nil {
		// the connection is not reused: net/http would otherwise try to drain the rest of the
		// body before answering
		c.Response().Header().Set(echo.HeaderConnection, "close")
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return errorf(http.StatusRequestTimeout, CodeBadRequest,
				"the request body did not arrive within the server's time limit (%s)", s.o.RequestTimeout)
		}
		return bodyError(err)
	}
	_ = rc.SetReadDeadline(time.Time{})
	if err := s.precheckUpload(req, data); err != nil {
		return err
	}
	req.Body = io.NopCloser(bytes.NewReader(data))
	req.ContentLength = int64(len(data))
	return nil
}

// precheckUpload refuses the image of a multipart upload that fails the checks needing no
// decoding (photo.Check: format, caps from the header, a JPEG's scan count) before the
// request waits for a search slot, so a crafted file is answered at once however busy the
// server is. Anything it cannot parse is left to the handler, which says what is wrong.
func (s *Server) precheckUpload(req *http.Request, data []byte) error {
	_, params, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || params["boundary"] == "" {
		return nil
	}
	mr := multipart.NewReader(bytes.NewReader(data), params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil
		}
		if part.FormName() != "image" {
			continue
		}
		img, err := io.ReadAll(io.LimitReader(part, s.o.MaxUploadBytes+1))
		if err != nil || len(img) == 0 || int64(len(img)) > s.o.MaxUploadBytes {
			return nil
		}
		if _, err := photo.Check(img, s.o.Search.DecodeCaps); err != nil {
			return fmt.Errorf("searcher: query image: %w", err) // classified as 413 or 422
		}
		return nil
	}
}

// requestCost is what a request takes from its client's rate budget: one per searcher.DefaultK
// candidates to rerank (the ITM pairs are nearly all of a search's cost), at least one. k = 1024
// costs 8, a whole default burst: a client cannot buy 8 times the work at the price of one.
func requestCost(c echo.Context) int {
	k, err := strconv.Atoi(c.QueryParam("k"))
	if err != nil || k <= searcher.DefaultK {
		return 1
	}
	return (k + searcher.DefaultK - 1) / searcher.DefaultK
}
