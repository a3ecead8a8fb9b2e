package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Kind names a hub's protocol.
type Kind int

const (
	// HuggingFace speaks the Hugging Face hub's API (huggingface_hub's hf_hub_download and
	// snapshot_download): model info with blobs, the tree API, /resolve/ with LFS redirects.
	HuggingFace Kind = iota
	// ModelScope speaks ModelScope's /api/v1 file API (modelscope's snapshot_download).
	ModelScope
)

// Default endpoints, used when Options.Endpoint is empty.
const (
	DefaultHuggingFaceEndpoint = "https://huggingface.co"
	DefaultModelScopeEndpoint  = "https://www.modelscope.cn"
)

func (k Kind) String() string {
	switch k {
	case HuggingFace:
		return "huggingface"
	case ModelScope:
		return "modelscope"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// ParseKind reads "huggingface" (or "hf") and "modelscope" (or "ms").
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(s) {
	case "huggingface", "hf", "hugging-face":
		return HuggingFace, nil
	case "modelscope", "ms":
		return ModelScope, nil
	}
	return 0, fmt.Errorf("hub kind %q: want huggingface or modelscope: %w", s, ErrInput)
}

// Options configures a Client. The zero value downloads from huggingface.co with the defaults
// below.
type Options struct {
	// Kind is the hub's protocol. Default HuggingFace.
	Kind Kind
	// Endpoint is the hub's base URL, without a trailing slash. Default
	// DefaultHuggingFaceEndpoint or DefaultModelScopeEndpoint by Kind. A mirror goes here (the
	// command passes HF_ENDPOINT through; this package reads no environment).
	Endpoint string
	// Token, when set, is sent as "Authorization: Bearer <token>" to the endpoint's host only,
	// never to a host a redirect leads to (an LFS file's CDN URL is signed already).
	Token string
	// UserAgent is sent with every request. Default "glimpse-hub/1".
	UserAgent string
	// Transport sends the requests. Default: an http.Transport with Proxy, ConnectTimeout and
	// HeaderTimeout below, HTTP/2, and no transparent decompression (sizes must be exact).
	// Redirects are always followed by the Client itself, whatever the transport.
	Transport http.RoundTripper
	// Proxy picks the proxy for a request of the default Transport. Default
	// http.ProxyFromEnvironment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY).
	Proxy func(*http.Request) (*url.URL, error)
	// ConnectTimeout bounds the TCP connect and the TLS handshake of the default Transport.
	// Default 15s.
	ConnectTimeout time.Duration
	// HeaderTimeout bounds the wait for response headers once a request is sent (default
	// Transport). Default 30s.
	HeaderTimeout time.Duration
	// IdleTimeout fails a response body that delivers no byte for this long, so a server that
	// stops sending mid-file fails (ErrTimeout, retried like any transient error) instead of
	// hanging. Default 60s.
	IdleTimeout time.Duration
	// Retries is how many times a transient failure (no connection, HTTP 429 or 5xx, a body cut
	// short or stalled) is retried; a download resumes where it stopped. Default 3; negative
	// means none. A retry of a download that made progress does not count.
	Retries int
	// Backoff is the wait before the first retry, doubled for each next one and capped at
	// MaxBackoff; a Retry-After header, when sent, replaces it (also capped). Default 500ms.
	Backoff time.Duration
	// MaxBackoff caps one wait between retries. Default 30s.
	MaxBackoff time.Duration
	// Workers is how many files of a snapshot download at once. Default 4.
	Workers int
	// Progress, when set, receives the snapshot's progress at most every ProgressInterval and
	// once when it ends. Calls are serialised (never concurrent), from the downloading
	// goroutines: keep it quick. Default nil.
	Progress func(Progress)
	// ProgressInterval is the least time between two Progress calls. Default 250ms.
	ProgressInterval time.Duration
	// FreeSpace returns the bytes an unprivileged user may still write on the file system that
	// holds dir; a negative result means unknown and skips the check. Default: statfs(2) where
	// the platform has it, unknown elsewhere. A test seam.
	FreeSpace func(dir string) (int64, error)
	// MaxJSONBytes caps an API response body (a listing). Default 64 MiB.
	MaxJSONBytes int64
	// Logger receives retries and resumed downloads at Debug/Warn level. Default: discards.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Endpoint == "" {
		o.Endpoint = DefaultHuggingFaceEndpoint
		if o.Kind == ModelScope {
			o.Endpoint = DefaultModelScopeEndpoint
		}
	}
	o.Endpoint = strings.TrimRight(o.Endpoint, "/")
	if o.UserAgent == "" {
		o.UserAgent = "glimpse-hub/1"
	}
	if o.Proxy == nil {
		o.Proxy = http.ProxyFromEnvironment
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 15 * time.Second
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = 30 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 60 * time.Second
	}
	switch {
	case o.Retries == 0:
		o.Retries = 3
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 250 * time.Millisecond
	}
	if o.FreeSpace == nil {
		o.FreeSpace = freeSpace
	}
	if o.MaxJSONBytes <= 0 {
		o.MaxJSONBytes = 64 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Transport == nil {
		d := &net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}
		o.Transport = &http.Transport{
			Proxy:                 o.Proxy,
			DialContext:           d.DialContext,
			TLSHandshakeTimeout:   o.ConnectTimeout,
			ResponseHeaderTimeout: o.HeaderTimeout,
			ForceAttemptHTTP2:     true,
			DisableCompression:    true,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       90 * time.Second,
		}
	}
	return o
}

