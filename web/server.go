package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/searcher"
	"github.com/glimpse-search/glimpse/store"
)

// Server is Glimpse's HTTP server over one data dir and one model. It is safe for concurrent
// use. It does not own the library or the model: close them after [Server.Close].
type Server struct {
	lib    *library.Library
	m      *encoder.Model
	info   store.ModelInfo
	s      *searcher.Searcher
	o      Options // defaults filled in
	e      *echo.Echo
	limit  *limiter      // nil: no rate limit
	slots  chan struct{} // MaxConcurrent expensive requests
	bodies chan struct{} // bodies of expensive requests read at once (readBody)
	jobs   *jobs
	texts  sync.Mutex // one POST /texts at a time
	fold   folderCache

	metrics  *metrics
	draining atomic.Bool // shutting down: /readyz answers 503
	probe    probeCache
}

// New returns a server over an open library and model, identified in the store by info (as
// the indexer identifies it: library.ModelInfo of the bundle). A namespace recorded with
// another model gives an error wrapping store.ErrModelMismatch.
func New(lib *library.Library, m *encoder.Model, info store.ModelInfo, o Options) (*Server, error) {
	if lib == nil || m == nil {
		return nil, errors.New("web: need a library and a model")
	}
	o = o.withDefaults()
	if o.Search.Thumb == nil {
		o.Search.Thumb = lib.ThumbPath
	}
	if o.Search.Logger == nil {
		o.Search.Logger = o.Logger
	}
	s, err := searcher.New(lib.DB(), m, info, o.Search)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if o.Instance == "" {
		o.Instance = randomID(8)
	}
	srv := &Server{lib: lib, m: m, info: info, s: s, o: o, slots: make(chan struct{}, o.MaxConcurrent),
		bodies: make(chan struct{}, 4*o.MaxConcurrent)}
	if !o.NoRateLimit {
		srv.limit = newLimiter(o.Rate, o.Burst, o.RateExemptLoopback, o.Now)
	}
	srv.jobs = newJobs(srv)
	if srv.metrics, err = newMetrics(o, srv); err != nil {
		return nil, fmt.Errorf("web: metrics: %w", err)
	}
	if err := srv.routes(); err != nil {
		return nil, err
	}
	return srv, nil
}

// Handler returns the server's routes (API, UI, health, metrics) with their middleware.
func (s *Server) Handler() http.Handler { return s.e }

// Instance is the id /healthz answers.
func (s *Server) Instance() string { return s.o.Instance }

// Searcher is the server's searcher.
func (s *Server) Searcher() *searcher.Searcher { return s.s }

// Serve answers requests on ln until ctx is done, then shuts down gracefully: /readyz turns
// not-ready, the listener closes, in-flight requests get ShutdownTimeout to finish, and
// running index jobs are cancelled (their batch under way is committed). It returns nil after
// a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.o.ReadTimeout,
		WriteTimeout:      s.o.WriteTimeout,
		IdleTimeout:       s.o.IdleTimeout,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          nil,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return fmt.Errorf("web: serve: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.o.Logger.Info("shutting down", "grace", s.o.ShutdownTimeout)
	s.jobs.cancelAll() // they commit the batch under way while requests drain
	sctx, cancel := context.WithTimeout(context.Background(), s.o.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	s.Close()
	<-errc // http.ErrServerClosed
	if err != nil {
		hs.Close()
		return fmt.Errorf("web: shutdown: %w", err)
	}
	return nil
}

// Close cancels the index jobs and waits for them to stop. The server answers 503 on /readyz
// afterwards; it does not close the library or the model.
func (s *Server) Close() error {
	s.draining.Store(true)
	s.jobs.close()
	return nil
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
