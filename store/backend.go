package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/glimpse-search/glimpse/store/weaviate"
)

// Backend is where a DB keeps its namespaces' image vectors and runs
// stage 1's searches: the seam between the engine and its vector
// database. The records (paths, hashes, EXIF), the texts and their
// vectors always stay in the bbolt file. Two implementations:
//
//   - embedded (the default, Options.Backend nil): an HNSW graph per
//     namespace in the bbolt file, written in the same transaction as the
//     records (see the package doc).
//   - Weaviate ("weaviate://host:port"): a Weaviate collection per
//     namespace, one object per image with its vector and the filterable
//     properties. Consistency rule: a batch is written to Weaviate first
//     (an idempotent upsert keyed by the image id, retried), then its
//     records are committed to bbolt; a delete commits bbolt first, then
//     removes the objects. So every committed record has its vector, and
//     a failure leaves at most orphan objects, which searches skip and
//     Namespace.Reconcile removes.
//
// OpenBackend picks one from a URL. Engine code never knows which one
// runs. A Backend is safe for concurrent use; the DB it is given to closes
// it.
type Backend interface {
	// String names the backend for messages: "embedded", or the URL
	// without secrets.
	String() string
	// Ping reports whether the backend can serve searches: nil, or an
	// error wrapping ErrBackend saying why not.
	Ping(ctx context.Context) error
	// Close releases the backend's connections.
	Close() error
	// images returns the image vectors of a namespace being opened.
	images(ns *Namespace) (imageIndex, error)
}

// imageIndex is one namespace's image vectors in a Backend. Contents
// (images with the same SHA256) share one embedding.
type imageIndex interface {
	// len is the number of distinct contents with an embedding.
	len() int
	// has reports whether a content has an embedding.
	has(contentID uint64) bool
	// vector returns a copy of a content's stored (normalised) embedding.
	vector(ctx context.Context, contentID uint64) ([]float32, bool, error)
	// search is SearchImages (exact: by brute force).
	search(ctx context.Context, vec []float32, k, ef int, f *ImageFilter, exact bool) ([]ImageHit, error)
	// stage runs inside AddImages's write transaction once the batch's
	// ids are resolved: items in batch order, each with its vector or nil
	// when its content is embedded already. An error aborts the
	// transaction.
	stage(ctx context.Context, items []stagedImage) error
	// deleted runs after a committed transaction that removed these
	// images' records, or gave them another content. Failing to
	// remove them leaves orphans; it is logged, not returned.
	deleted(ctx context.Context, ids []uint64)
	// reconcile makes the vectors agree with the committed records.
	reconcile(ctx context.Context) (Reconciled, error)
	// each calls fn with every live image's id and vector, in no fixed
	// order, until fn fails.
	each(ctx context.Context, fn func(imageID uint64, vec []float32) error) error
}

// stagedImage is one item of an AddImages batch, its ids resolved.
type stagedImage struct {
	rec *ImageRecord
	vec []float32 // nil: the content is embedded already
}

// Reconciled reports what Namespace.Reconcile found and did.
type Reconciled struct {
	Records int // live image records in the bbolt file
	Vectors int // image vectors in the backend before reconciling
	// Orphans are vectors without a record (a batch that reached the
	// backend but not the file, a delete that reached the file only),
	// now removed.
	Orphans int
	// Lost are the records whose vector the backend does not have (even
	// asked at consistency ALL). They are removed from the file so that
	// the next `indexer add` of their folder embeds them again.
	Lost []ImageRecord
}

// ErrBackend wraps every failure of a remote vector backend: it cannot be
// reached, it lost its quorum, or it refused a request.
var ErrBackend = errors.New("store: vector backend unavailable")