// backend is one hub's protocol: how to list a repository and where a file's bytes are.
type backend interface {
	defaultRevision() string
	list(ctx context.Context, repo, revision string) (*Listing, error)
	fileURL(l *Listing, f File) string
}

var (
	_ backend = (*huggingFace)(nil)
	_ backend = (*modelScope)(nil)
)

// Client lists and downloads repositories from one hub. It is safe for concurrent use; it owns
// no goroutine between calls (a Snapshot's workers end before it returns).
type Client struct {
	opts    Options
	http    *http.Client
	origin  string // scheme://host[:port] of the endpoint: the only host that gets the token
	backend backend
}

// New returns a Client for opts (see Options for the defaults).
func New(opts Options) (*Client, error) {
	opts = opts.withDefaults()
	u, err := url.Parse(opts.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q: want http(s)://host: %w", opts.Endpoint, ErrInput)
	}
	c := &Client{
		opts:   opts,
		origin: u.Scheme + "://" + u.Host,
		http: &http.Client{
			Transport: opts.Transport,
			// Redirects are followed by Client.open, which decides who gets the token.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	switch opts.Kind {
	case HuggingFace:
		c.backend = &huggingFace{c: c}
	case ModelScope:
		c.backend = &modelScope{c: c}
	default:
		return nil, fmt.Errorf("hub kind %v: %w", opts.Kind, ErrInput)
	}
	return c, nil
}

// Kind is the hub protocol the client speaks.
func (c *Client) Kind() Kind { return c.opts.Kind }

// Endpoint is the hub's base URL.
func (c *Client) Endpoint() string { return c.opts.Endpoint }

// List returns the files of repo at revision ("" means the hub's default branch: "main" on
// Hugging Face, "master" on ModelScope), with their sizes and digests, and the commit the
// revision resolved to.
func (c *Client) List(ctx context.Context, repo, revision string) (*Listing, error) {
	if revision == "" {
		revision = c.backend.defaultRevision()
	}
	if err := checkRevision(revision); err != nil {
		return nil, err
	}
	l, err := c.backend.list(ctx, repo, revision)
	if err != nil {
		return nil, fmt.Errorf("list %s@%s: %w", repo, revision, err)
	}
	return l, nil
}

const maxRedirects = 10

// open sends one request and follows its redirects. The token goes to the endpoint's own host
// only. The returned body fails with ErrTimeout when no byte arrives for IdleTimeout; closing it
// releases everything. Any status is returned as is: callers decide what is an error.
func (c *Client) open(ctx context.Context, method, rawURL string, hdr http.Header) (*http.Response, error) {
	rctx, cancel := context.WithCancelCause(ctx)
	cur := rawURL
	for hop := 0; ; hop++ {
		req, err := http.NewRequestWithContext(rctx, method, cur, nil)
		if err != nil {
			cancel(nil)
			return nil, fmt.Errorf("request %s: %v: %w", cur, err, ErrInput)
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		req.Header.Set("User-Agent", c.opts.UserAgent)
		req.Header.Set("Accept-Encoding", "identity")
		if c.opts.Token != "" && req.URL.Scheme+"://"+req.URL.Host == c.origin {
			req.Header.Set("Authorization", "Bearer "+c.opts.Token)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			cancel(nil)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &NetError{Method: method, URL: cur, Err: unwrapURLError(err)}
		}
		loc := resp.Header.Get("Location")
		if !isRedirect(resp.StatusCode) || loc == "" {
			resp.Body = newIdleBody(resp.Body, c.opts.IdleTimeout, rctx, cancel, cur)
			return resp, nil
		}
		drain(resp.Body)
		next, err := resp.Request.URL.Parse(loc)
		if err != nil || (next.Scheme != "http" && next.Scheme != "https") {
			cancel(nil)
			return nil, fmt.Errorf("%s %s: redirect to %q: %w", method, cur, loc, ErrBadResponse)
		}
		if hop >= maxRedirects {
			cancel(nil)
			return nil, fmt.Errorf("%s %s: more than %d redirects: %w", method, rawURL, maxRedirects, ErrBadResponse)
		}
		c.opts.Logger.Debug("hub redirect", "url", cur, "location", next.Redacted())
		cur = next.String()
	}
}

func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// unwrapURLError drops *url.Error's "Get "url": " prefix: NetError names the URL itself.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// drain reads a little of an unwanted body so its connection can be reused, then closes it.
func drain(rc io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, rc, 4<<10)
	_ = rc.Close()
}

// errStalled is the cancel cause of a request whose body went silent.
var errStalled = errors.New("idle timeout")

// idleBody is a response body whose request is cancelled when no byte arrives for idle.
type idleBody struct {
	rc     io.ReadCloser
	idle   time.Duration
	timer  *time.Timer
	ctx    context.Context
	cancel context.CancelCauseFunc
	url    string
}

func newIdleBody(rc io.ReadCloser, idle time.Duration, ctx context.Context, cancel context.CancelCauseFunc, u string) *idleBody {
	return &idleBody{rc: rc, idle: idle, ctx: ctx, cancel: cancel, url: u,
		timer: time.AfterFunc(idle, func() { cancel(errStalled) })}
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.timer.Reset(b.idle)
	}
	if err != nil && err != io.EOF && context.Cause(b.ctx) == errStalled {
		err = fmt.Errorf("no data from %s for %s: %w", b.url, b.idle, ErrTimeout)
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel(nil)
	return err
}

// statusError turns an error status into an *HTTPError with the hub's reason: Hugging Face's
// X-Error-Code / X-Error-Message headers, or a JSON body's Code / Message (ModelScope). It
// consumes and closes the body.
func statusError(method, u string, resp *http.Response) *HTTPError {
	defer resp.Body.Close()
	e := &HTTPError{Method: method, URL: u, Status: resp.StatusCode,
		Code: resp.Header.Get("X-Error-Code"), Message: resp.Header.Get("X-Error-Message"),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
	if e.Code == "" && e.Message == "" {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		e.Code, e.Message = parseErrorBody(body)
	}
	if len(e.Message) > 300 {
		e.Message = e.Message[:300] + "..."
	}
	return e
}

// retryable says whether err is transient: no connection, HTTP 408, 429 or 5xx, a body that broke
// off or stalled. The caller's own cancellation is not.
func retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Status == 408 || he.Status == 429 || he.Status >= 500
	}
	var ne *NetError
	var be bodyError
	return errors.As(err, &ne) || errors.As(err, &be)
}

