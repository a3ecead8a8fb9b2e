package web

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/glimpse-search/glimpse/searcher"
)

// metrics are the server's Prometheus series.
type metrics struct {
	requests     *prometheus.CounterVec   // method, route, code
	duration     *prometheus.HistogramVec // method, route
	inflight     prometheus.Gauge
	stages       *prometheus.HistogramVec // stage
	rateLimited  *prometheus.CounterVec   // route
	authFailures prometheus.Counter
	jobs         *prometheus.CounterVec // state: jobs by final state
	handler      http.Handler
}

func newMetrics(o Options, s *Server) (*metrics, error) {
	reg := o.Registry
	var gather prometheus.Gatherer
	if reg == nil {
		r := prometheus.NewRegistry()
		if err := r.Register(collectors.NewGoCollector()); err != nil {
			return nil, err
		}
		if err := r.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
			return nil, err
		}
		reg, gather = r, r
	} else if g, ok := reg.(prometheus.Gatherer); ok {
		gather = g
	} else {
		gather = prometheus.DefaultGatherer
	}
	ms := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "glimpse_http_requests_total",
			Help: "HTTP requests by method, route and status code."}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "glimpse_http_request_duration_seconds",
			Help: "HTTP request latency by method and route.", Buckets: ms}, []string{"method", "route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "glimpse_http_requests_in_flight",
			Help: "HTTP requests being served."}),
		stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "glimpse_search_stage_seconds",
			Help:    "Time per search stage (tokenize, text_encode, image_encode, ann, fetch, token_encode, rerank, total).",
			Buckets: ms}, []string{"stage"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "glimpse_rate_limited_total",
			Help: "Requests refused by the per-client rate limit, by route."}, []string{"route"}),
		authFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "glimpse_auth_failures_total",
			Help: "Requests with a wrong API key."}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "glimpse_index_jobs_total",
			Help: "Index jobs by final state."}, []string{"state"}),
	}
	cs := []prometheus.Collector{m.requests, m.duration, m.inflight, m.stages, m.rateLimited, m.authFailures, m.jobs,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "glimpse_images", Help: "Indexed images (paths)."},
			func() float64 { return float64(s.lib.DB().ImageCount()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "glimpse_texts", Help: "Stored texts."},
			func() float64 { return float64(s.lib.DB().TextCount()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "glimpse_index_jobs_active", Help: "Queued or running index jobs."},
			func() float64 { return float64(s.jobs.active()) }),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.handler = promhttp.HandlerFor(gather, promhttp.HandlerOpts{})
	return m, nil
}

// observe records a search's stage timings (milliseconds).
func (m *metrics) observe(t searcher.Timings) {
	for _, st := range []struct {
		name string
		ms   float64
	}{{"tokenize", t.Tokenize}, {"text_encode", t.TextEncode}, {"image_encode", t.ImageEncode}, {"ann", t.ANN},
		{"fetch", t.Fetch}, {"token_encode", t.TokenEncode}, {"rerank", t.Rerank}, {"total", t.Total}} {
		if st.ms > 0 {
			m.stages.WithLabelValues(st.name).Observe(st.ms / 1e3)
		}
	}
}
