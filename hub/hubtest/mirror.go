package hubtest

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Options configures a Mirror. The zero value serves on 127.0.0.1 at a free port.
type Options struct {
	// Listener is where the mirror serves. Default: a fresh 127.0.0.1 port (httptest).
	Listener net.Listener
	// CDNHost is the host name LFS redirects point at, on the mirror's own port. Default
	// "localhost": the mirror itself answers under its IP (the endpoint) and under this name
	// (the CDN), so a client sees a redirect to another host, as on the real hub.
	CDNHost string
	// AllowCDNAuth lets the CDN accept requests with an Authorization header. Default false:
	// like the hub's signed S3 URLs, the CDN answers them 400, so a client that forwards the
	// token across hosts fails.
	AllowCDNAuth bool
	// Token, when set, is required as "Authorization: Bearer <token>" on every request but the
	// CDN's (401 otherwise, with the hub's error headers). Default: none required.
	Token string
	// TreePageSize is the number of entries per page of the Hugging Face tree API (paged by a
	// Link rel="next" header). Default 1000, the hub's.
	TreePageSize int
	// LFS decides which files are stored in Git LFS (served by a redirect to the CDN, listed
	// with a sha256). Default IsLFS.
	LFS func(path string, size int) bool
	// NoSiblings leaves the file list out of the model info, as the hub may for very large
	// repositories, so that clients must page through the tree API. Default false.
	NoSiblings bool
	// Branches are the revision names every repository answers to, besides its commit.
	// Default "main" (Hugging Face's) and "master" (ModelScope's).
	Branches []string
}

// IsLFS is the default Options.LFS: model weight files by extension, as the hubs'
// .gitattributes track them, and anything of 10 MiB or more.
func IsLFS(p string, size int) bool {
	switch path.Ext(p) {
	case ".onnx", ".bin", ".safetensors", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".pb", ".tflite", ".ot", ".npz", ".gguf", ".model":
		return true
	}
	return size >= 10<<20
}

// FaultKind is a way for the mirror to misbehave when serving a file.
type FaultKind int

const (
	// Cut sends After bytes of the response body, then drops the connection.
	Cut FaultKind = iota + 1
	// Corrupt sends the body with the byte at file offset After flipped (the first byte of the
	// body when After lies outside it): same size, wrong digest.
	Corrupt
	// Hang sends After bytes of the body, then stops sending without closing, until the client
	// gives up or the mirror closes.
	Hang
	// NotFound answers 404 EntryNotFound although the file is listed.
	NotFound
	// IgnoreRange answers a Range request with 200 and the whole file, as some CDNs do.
	IgnoreRange
	// RefuseRange answers a Range request with 416 Range Not Satisfiable.
	RefuseRange
	// Unavailable answers 503 Service Unavailable with "Retry-After: 1".
	Unavailable
)

// Fault is a misbehaviour of one file's downloads.
type Fault struct {
	Kind  FaultKind
	After int64 // Cut, Hang: body bytes sent first; Corrupt: the file offset flipped
	// Times is how many requests the fault spoils before the file is served normally (so a
	// retry or a resume succeeds); 0 means every request. HEAD requests do not count, nor, for
	// IgnoreRange and RefuseRange, requests without a Range.
	Times int
}

// Request is one request the mirror answered.
type Request struct {
	Method        string
	Host          string
	Path          string // the escaped path
	Query         string
	Range         string // the Range header
	Authorization string // the Authorization header
	Status        int
	// Repo and File name the repository file whose bytes (or redirect) were asked for; empty
	// for API requests.
	Repo, File string
	// Bytes is the body bytes sent.
	Bytes int64
}

// Mirror is an HTTP server speaking the Hugging Face hub's and ModelScope's download APIs over
// repositories held in memory. Safe for concurrent use; Close stops it.
type Mirror struct {
	// URL is the endpoint: "http://127.0.0.1:PORT", for hub.Options.Endpoint, HF_ENDPOINT or
	// MODELSCOPE_ENDPOINT.
	URL string
	// CDN is where LFS files are redirected: "http://CDNHost:PORT".
	CDN string

	opts   Options
	srv    *httptest.Server
	stop   chan struct{}
	closed sync.Once

	mu     sync.Mutex
	repos  map[string]*repo
	faults map[string]*Fault // key repo + "\x00" + path
	log    []Request
}

type repo struct {
	id     string
	commit string
	files  map[string]*file
	paths  []string // sorted
}

type file struct {
	path    string
	data    []byte
	blobID  string // git blob id of the bytes, or of the LFS pointer for an LFS file
	sha256  string
	lfs     bool
	pointer int // LFS pointer size
}

// New starts a mirror with no repositories.
func New(opts Options) *Mirror {
	if opts.CDNHost == "" {
		opts.CDNHost = "localhost"
	}
	if opts.TreePageSize <= 0 {
		opts.TreePageSize = 1000
	}
	if opts.LFS == nil {
		opts.LFS = IsLFS
	}
	if len(opts.Branches) == 0 {
		opts.Branches = []string{"main", "master"}
	}
	m := &Mirror{opts: opts, stop: make(chan struct{}), repos: map[string]*repo{}, faults: map[string]*Fault{}}
	m.srv = httptest.NewUnstartedServer(http.HandlerFunc(m.serveHTTP))
	if opts.Listener != nil {
		m.srv.Listener.Close()
		m.srv.Listener = opts.Listener
	}
	m.srv.Start()
	m.URL = m.srv.URL
	_, port, _ := net.SplitHostPort(m.srv.Listener.Addr().String())
	m.CDN = "http://" + net.JoinHostPort(opts.CDNHost, port)
	return m
}