// BackendOptions configures OpenBackend. Zero fields take the documented
// defaults.
type BackendOptions struct {
	// APIKey authenticates to a remote backend (read it from a file; the
	// URL must not hold secrets). Default: none.
	APIKey string
	// Timeout bounds one request to a remote backend (default 30s).
	Timeout time.Duration
	// Logger receives a remote backend's failovers, retries and
	// reconciliations. Default: silent.
	Logger *slog.Logger
}

// Backend URL schemes.
const (
	SchemeEmbedded = "embedded"
	SchemeWeaviate = "weaviate"
)

// BackendConfig is a parsed backend URL.
//
//	embedded                    (or ""): the bbolt file's own HNSW graphs
//	weaviate://HOST:PORT[,HOST:PORT...][?grpc=HOST:PORT[,...]&replicas=N&shards=N
//	          &consistency=ONE|QUORUM|ALL&tls=true&prefix=NAME&ef=N]
//
// HOST:PORT are REST endpoints of the cluster's nodes (requests fail over
// in order); grpc lists their gRPC endpoints (default: port 50051 on each
// host). replicas (default 1) and shards (default 1) apply when a
// collection is created; consistency (default QUORUM) to every request;
// prefix (default "Glimpse") starts the collection names; ef (default -1,
// Weaviate's dynamic ef) is a new collection's search-time ef.
type BackendConfig struct {
	Scheme      string
	Hosts       []string
	GRPCHosts   []string // nil: default
	Replicas    int
	Shards      int
	Consistency string
	TLS         bool
	Prefix      string
	Ef          int
}

// String is the URL of c (it never holds a secret).
func (c BackendConfig) String() string {
	if c.Scheme != SchemeWeaviate {
		return SchemeEmbedded
	}
	q := url.Values{}
	if c.GRPCHosts != nil {
		q.Set("grpc", strings.Join(c.GRPCHosts, ","))
	}
	if c.Replicas != 1 {
		q.Set("replicas", strconv.Itoa(c.Replicas))
	}
	if c.Shards != 1 {
		q.Set("shards", strconv.Itoa(c.Shards))
	}
	if c.Consistency != weaviate.Quorum {
		q.Set("consistency", c.Consistency)
	}
	if c.TLS {
		q.Set("tls", "true")
	}
	if c.Prefix != defaultPrefix {
		q.Set("prefix", c.Prefix)
	}
	if c.Ef != -1 {
		q.Set("ef", strconv.Itoa(c.Ef))
	}
	s := SchemeWeaviate + "://" + strings.Join(c.Hosts, ",")
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

const defaultPrefix = "Glimpse"

// ErrBackendURL: a backend URL that cannot be used.
var ErrBackendURL = errors.New("store: bad backend URL")

// ParseBackendURL parses a backend URL (see BackendConfig).
func ParseBackendURL(raw string) (BackendConfig, error) {
	bad := func(format string, a ...any) (BackendConfig, error) {
		return BackendConfig{}, fmt.Errorf("%w %q: %s", ErrBackendURL, raw, fmt.Sprintf(format, a...))
	}
	s := strings.TrimSpace(raw)
	if s == "" || s == SchemeEmbedded || s == SchemeEmbedded+"://" || s == SchemeEmbedded+":" {
		return BackendConfig{Scheme: SchemeEmbedded}, nil
	}
	rest, ok := strings.CutPrefix(s, SchemeWeaviate+"://")
	if !ok {
		return bad("want %q or %s://HOST:PORT", SchemeEmbedded, SchemeWeaviate)
	}
	hostPart, query, _ := strings.Cut(rest, "?")
	hostPart = strings.TrimSuffix(hostPart, "/")
	if strings.Contains(hostPart, "@") {
		return bad("credentials do not belong in the URL; give the API key in a file")
	}
	if strings.Contains(hostPart, "/") {
		return bad("no path expected after the hosts")
	}
	c := BackendConfig{Scheme: SchemeWeaviate, Replicas: 1, Shards: 1, Consistency: weaviate.Quorum,
		Prefix: defaultPrefix, Ef: -1}
	var err error
	if c.Hosts, err = hostList(hostPart); err != nil {
		return bad("%v", err)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return bad("query: %v", err)
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return bad("%s given %d times", k, len(vs))
		}
		v := vs[0]
		switch k {
		case "grpc":
			if c.GRPCHosts, err = hostList(v); err != nil {
				return bad("grpc: %v", err)
			}
			if len(c.GRPCHosts) != len(c.Hosts) {
				return bad("grpc lists %d hosts for %d REST hosts", len(c.GRPCHosts), len(c.Hosts))
			}
		case "replicas", "shards":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 64 {
				return bad("%s %q: want 1..64", k, v)
			}
			if k == "replicas" {
				c.Replicas = n
			} else {
				c.Shards = n
			}
		case "consistency":
			c.Consistency = strings.ToUpper(v)
			if c.Consistency != weaviate.One && c.Consistency != weaviate.Quorum && c.Consistency != weaviate.All {
				return bad("consistency %q: want ONE, QUORUM or ALL", v)
			}
		case "tls":
			if c.TLS, err = strconv.ParseBool(v); err != nil {
				return bad("tls %q: want true or false", v)
			}
		case "prefix":
			if !prefixOK(v) {
				return bad("prefix %q: want a letter, then up to 31 letters, digits or _", v)
			}
			c.Prefix = v
		case "ef":
			n, err := strconv.Atoi(v)
			if err != nil || (n != -1 && (n < 1 || n > 10000)) {
				return bad("ef %q: want -1 or 1..10000", v)
			}
			c.Ef = n
		default:
			return bad("unknown parameter %q", k)
		}
	}
	return c, nil
}

