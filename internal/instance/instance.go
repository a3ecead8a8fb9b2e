package instance

import (
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/web"
	"github.com/glimpse-search/glimpse/web/client"
)

// Instance is an open data dir, model and server.
type Instance struct {
	Dir string
	Lib *library.Library
	M   *encoder.Model
	Srv *web.Server
}

// Close stops the server and releases the model and the data dir.
func (in *Instance) Close() {
	in.Srv.Close()
	in.M.Close()
	in.Lib.Close()
}

// Open opens the data dir (taking its lock) with the vector store st names, the model mf
// names and a server with options o. A data dir held by another process is an error that names
// the server holding it when there is one.
func Open(dir string, mf *cli.ModelFlags, st *cli.StoreFlags, o web.Options) (*Instance, error) {
	lib, err := st.OpenLibrary(dir, library.Options{}, o.Logger)
	if errors.Is(err, library.ErrLocked) {
		if f, ferr := client.ReadServerFile(dir); ferr == nil {
			return nil, fmt.Errorf("data dir %s is in use: a server (pid %d) runs at %s", dir, f.PID, f.URL)
		}
	}
	if err != nil {
		return nil, err
	}
	m, b, err := mf.Open(encoder.ImageOptions{}, o.Logger)
	if err != nil {
		lib.Close()
		return nil, err
	}
	srv, err := web.New(lib, m, b.Info, o)
	if err != nil {
		m.Close()
		lib.Close()
		return nil, err
	}
	return &Instance{Dir: dir, Lib: lib, M: m, Srv: srv}, nil
}

// ClientURL is how a client on this machine reaches a listener: an unspecified host (all
// interfaces) becomes loopback.
func ClientURL(a net.Addr) string {
	host, port, _ := net.SplitHostPort(a.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return (&url.URL{Scheme: "http", Host: net.JoinHostPort(host, port)}).String()
}

// IsLoopback says whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