// Close releases hanging requests and stops the server.
func (m *Mirror) Close() {
	m.closed.Do(func() {
		close(m.stop)
		m.srv.CloseClientConnections()
		m.srv.Close()
	})
}

// Add serves files (path -> bytes, slash-separated paths) as repository id ("owner/name"),
// replacing any earlier one, and returns its commit id (the sha1 of its file list).
func (m *Mirror) Add(id string, files map[string][]byte) string {
	r := &repo{id: id, files: map[string]*file{}}
	c := sha1.New()
	for p, data := range files {
		f := &file{path: p, data: data, sha256: hexSum(sha256.New(), nil, data)}
		f.blobID = gitBlobID(data)
		if m.opts.LFS(p, len(data)) {
			ptr := lfsPointer(f.sha256, len(data))
			f.lfs, f.blobID, f.pointer = true, gitBlobID(ptr), len(ptr)
		}
		r.files[p] = f
		r.paths = append(r.paths, p)
	}
	sort.Strings(r.paths)
	for _, p := range r.paths {
		fmt.Fprintf(c, "%s %s\n", r.files[p].blobID, p)
	}
	r.commit = hex.EncodeToString(c.Sum(nil))
	m.mu.Lock()
	m.repos[id] = r
	m.mu.Unlock()
	return r.commit
}

// AddDir serves every folder root/OWNER/NAME as repository "OWNER/NAME" with the files under it.
func (m *Mirror) AddDir(root string) error {
	owners, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	for _, o := range owners {
		if !o.IsDir() {
			continue
		}
		names, err := os.ReadDir(filepath.Join(root, o.Name()))
		if err != nil {
			return err
		}
		for _, n := range names {
			if !n.IsDir() {
				continue
			}
			dir := filepath.Join(root, o.Name(), n.Name())
			files := map[string][]byte{}
			err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || !d.Type().IsRegular() {
					return err
				}
				data, err := os.ReadFile(p)
				rel, _ := filepath.Rel(dir, p)
				files[filepath.ToSlash(rel)] = data
				return err
			})
			if err != nil {
				return err
			}
			m.Add(o.Name()+"/"+n.Name(), files)
		}
	}
	return nil
}

// Fault makes the mirror misbehave when serving path of repository id (see Fault); a zero
// Kind removes the fault.
func (m *Mirror) Fault(id, path string, f Fault) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f.Kind == 0 {
		delete(m.faults, id+"\x00"+path)
		return
	}
	m.faults[id+"\x00"+path] = &f
}

// Requests returns the requests answered so far, in order.
func (m *Mirror) Requests() []Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Request(nil), m.log...)
}

// FileRequests returns the requests answered so far that asked for a repository file's bytes
// (HEAD and GET, redirects included), in order.
func (m *Mirror) FileRequests() []Request {
	var out []Request
	for _, r := range m.Requests() {
		if r.File != "" {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets the requests answered so far.
func (m *Mirror) ResetRequests() {
	m.mu.Lock()
	m.log = nil
	m.mu.Unlock()
}

// takeFault returns the fault set on repo/path if it is one of kinds, consuming one of its Times;
// a zero Fault otherwise.
func (m *Mirror) takeFault(id, path string, kinds ...FaultKind) Fault {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.faults[id+"\x00"+path]
	if f == nil {
		return Fault{}
	}
	for _, k := range kinds {
		if f.Kind != k {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				delete(m.faults, id+"\x00"+path)
			}
		}
		return *f
	}
	return Fault{}
}

// lookup finds a repository and resolves a revision (a branch name or the commit).
func (m *Mirror) lookup(id, rev string) (r *repo, repoOK, revOK bool) {
	m.mu.Lock()
	r = m.repos[id]
	m.mu.Unlock()
	if r == nil {
		return nil, false, false
	}
	if rev == r.commit {
		return r, true, true
	}
	for _, b := range m.opts.Branches {
		if rev == b {
			return r, true, true
		}
	}
	return r, true, false
}

func gitBlobID(data []byte) string {
	return hexSum(sha1.New(), []byte(fmt.Sprintf("blob %d\x00", len(data))), data)
}

func lfsPointer(sha string, size int) []byte {
	return []byte(fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", sha, size))
}

func hexSum(h interface {
	Write([]byte) (int, error)
	Sum([]byte) []byte
}, prefix, data []byte) string {
	h.Write(prefix)
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// trimmed is path without its leading slash.
func trimmed(p string) string { return strings.TrimPrefix(p, "/") }

// under returns the repository's files under prefix ("" or "dir/"; with recursive, in its
// sub-folders too) and the folders met on the way (with recursive, every folder below prefix).
func (r *repo) under(prefix string, recursive bool) (files []string, dirs map[string]bool) {
	dirs = map[string]bool{}
	for _, p := range r.paths {
		rel, ok := strings.CutPrefix(p, prefix)
		if !ok {
			continue
		}
		parts := strings.Split(rel, "/")
		for k := 1; k < len(parts) && (recursive || k == 1); k++ {
			dirs[prefix+strings.Join(parts[:k], "/")] = true
		}
		if recursive || len(parts) == 1 {
			files = append(files, p)
		}
	}
	return files, dirs
}
