package web

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/web/client"
)

// Ready answers GET /readyz.
type Ready struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"` // "store", "model": "ok" or what is wrong
	Reason string            `json:"reason,omitempty"`
	Model  ReadyModel        `json:"model"` // the model in use (the web interface's footer names it)
}

// ReadyModel names the model a server runs.
type ReadyModel struct {
	Name      string `json:"name"`
	Family    string `json:"family"`
	Precision string `json:"precision"` // fp32, int8 or fp16
	Rerank    bool   `json:"rerank"`    // the model has an ITM head
}

// healthz is GET /healthz: the process answers (liveness), with the instance id that
// server.json records.
func (s *Server) healthz(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, client.Health{Status: "ok", Instance: s.o.Instance})
}

// readyz is GET /readyz: 200 when searches can be answered, else 503 with the reason (the
// store cannot be read, the model does not answer, or the server is shutting down).
func (s *Server) readyz(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	man := s.m.Manifest
	prec := man.Precision
	if prec == "" {
		prec = encoder.PrecisionFP32
	}
	r := Ready{Ready: true, Checks: map[string]string{"store": "ok", "model": "ok"},
		Model: ReadyModel{Name: man.Name, Family: man.Family, Precision: prec, Rerank: s.m.HasITM()}}
	fail := func(check, why string) {
		r.Checks[check] = why
		if r.Ready {
			r.Reason = check + ": " + why
		}
		r.Ready = false
	}
	if s.draining.Load() {
		fail("server", "shutting down")
	}
	if _, _, err := s.lib.DB().Images(0, 1); err != nil {
		fail("store", fmt.Sprintf("the database cannot be read: %v", err))
	} else if err := s.lib.DB().Ping(c.Request().Context()); err != nil {
		fail("store", fmt.Sprintf("the vector backend does not answer: %v", err))
	}
	if err := s.probe.check(c.Request().Context(), s); err != nil {
		fail("model", fmt.Sprintf("the model does not answer: %v", err))
	}
	if !r.Ready {
		return c.JSON(http.StatusServiceUnavailable, r)
	}
	return c.JSON(http.StatusOK, r)
}

// probeCache runs the model probe at most once per ProbeInterval.
type probeCache struct {
	mu   sync.Mutex
	at   time.Time
	last error
}

func (p *probeCache) check(ctx context.Context, s *Server) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := s.o.Now()
	if !p.at.IsZero() && now.Sub(p.at) < s.o.ProbeInterval {
		return p.last
	}
	probe := s.o.ModelProbe
	if probe == nil {
		probe = func(ctx context.Context) error {
			_, err := s.m.Text.Encode(ctx, []string{"ready"}, encoder.TextOptions{})
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	p.last, p.at = probe(ctx), now
	return p.last
}
