package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/internal/instance"
	"github.com/glimpse-search/glimpse/searcher"
	"github.com/glimpse-search/glimpse/web"
	"github.com/glimpse-search/glimpse/web/client"
	"github.com/glimpse-search/glimpse/web/ui"
)

// DefaultAddr is --addr: loopback only.
const DefaultAddr = "127.0.0.1:8080"

// serveFlags are the server's flags.
type serveFlags struct {
	data, addr, keyFile      string
	readKeyFile              string
	mf                       openFlags
	cors, roots, hosts       cli.ListFlag
	proxies                  cli.ListFlag
	rate                     float64
	burst, maxUploadMB       int
	maxDecodedMB             int
	exemptLoopback, trustXFF bool
	requestTimeout           time.Duration
	tokens                   string
	cacheMB                  int64
	logFormat, logLevel      string
}

func (sf *serveFlags) register(fset *flag.FlagSet) {
	fset.StringVar(&sf.data, "data", "", cli.DataFlagHelp("data dir the server owns, created when missing"))
	fset.StringVar(&sf.addr, "addr", DefaultAddr, "listen address; the default takes loopback only")
	fset.StringVar(&sf.keyFile, "api-key-file", "", "file of API keys, one per line, for texts, index jobs and deletes (without it those are refused)")
	fset.StringVar(&sf.readKeyFile, "read-key-file", "", "file of read keys: with it every search, image and page needs a read or API key (bearer token or Basic password; health checks stay open)")
	sf.mf.model.Register(fset, "the model, which must be the indexing model")
	fset.Var(&sf.hosts, "allowed-host", "host name the server may be reached by besides IP addresses and localhost (repeatable; e.g. photos.example behind a proxy)")
	fset.Var(&sf.cors, "cors-origin", "origin allowed to call the API from a browser (repeatable; default none: CORS off)")
	fset.Var(&sf.roots, "index-root", "folder that index jobs may read (repeatable; default: any folder, for key holders)")
	fset.Float64Var(&sf.rate, "rate", web.DefaultRate, "searches, scores and explains per second per client address; 0 turns the limit off")
	fset.IntVar(&sf.burst, "burst", web.DefaultBurst, "burst of the per-client rate limit")
	fset.BoolVar(&sf.exemptLoopback, "rate-exempt-loopback", false, "do not rate limit clients on the loopback interface")
	fset.BoolVar(&sf.trustXFF, "trust-proxy", false, "take the client address from X-Forwarded-For sent by a reverse proxy on loopback or a --trusted-proxy")
	fset.Var(&sf.proxies, "trusted-proxy", "address or CIDR of a reverse proxy whose X-Forwarded-For is believed (repeatable; implies --trust-proxy)")
	fset.IntVar(&sf.maxUploadMB, "max-upload-mb", web.DefaultMaxUploadBytes>>20, "largest uploaded query image in MiB")
	fset.IntVar(&sf.maxDecodedMB, "max-upload-decoded-mb", web.DefaultMaxUploadDecodedBytes>>20,
		"largest uploaded query image decoded (width x height x bytes per pixel), in MiB")
	fset.DurationVar(&sf.requestTimeout, "request-timeout", web.DefaultRequestTimeout, "deadline of every request")
	fset.StringVar(&sf.tokens, "tokens", string(searcher.DefaultTokens), "candidate image tokens for the rerank: cache or recompute")
	fset.Int64Var(&sf.cacheMB, "cache-mb", 1024, "token cache budget in MiB")
	fset.StringVar(&sf.logFormat, "log-format", "text", "log format: text or json")
	fset.StringVar(&sf.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	sf.mf.store.Register(fset)
}

func (sf *serveFlags) validate() error {
	if err := sf.mf.model.Validate(); err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(sf.addr); err != nil {
		return cli.Usagef("--addr %q: want HOST:PORT, e.g. %s", sf.addr, DefaultAddr)
	}
	switch {
	case sf.rate < 0 || sf.burst < 1:
		return cli.Usagef("--rate must be >= 0 and --burst >= 1")
	case sf.maxUploadMB < 1 || sf.maxDecodedMB < 1 || sf.cacheMB < 1:
		return cli.Usagef("--max-upload-mb, --max-upload-decoded-mb and --cache-mb must be >= 1")
	case sf.requestTimeout <= 0:
		return cli.Usagef("--request-timeout must be positive")
	case sf.logFormat != "text" && sf.logFormat != "json":
		return cli.Usagef("--log-format %q: want text or json", sf.logFormat)
	}
	if _, err := searcher.ParseTokenStrategy(sf.tokens); err != nil {
		return cli.Usagef("--tokens %q: want %s or %s", sf.tokens, searcher.TokensCache, searcher.TokensRecompute)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(sf.logLevel)); err != nil {
		return cli.Usagef("--log-level %q: want debug, info, warn or error", sf.logLevel)
	}
	for i, r := range sf.roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			return cli.Usagef("--index-root %q: %v", r, err)
		}
		sf.roots[i] = abs
	}
	return nil
}