func hostList(s string) ([]string, error) {
	if s == "" {
		return nil, errors.New("no host")
	}
	var out []string
	for _, h := range strings.Split(s, ",") {
		name, port, err := net.SplitHostPort(h)
		if err != nil {
			return nil, fmt.Errorf("host %q: want HOST:PORT", h)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("host %q: bad port", h)
		}
		if name == "" || strings.ContainsAny(name, " \t\r\n%") {
			return nil, fmt.Errorf("host %q: bad host name", h)
		}
		if slices.Contains(out, h) {
			return nil, fmt.Errorf("host %q listed twice", h)
		}
		out = append(out, h)
	}
	return out, nil
}

func prefixOK(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (i == 0 || !(r >= '0' && r <= '9' || r == '_')) {
			return false
		}
	}
	return true
}

// OpenBackend returns the backend a URL names (see BackendConfig): nil
// for the embedded one, which Options.Backend nil also selects. It does
// not contact a remote backend; Ping does, and so does every namespace's
// first request.
func OpenBackend(raw string, o BackendOptions) (Backend, error) {
	c, err := ParseBackendURL(raw)
	if err != nil {
		return nil, err
	}
	if c.Scheme == SchemeEmbedded {
		return nil, nil
	}
	return newWeaviateBackend(c, o)
}

// backend returns the DB's backend.
func (db *DB) backend() Backend {
	if db.o.Backend == nil {
		return embeddedBackend{}
	}
	return db.o.Backend
}

// Backend names the vector backend: "embedded" or its URL.
func (db *DB) Backend() string { return db.backend().String() }

// Ping reports whether searches can be answered: the file is open and the
// vector backend serves. Errors wrap ErrClosed or ErrBackend. (For
// /readyz.)
func (db *DB) Ping(ctx context.Context) error {
	db.mu.RLock()
	closed := db.closed
	db.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	return db.backend().Ping(ctx)
}

// ImageVectors calls fn with every image's id and stored (normalised)
// vector, in no fixed order, until fn returns an error, which it returns:
// for ground truth, and to move a library between backends. Images
// sharing a content get the same vector.
func (ns *Namespace) ImageVectors(ctx context.Context, fn func(imageID uint64, vec []float32) error) error {
	return ns.images.each(ctx, fn)
}

