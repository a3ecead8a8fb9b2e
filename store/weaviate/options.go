package weaviate

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"time"
)

// Consistency levels of writes and reads: how many replicas must answer.
const (
	One    = "ONE"
	Quorum = "QUORUM"
	All    = "ALL"
)

// DefaultGRPCPort is Weaviate's gRPC port, used for a host given without
// its gRPC endpoint.
const DefaultGRPCPort = "50051"

// Options configures Open. Zero fields take the documented defaults.
type Options struct {
	// Hosts are the REST endpoints (host:port) of the cluster's nodes.
	// Requests go to one node and fail over to the next when it cannot be
	// reached. Required.
	Hosts []string
	// GRPCHosts are the gRPC endpoints, one per entry of Hosts. Default:
	// each host's name with port DefaultGRPCPort.
	GRPCHosts []string
	// TLS switches REST to https and gRPC to TLS. Default false.
	TLS bool
	// APIKey is sent as a bearer token on every request. Default none
	// (the server must allow anonymous access).
	APIKey string
	// Class is the collection's name: a letter, then letters, digits and
	// underscores; Weaviate upper-cases the first letter. Required.
	Class string
	// Description is stored with a new class. Open refuses an existing
	// class whose description differs (ErrMismatch): store keeps the
	// namespace and model identity there. Default "".
	Description string
	// Dim is the vector dimension; Put and Search refuse other lengths.
	// Required.
	Dim int
	// Replicas is the replication factor of a new class (default 1). It is
	// fixed at creation. Asynchronous replication is switched on whenever
	// Replicas > 1, so a node that was down catches up by itself.
	Replicas int
	// Shards is the number of shards of a new class (default 1).
	Shards int
	// Consistency is the level of every write and read: One, Quorum or
	// All (default Quorum). With Replicas 3, Quorum keeps answering with a
	// node down; with Replicas 2 only One does.
	Consistency string
	// Timeout bounds one request (default 30s).
	Timeout time.Duration
	// Retries is how many times a batch write that failed (in whole or for
	// some objects) is sent again before Put gives up (default 5), waiting
	// RetryWait (default 200ms) and doubling it each time.
	Retries   int
	RetryWait time.Duration
	// MaxConnections and EfConstruction set a new class's HNSW graph
	// (defaults 16 and 128: Glimpse's own M and Weaviate's default).
	MaxConnections int
	EfConstruction int
	// Ef is the search-time candidate list of a new class; -1 (the
	// default, also for 0) lets Weaviate pick it from the limit
	// (max(100, 8 x limit), at most 500).
	Ef int
	// Logger receives failovers and retries. Default: silent.
	Logger *slog.Logger
}

var classRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

func (o Options) withDefaults() (Options, error) {
	if len(o.Hosts) == 0 {
		return o, errors.New("weaviate: no host")
	}
	if o.GRPCHosts == nil {
		for _, h := range o.Hosts {
			name, _, err := net.SplitHostPort(h)
			if err != nil {
				return o, fmt.Errorf("weaviate: host %q: %w", h, err)
			}
			o.GRPCHosts = append(o.GRPCHosts, net.JoinHostPort(name, DefaultGRPCPort))
		}
	}
	if len(o.GRPCHosts) != len(o.Hosts) {
		return o, fmt.Errorf("weaviate: %d hosts but %d gRPC hosts", len(o.Hosts), len(o.GRPCHosts))
	}
	if !classRE.MatchString(o.Class) {
		return o, fmt.Errorf("weaviate: class name %q: want a letter, then letters, digits or _", o.Class)
	}
	if o.Dim <= 0 {
		return o, fmt.Errorf("weaviate: dimension %d", o.Dim)
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Shards <= 0 {
		o.Shards = 1
	}
	switch o.Consistency {
	case "":
		o.Consistency = Quorum
	case One, Quorum, All:
	default:
		return o, fmt.Errorf("weaviate: consistency %q: want ONE, QUORUM or ALL", o.Consistency)
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Retries <= 0 {
		o.Retries = 5
	}
	if o.RetryWait <= 0 {
		o.RetryWait = 200 * time.Millisecond
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = 16
	}
	if o.EfConstruction <= 0 {
		o.EfConstruction = 128
	}
	if o.Ef == 0 {
		o.Ef = -1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

var (
	// ErrUnavailable: no node of the cluster could be reached, or the
	// cluster could not reach the consistency level, after the retries.
	ErrUnavailable = errors.New("weaviate: unavailable")
	// ErrMismatch: the class exists with another description (another
	// namespace or model) or another vector dimension.
	ErrMismatch = errors.New("weaviate: class mismatch")
	// ErrRejected: Weaviate refused a request as invalid (not retried).
	ErrRejected = errors.New("weaviate: request rejected")
)
