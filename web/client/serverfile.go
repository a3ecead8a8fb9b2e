package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ServerFileName is the file in a data dir that names the server owning it.
const ServerFileName = "server.json"

// ServerFile is the content of DATA/server.json.
type ServerFile struct {
	// URL is where clients on this machine reach the server, e.g. "http://127.0.0.1:8080".
	URL string `json:"url"`
	// PID is the server's process id.
	PID int `json:"pid"`
	// Instance is a random id of this server start; GET /healthz answers it.
	Instance string    `json:"instance"`
	Started  time.Time `json:"started"`
}

// WriteServerFile writes DATA/server.json through a temporary file and a rename, so a reader
// never sees half a file.
func WriteServerFile(dataDir string, f ServerFile) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dataDir, ".server-*.json")
	if err != nil {
		return fmt.Errorf("server file: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dataDir, ServerFileName))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("server file: %w", err)
	}
	return nil
}

// ReadServerFile reads DATA/server.json; a missing file gives an error wrapping fs.ErrNotExist.
func ReadServerFile(dataDir string) (ServerFile, error) {
	var f ServerFile
	b, err := os.ReadFile(filepath.Join(dataDir, ServerFileName))
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("%s: %w", filepath.Join(dataDir, ServerFileName), err)
	}
	return f, nil
}

// checkLocalURL refuses a server URL that is not http(s) to an IP address of this machine
// (loopback or one of its interfaces): the indexer sends its API key to the URL server.json
// names, and whoever can write that file must not be able to send the key elsewhere.
func checkLocalURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("server URL %q is not an http URL", raw)
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil {
		return fmt.Errorf("server URL %q names a host, not an address of this machine: refused (the API key is sent to it)", raw)
	}
	if ip.IsLoopback() {
		return nil
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return nil
		}
	}
	return fmt.Errorf("server URL %q is not an address of this machine: refused (the API key is sent to it)", raw)
}

// RemoveServerFile removes DATA/server.json if it still names this instance (a newer server
// may have replaced it).
func RemoveServerFile(dataDir, instance string) error {
	f, err := ReadServerFile(dataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil && f.Instance != instance {
		return nil
	}
	if err := os.Remove(filepath.Join(dataDir, ServerFileName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("server file: %w", err)
	}
	return nil
}

// Health is the body of GET /healthz.
type Health struct {
	Status   string `json:"status"`
	Instance string `json:"instance"`
}

// ServerState says what [Discover] found.
type ServerState int

// States of a data dir's server.
const (
	NoServer    ServerState = iota // no server.json
	LiveServer                     // a server answers for the file
	StaleServer                    // the file's process is gone or another program answers
)

func (s ServerState) String() string {
	return [...]string{"none", "live", "stale"}[s]
}

// DiscoverTimeout bounds the /healthz call of [Discover].
const DiscoverTimeout = 3 * time.Second

// Discover looks for the server that owns dataDir. A file whose URL is not an address of this
// machine is refused (StaleServer and the reason): the caller would send its API key there. It
// returns the file and LiveServer when the
// file's process runs and its /healthz answers the file's instance id; StaleServer (with the
// file and the reason) when the file was left behind by a server that is gone; NoServer when
// there is no file. A server whose process runs but which does not answer is an error: the
// data dir is busy and nothing can be handed to it. hc nil: a client with DiscoverTimeout.
func Discover(ctx context.Context, dataDir string, hc *http.Client) (ServerFile, ServerState, error) {
	f, err := ReadServerFile(dataDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return f, NoServer, nil
	case err != nil:
		return f, StaleServer, err // unreadable: treat as left behind, say why
	}
	if err := checkLocalURL(f.URL); err != nil {
		return f, StaleServer, fmt.Errorf("%s: %w", filepath.Join(dataDir, ServerFileName), err)
	}
	if f.PID > 0 && !processAlive(f.PID) {
		return f, StaleServer, fmt.Errorf("process %d is gone", f.PID)
	}
	if hc == nil {
		hc = &http.Client{Timeout: DiscoverTimeout}
	}
	h, err := health(ctx, hc, f.URL)
	var op *net.OpError
	switch {
	case errors.As(err, &op) && op.Op == "dial":
		return f, StaleServer, fmt.Errorf("nothing listens at %s", f.URL)
	case err != nil:
		return f, LiveServer, fmt.Errorf("the server at %s (pid %d) does not answer: %w", f.URL, f.PID, err)
	case h.Instance != f.Instance:
		return f, StaleServer, fmt.Errorf("%s is another server (instance %q, not %q)", f.URL, h.Instance, f.Instance)
	}
	return f, LiveServer, nil
}

func health(ctx context.Context, hc *http.Client, base string) (Health, error) {
	var h Health
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return h, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return h, fmt.Errorf("/healthz: HTTP %d", resp.StatusCode)
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&h)
	return h, err
}

// processAlive reports whether a process with this pid exists (signal 0 is not sent, only
// checked; EPERM means it exists under another user).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