func (sf *serveFlags) logger(stderr io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(sf.logLevel))
	ho := &slog.HandlerOptions{Level: lvl}
	if sf.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(stderr, ho))
	}
	return slog.New(slog.NewTextHandler(stderr, ho))
}

// options turns the flags into the server's options.
func (sf *serveFlags) options(keys *web.Keys, log *slog.Logger) web.Options {
	return web.Options{
		Search:                searcher.Options{Tokens: searcher.TokenStrategy(sf.tokens), CacheBudget: sf.cacheMB << 20},
		Keys:                  keys,
		MaxUploadBytes:        int64(sf.maxUploadMB) << 20,
		MaxUploadDecodedBytes: int64(sf.maxDecodedMB) << 20,
		RequestTimeout:        sf.requestTimeout,
		Rate:                  sf.rate,
		Burst:                 sf.burst,
		NoRateLimit:           sf.rate == 0,
		RateExemptLoopback:    sf.exemptLoopback,
		TrustProxy:            sf.trustXFF || len(sf.proxies) > 0,
		TrustedProxies:        sf.proxies,
		CORSOrigins:           sf.cors,
		AllowedHosts:          sf.hosts,
		IndexRoots:            sf.roots,
		UI:                    ui.FS,
		Logger:                log,
	}
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var sf serveFlags
	fset := cli.NewFlags("server", usageServe, stderr)
	sf.register(fset)
	if err := cli.ParseNoArgs(fset, args); err != nil {
		return err
	}
	if err := sf.validate(); err != nil {
		return err
	}
	log := sf.logger(stderr)
	var keys *web.Keys
	if sf.keyFile != "" {
		var err error
		if keys, err = readKeys(sf.keyFile, "--api-key-file", log); err != nil {
			return err
		}
	} else {
		log.Warn("no --api-key-file: texts, index jobs and deletes are refused")
	}
	opts := sf.options(keys, log)
	if sf.readKeyFile != "" {
		var err error
		if opts.ReadKeys, err = readKeys(sf.readKeyFile, "--read-key-file", log); err != nil {
			return err
		}
	} else if host, _, _ := net.SplitHostPort(sf.addr); !instance.IsLoopback(host) {
		log.Warn("listening beyond loopback without --read-key-file: anyone who reaches the address sees the photos")
	}
	dir := cli.DataDir(sf.data)
	in, err := instance.Open(dir, &sf.mf.model, &sf.mf.store, opts)
	if err != nil {
		return err
	}
	defer in.Close()
	ln, err := net.Listen("tcp", sf.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if host, _, _ := net.SplitHostPort(sf.addr); !instance.IsLoopback(host) {
		log.Warn("listening beyond loopback: anyone who reaches this address can search; put TLS in front",
			"addr", ln.Addr().String())
	}
	u := instance.ClientURL(ln.Addr())
	if _, err := client.ReadServerFile(dir); err == nil {
		log.Info("replacing a stale server.json (its server is gone: we hold the database lock)")
	}
	sfile := client.ServerFile{URL: u, PID: os.Getpid(), Instance: in.Srv.Instance(), Started: time.Now().UTC()}
	if err := client.WriteServerFile(dir, sfile); err != nil {
		ln.Close()
		return err
	}
	defer client.RemoveServerFile(dir, sfile.Instance)
	log.Info("serving", "data", dir, "addr", ln.Addr().String(), "images", in.Lib.DB().ImageCount(),
		"model", in.Srv.Searcher().Info().Name, "api_keys", keys.Len(), "rate", strconv.FormatFloat(sf.rate, 'g', -1, 64))
	fmt.Fprintf(stdout, "Glimpse is running at %s (data %s; Ctrl-C to stop)\n", u, dir)
	return in.Srv.Serve(ctx, ln)
}

// readKeys reads a key file (flag names it in errors), warning when others may read it.
func readKeys(path, flag string, log *slog.Logger) (*web.Keys, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o044 != 0 {
		log.Warn("a key file is readable by other users; chmod 600 it", "file", path, "flag", flag)
	}
	keys, err := web.ParseKeys(f)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return keys, nil
}