// backoff waits before retry number attempt (0-based), or returns ctx's error.
func (c *Client) backoff(ctx context.Context, attempt int, retryAfter time.Duration) error {
	d := c.opts.Backoff
	for i := 0; i < attempt && d < c.opts.MaxBackoff; i++ {
		d *= 2
	}
	if retryAfter > 0 {
		d = retryAfter
	}
	d = min(d, c.opts.MaxBackoff)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// getBytes GETs an API URL and returns its body (capped at MaxJSONBytes), retrying transient
// failures.
func (c *Client) getBytes(ctx context.Context, u string) ([]byte, http.Header, error) {
	for attempt := 0; ; attempt++ {
		body, hdr, err := c.getOnce(ctx, u)
		if err == nil {
			return body, hdr, nil
		}
		if !retryable(err) || attempt >= c.opts.Retries {
			return nil, nil, err
		}
		c.opts.Logger.Warn("hub retry", "url", u, "attempt", attempt+1, "err", err)
		if werr := c.backoff(ctx, attempt, retryAfterOf(err)); werr != nil {
			return nil, nil, werr
		}
	}
}

func (c *Client) getOnce(ctx context.Context, u string) ([]byte, http.Header, error) {
	resp, err := c.open(ctx, http.MethodGet, u, http.Header{"Accept": {"application/json"}})
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, statusError(http.MethodGet, u, resp)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.MaxJSONBytes+1))
	if err != nil {
		return nil, nil, bodyError{url: u, err: err}
	}
	if int64(len(body)) > c.opts.MaxJSONBytes {
		return nil, nil, fmt.Errorf("GET %s: response over %s: %w", u, FormatBytes(c.opts.MaxJSONBytes), ErrBadResponse)
	}
	return body, resp.Header, nil
}

// bodyError is a response body that broke off (connection reset, cut short, stalled): transient.
type bodyError struct {
	url string
	err error
}

func (e bodyError) Error() string { return fmt.Sprintf("read %s: %v", e.url, e.err) }
func (e bodyError) Unwrap() error { return e.err }
