package web

import (
	"context"
	"io/fs"
	"log/slog"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/searcher"
)

// Defaults of Options.
const (
	DefaultMaxUploadBytes = 32 << 20 // an uploaded query image
	// DefaultMaxUploadDecodedBytes caps an uploaded image decoded (width x height x bytes per
	// pixel): 128 MiB is a 33-megapixel JPEG or a 16-megapixel 16-bit PNG. The indexer's cap for a
	// photo library is eight times that; a query image needs no more than the model's input.
	DefaultMaxUploadDecodedBytes = 128 << 20
	DefaultMaxBodyBytes          = 1 << 20   // a JSON body
	DefaultMaxTextsBytes         = 16 << 20  // a POST /texts body
	DefaultMaxQueryBytes         = 256 << 10 // a text query; longer texts are cut by the tokenizer anyway
	DefaultMaxTexts              = 10_000    // texts per POST /texts
	DefaultRequestTimeout        = 30 * time.Second
	DefaultReadTimeout           = 60 * time.Second
	DefaultWriteTimeout          = 120 * time.Second
	DefaultIdleTimeout           = 120 * time.Second
	DefaultShutdownTimeout       = 15 * time.Second
	DefaultRate                  = 4.0 // expensive requests per second per client
	DefaultBurst                 = 8
	DefaultExplainSide           = 512 // longest side of an explain heat map
	DefaultMaxJobs               = 16  // queued or running index jobs
	DefaultKeepJobs              = 100 // finished jobs remembered
	DefaultProbeInterval         = 10 * time.Second
)