// Reconcile makes the namespace's image vectors agree with the committed
// records (see Reconciled). The embedded backend is always consistent
// (one transaction); a remote one compares counts and, when they differ,
// the ids. Writers call it before indexing (indexer.New does).
func (ns *Namespace) Reconcile(ctx context.Context) (Reconciled, error) {
	db := ns.db
	db.wmu.Lock()
	if db.closed {
		db.wmu.Unlock()
		return Reconciled{}, ErrClosed
	}
	r, err := ns.images.reconcile(ctx) // under wmu: no batch is half-way
	db.wmu.Unlock()
	if err != nil {
		return r, fmt.Errorf("reconcile %q: %w", ns.name, err)
	}
	for _, lost := range r.Lost {
		if cur, err := db.Image(lost.ID); err != nil || cur != lost {
			continue // changed since: not lost any more
		}
		if err := db.DeleteImage(lost.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return r, fmt.Errorf("reconcile %q: drop record %s without vector: %w", ns.name, lost.Path, err)
		}
	}
	return r, nil
}

// recontented tells the namespaces other than ns that images of a
// committed batch now have another content, so their vectors of the old
// content must go (the embedded backend did it in the transaction).
// Caller holds db.wmu.
func (db *DB) recontented(ctx context.Context, ns *Namespace, dropped []dropInfo, recs []ImageRecord) {
	if len(db.nss) < 2 || len(dropped) == 0 {
		return
	}
	now := make(map[uint64]uint64, len(recs))
	for _, r := range recs {
		now[r.ID] = r.ContentID
	}
	var ids []uint64
	for _, d := range dropped {
		if c, ok := now[d.id]; ok && c != d.content {
			ids = append(ids, d.id)
		}
	}
	if len(ids) == 0 {
		return
	}
	for _, other := range db.nss {
		if other != ns {
			other.images.deleted(ctx, ids)
		}
	}
}

// ErrBackendMismatch: the library's image vectors live in another backend
// than the one it was opened with.
var ErrBackendMismatch = errors.New("store: library indexed with another vector backend")

var keyBackend = []byte("backend")

// bindBackend records which backend holds the library's image vectors
// (kind "embedded" or "weaviate", and its URL for messages) the first time
// a namespace is opened, and refuses another one afterwards: the vectors
// are in one place only, and a remote backend that is empty for a library
// indexed locally would make Reconcile drop every record. A file written
// before backends existed, holding images, is embedded.
func (db *DB) bindBackend(kind, url string) error {
	check := func(tx *bolt.Tx) (write bool, err error) {
		have := string(tx.Bucket(bucketMeta).Get(keyBackend))
		hasImages := tx.Bucket(bucketImages).Stats().KeyN > 0
		if have == "" && hasImages {
			have = SchemeEmbedded + " " + SchemeEmbedded
		}
		haveKind, haveURL, _ := strings.Cut(have, " ")
		switch {
		case haveKind == kind:
			return have == "", nil
		case haveKind == "" || !hasImages:
			return true, nil
		}
		return false, fmt.Errorf("%w: its image vectors are in %s, not %s: open it with that store (--store %s)",
			ErrBackendMismatch, haveURL, url, haveURL)
	}
	var write bool
	err := db.view(func(tx *bolt.Tx) (err error) { write, err = check(tx); return err })
	if err != nil || !write || db.o.ReadOnly {
		return err
	}
	return db.update(func(tx *bolt.Tx) error {
		if write, err := check(tx); err != nil || !write {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyBackend, []byte(kind+" "+url))
	})
}

// ReadKeyFile returns the first line of the file at path, trimmed: a vector backend's API key
// as --store-key-file names it ("" for no path; an empty first line is an error).
func ReadKeyFile(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	key, _, _ := strings.Cut(string(b), "\n")
	if key = strings.TrimSpace(key); key == "" {
		return "", fmt.Errorf("%s: empty", path)
	}
	return key, nil
}