// Options configures [New]. Zero fields take the documented defaults.
type Options struct {
	// Search configures the searcher (token cache, default K and limit, min score...).
	Search searcher.Options

	// Keys are the API keys that writes need (POST /texts, POST /index, GET and DELETE
	// /jobs/{id}, DELETE /images/{id}). Nil or empty: those endpoints answer 403.
	Keys *Keys
	// ReadKeys, when set, are keys that every other request needs too (searches, images,
	// thumbnails, folders, the UI; not /healthz and /readyz): a read key or a write key, as a
	// bearer token or a Basic password. Nil or empty (default): reads are open, as on a
	// loopback-only server.
	ReadKeys *Keys

	// MaxUploadBytes caps an uploaded image (default DefaultMaxUploadBytes = 32 MiB);
	// MaxBodyBytes a JSON body (default 1 MiB); MaxTextsBytes a POST /texts body (default
	// 16 MiB). Larger requests get 413 before they are read.
	MaxUploadBytes, MaxBodyBytes, MaxTextsBytes int64
	// MaxUploadDecodedBytes caps an uploaded image decoded, from its header before any pixel is
	// decoded (default DefaultMaxUploadDecodedBytes): a small file of many 16-bit pixels answers
	// 413 instead of taking a gigabyte. It sets Search.DecodeCaps.
	MaxUploadDecodedBytes int64
	// MaxQueryBytes caps a text query (default DefaultMaxQueryBytes = 256 KiB; the model
	// reads only its first tokens, the tokenizer cuts the rest).
	MaxQueryBytes int
	// MaxTexts caps the texts of one POST /texts (default DefaultMaxTexts).
	MaxTexts int

	// RequestTimeout is every request's context deadline (default 30s). A search still
	// running then answers 503.
	RequestTimeout time.Duration
	// ReadTimeout, WriteTimeout and IdleTimeout configure the http.Server of [Server.Serve]
	// (defaults 60s, 120s, 120s); ReadHeaderTimeout is 10s.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown of Serve (default 15s): in-flight requests
	// get that long to finish.
	ShutdownTimeout time.Duration

	// Rate and Burst limit the expensive endpoints (search, search/image, score, explain) per
	// client address: Rate requests per second with bursts of Burst (defaults 4 and 8).
	// NoRateLimit turns the limit off (load runs).
	Rate        float64
	Burst       int
	NoRateLimit bool
	// RateExemptLoopback exempts clients on the loopback interface from the rate limit.
	// Default false.
	RateExemptLoopback bool
	// MaxConcurrent bounds the expensive requests computing at once (default GOMAXPROCS);
	// the others wait for a slot until their deadline.
	MaxConcurrent int
	// TrustProxy takes the client address from X-Forwarded-For when the peer is a loopback
	// address or in TrustedProxies (a reverse proxy); any other peer's header is ignored, so a
	// client on the LAN cannot pick its own address to dodge the rate limit. Default false: the
	// connection's peer.
	TrustProxy bool
	// TrustedProxies are the CIDRs (or single addresses) of reverse proxies besides loopback
	// whose X-Forwarded-For TrustProxy believes. Invalid entries are an error of New.
	TrustedProxies []string

	// AllowedHosts are the host names (without port) that requests may name in their Host
	// header besides IP addresses and "localhost", which are always allowed. Any other name is
	// refused with 421: a web page on attacker.example that rebinds its DNS name to 127.0.0.1
	// could otherwise read a loopback server's photos. Serving under a name (a reverse proxy's
	// photos.example, a LAN host name) needs it here. Default: none.
	AllowedHosts []string

	// CORSOrigins are the origins allowed to call the API from a browser (e.g.
	// "https://photos.example"). Empty (default): no CORS headers, same-origin only.
	CORSOrigins []string

	// IndexRoots, when set, are the only folders POST /index may index (and their subfolders).
	// Default: any absolute path (the API key holder is trusted with the machine's files).
	IndexRoots []string
	// MaxJobs caps queued and running index jobs (default 16); KeepJobs is how many finished
	// jobs stay visible (default 100).
	MaxJobs, KeepJobs int

	// ExplainSide is the longest side of an explain PNG (default 512).
	ExplainSide int

	// UI is the browser interface served at "/" (index.html at its root). Nil: none.
	UI fs.FS

	// Instance is the id /healthz answers (client.ServerFile.Instance). Default: random.
	Instance string
	// ProbeInterval is how long a readiness check of the model is reused (default 10s).
	ProbeInterval time.Duration
	// ModelProbe checks that the model answers (default: encode a one-word text). A test seam.
	ModelProbe func(ctx context.Context) error

	// Registry receives the metrics (default: a new registry with the Go and process
	// collectors). /metrics serves it when it is also a prometheus.Gatherer (a
	// *prometheus.Registry is), else prometheus.DefaultGatherer.
	Registry prometheus.Registerer
	// Logger receives one line per request and warnings. Nil: silent.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxUploadBytes, DefaultMaxUploadBytes)
	def(&o.MaxUploadDecodedBytes, DefaultMaxUploadDecodedBytes)
	o.Search.DecodeCaps = encoder.ImageOptions{MaxBytes: o.MaxUploadBytes, MaxDecodedBytes: o.MaxUploadDecodedBytes,
		MaxPixels: o.MaxUploadDecodedBytes} // at least one byte a pixel: the decoded cap decides
	def(&o.MaxBodyBytes, DefaultMaxBodyBytes)
	def(&o.MaxTextsBytes, DefaultMaxTextsBytes)
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt(&o.MaxQueryBytes, DefaultMaxQueryBytes)
	defInt(&o.MaxTexts, DefaultMaxTexts)
	defInt(&o.Burst, DefaultBurst)
	defInt(&o.MaxConcurrent, runtime.GOMAXPROCS(0))
	defInt(&o.MaxJobs, DefaultMaxJobs)
	defInt(&o.KeepJobs, DefaultKeepJobs)
	defInt(&o.ExplainSide, DefaultExplainSide)
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur(&o.RequestTimeout, DefaultRequestTimeout)
	defDur(&o.ReadTimeout, DefaultReadTimeout)
	defDur(&o.WriteTimeout, DefaultWriteTimeout)
	defDur(&o.IdleTimeout, DefaultIdleTimeout)
	defDur(&o.ShutdownTimeout, DefaultShutdownTimeout)
	defDur(&o.ProbeInterval, DefaultProbeInterval)
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
