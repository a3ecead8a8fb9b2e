// Package weaviatetest runs Weaviate nodes on loopback for tests and
// benchmarks: one node or a cluster, each node a weaviate-server process
// with its own ports and data folder, which a test can kill -9 and
// restart.
//
// The binary is built from the Go module proxy, outside this module:
//
//	GOBIN=$PWD/.cache/weaviate-v1.35.2 go install github.com/weaviate/weaviate/cmd/weaviate-server@v1.35.2
//
// (make weaviate-server does it once). Nodes allow anonymous access:
// tests only.
package weaviatetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Version is the Weaviate server version the harness is built and tested
// with.
const Version = "v1.35.2"

// Options configures Start. Zero fields take the documented defaults.
type Options struct {
	// Bin is the weaviate-server binary. Required.
	Bin string
	// Dir holds one data folder and one log file per node. Required.
	Dir string
	// Nodes is the number of nodes (default 1). Every node joins the
	// others (gossip and Raft); Raft needs a majority up.
	Nodes int
	// Env is added to every node's environment (e.g. GOMAXPROCS=1).
	Env []string
	// Nice runs the nodes at this scheduling niceness (default 0: as the
	// caller). Tests on a shared machine use 19.
	Nice int
	// StartTimeout bounds the wait for a node to be ready and to see the
	// others (default 3 minutes).
	StartTimeout time.Duration
}

// Node is one weaviate-server process.
type Node struct {
	Name                                string
	REST, GRPC, Gossip, Data, Raft, RPC int
	dir, log                            string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Cluster is a set of nodes on 127.0.0.1. Its methods may be called from
// one goroutine at a time.
type Cluster struct {
	o     Options
	Nodes []*Node
}

// Start starts the nodes and waits until each is ready and, for a
// cluster, sees all nodes healthy.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if o.Bin == "" || o.Dir == "" {
		return nil, errors.New("weaviatetest: Bin and Dir are required")
	}
	if _, err := os.Stat(o.Bin); err != nil {
		return nil, fmt.Errorf("weaviatetest: server binary: %w", err)
	}
	if o.Nodes <= 0 {
		o.Nodes = 1
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 3 * time.Minute
	}
	base, err := freeBlock(6 * o.Nodes)
	if err != nil {
		return nil, err
	}
	c := &Cluster{o: o}
	for i := range o.Nodes {
		// Weaviate on one host expects the data port at gossip+1 and the
		// Raft RPC port at raft+1 (CLUSTER_IN_LOCALHOST).
		p := base + 6*i
		n := &Node{Name: fmt.Sprintf("node%d", i), REST: p, GRPC: p + 1, Gossip: p + 2, Data: p + 3, Raft: p + 4, RPC: p + 5}
		n.dir = filepath.Join(o.Dir, n.Name)
		n.log = filepath.Join(o.Dir, n.Name+".log")
		if err := os.MkdirAll(n.dir, 0o755); err != nil {
			return nil, err
		}
		c.Nodes = append(c.Nodes, n)
	}
	// node0 bootstraps the gossip ring; the others join it once it listens
	for i := range c.Nodes {
		if err := c.start(i); err != nil {
			c.Close()
			return nil, err
		}
		if i == 0 && o.Nodes > 1 {
			if err := c.waitListening(ctx, c.Nodes[0].Gossip); err != nil {
				c.Close()
				return nil, fmt.Errorf("weaviatetest: %s gossip: %w\n%s", c.Nodes[0].Name, err, c.Log(0))
			}
		}
	}
	if err := c.WaitHealthy(ctx, o.Nodes); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// freeBlock returns the first of n consecutive TCP ports free on loopback
// (TCP and, for gossip, UDP).
func freeBlock(n int) (int, error) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	for range 100 {
		base := 20000 + rng.IntN(30000)
		ok := true
		var closers []io.Closer
		for p := base; p < base+n && ok; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			closers = append(closers, l)
			u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			closers = append(closers, u)
		}
		for _, c := range closers {
			c.Close()
		}
		if ok {
			return base, nil
		}
	}
	return 0, errors.New("weaviatetest: no block of free ports")
}

// waitListening waits until a local TCP port accepts connections.
func (c *Cluster) waitListening(ctx context.Context, port int) error {
	ctx, cancel := context.WithTimeout(ctx, c.o.StartTimeout)
	defer cancel()
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// env is node i's environment. It joins the gossip ring through the
// running nodes (none: it starts the ring).
func (c *Cluster) env(i int) []string {
	n := c.Nodes[i]
	var join, raftJoin []string
	for j, m := range c.Nodes {
		raftJoin = append(raftJoin, fmt.Sprintf("%s:%d", m.Name, m.Raft))
		if j != i && c.Running(j) {
			join = append(join, fmt.Sprintf("127.0.0.1:%d", m.Gossip))
		}
	}
	env := append(os.Environ(),
		"PERSISTENCE_DATA_PATH="+n.dir,
		"AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true",
		"DEFAULT_VECTORIZER_MODULE=none",
		"ENABLE_MODULES=",
		"CLUSTER_HOSTNAME="+n.Name,
		"CLUSTER_ADVERTISE_ADDR=127.0.0.1",
		"CLUSTER_IN_LOCALHOST=true",
		"CLUSTER_BIND_ADDR=127.0.0.1",
		"CLUSTER_GOSSIP_BIND_PORT="+strconv.Itoa(n.Gossip),
		"CLUSTER_DATA_BIND_PORT="+strconv.Itoa(n.Data),
		"RAFT_PORT="+strconv.Itoa(n.Raft),
		"RAFT_INTERNAL_RPC_PORT="+strconv.Itoa(n.RPC),
		"RAFT_JOIN="+strings.Join(raftJoin, ","),
		"RAFT_BOOTSTRAP_EXPECT="+strconv.Itoa(len(c.Nodes)),
		"GRPC_PORT="+strconv.Itoa(n.GRPC),
		"GO_PROFILING_DISABLE=true",
		"DISABLE_TELEMETRY=true",
		"PROMETHEUS_MONITORING_ENABLED=false",
		"QUERY_DEFAULTS_LIMIT=25",
		"LOG_LEVEL=warning",
		// A node that was down catches up within seconds instead of minutes.
		"ASYNC_REPLICATION_FREQUENCY=5s",
		"ASYNC_REPLICATION_PROPAGATION_DELAY=2s",
	)
	if len(join) > 0 {
		env = append(env, "CLUSTER_JOIN="+strings.Join(join, ","))
	}
	return append(env, c.o.Env...)
}

// start runs node i's process.
func (c *Cluster) start(i int) error {
	n := c.Nodes[i]
	logf, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(c.o.Bin, "--host", "127.0.0.1", "--port", strconv.Itoa(n.REST), "--scheme", "http")
	cmd.Env = c.env(i)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("weaviatetest: start %s: %w", n.Name, err)
	}
	if c.o.Nice > 0 {
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, cmd.Process.Pid, c.o.Nice)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	n.mu.Lock()
	n.cmd, n.done = cmd, done
	n.mu.Unlock()
	return nil
}

// Kill sends SIGKILL to node i and waits for it to exit.
func (c *Cluster) Kill(i int) error {
	n := c.Nodes[i]
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("weaviatetest: %s is not running", n.Name)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	<-done
	return nil
}

// Restart starts node i again on its data folder (after Kill) and waits
// until the cluster sees all nodes healthy.
func (c *Cluster) Restart(ctx context.Context, i int) error {
	if err := c.start(i); err != nil {
		return err
	}
	return c.WaitHealthy(ctx, len(c.Nodes))
}

// Running reports whether node i's process runs.
func (c *Cluster) Running(i int) bool {
	n := c.Nodes[i]
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// URL is the store backend URL of the running nodes (all nodes when
// all=true), with their gRPC ports.
func (c *Cluster) URL(all bool, query string) string {
	var rest, grpc []string
	for i, n := range c.Nodes {
		if all || c.Running(i) {
			rest = append(rest, fmt.Sprintf("127.0.0.1:%d", n.REST))
			grpc = append(grpc, fmt.Sprintf("127.0.0.1:%d", n.GRPC))
		}
	}
	u := "weaviate://" + strings.Join(rest, ",") + "?grpc=" + strings.Join(grpc, ",")
	if query != "" {
		u += "&" + query
	}
	return u
}

// NodeStatus is one node as /v1/nodes reports it.
type NodeStatus struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Stats  struct {
		ObjectCount int64 `json:"objectCount"`
		ShardCount  int   `json:"shardCount"`
	} `json:"stats"`
	Shards []struct {
		Name        string `json:"name"`
		Class       string `json:"class"`
		ObjectCount int64  `json:"objectCount"`
	} `json:"shards"`
}

// Status asks a running node for every node's status; with class set,
// the per-shard object counts of that class.
func (c *Cluster) Status(ctx context.Context, class string) ([]NodeStatus, error) {
	var last error
	for i, n := range c.Nodes {
		if !c.Running(i) {
			continue
		}
		u := fmt.Sprintf("http://127.0.0.1:%d/v1/nodes?output=verbose", n.REST)
		if class != "" {
			u += "&collection=" + class
		}
		var out struct {
			Nodes []NodeStatus `json:"nodes"`
		}
		if last = getJSON(ctx, u, &out); last == nil {
			return out.Nodes, nil
		}
	}
	if last == nil {
		last = errors.New("no node running")
	}
	return nil, fmt.Errorf("weaviatetest: nodes status: %w", last)
}

// WaitHealthy waits until every running node is ready and the cluster
// reports want nodes HEALTHY.
func (c *Cluster) WaitHealthy(ctx context.Context, want int) error {
	ctx, cancel := context.WithTimeout(ctx, c.o.StartTimeout)
	defer cancel()
	for {
		err := c.healthy(ctx, want)
		if err == nil {
			return nil
		}
		for i, n := range c.Nodes {
			n.mu.Lock()
			cmd, done := n.cmd, n.done
			n.mu.Unlock()
			if cmd == nil {
				continue
			}
			select {
			case <-done:
				return fmt.Errorf("weaviatetest: %s exited during start-up; its log:\n%s", c.Nodes[i].Name, tail(n.log, 3000))
			default:
			}
		}
		select {
		case <-ctx.Done():
			var logs strings.Builder
			for i, n := range c.Nodes {
				fmt.Fprintf(&logs, "--- %s:\n%s\n", n.Name, tail(c.Nodes[i].log, 1500))
			}
			return fmt.Errorf("weaviatetest: cluster not healthy in %s: %v\n%s", c.o.StartTimeout, err, logs.String())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (c *Cluster) healthy(ctx context.Context, want int) error {
	for i, n := range c.Nodes {
		if !c.Running(i) {
			continue
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/v1/.well-known/ready", n.REST), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s not ready: %s", n.Name, resp.Status)
		}
	}
	st, err := c.Status(ctx, "")
	if err != nil {
		return err
	}
	ok := 0
	for _, s := range st {
		if s.Status == "HEALTHY" {
			ok++
		}
	}
	if ok < want {
		return fmt.Errorf("%d of %d nodes healthy", ok, want)
	}
	return nil
}

func getJSON(ctx context.Context, url string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s %s", url, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// Close kills every node (their data folders stay).
func (c *Cluster) Close() {
	for i := range c.Nodes {
		if c.Running(i) {
			_ = c.Kill(i)
		}
	}
}

// Log returns the end of node i's log.
func (c *Cluster) Log(i int) string { return tail(c.Nodes[i].log, 4000) }

func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	st, _ := f.Stat()
	if st != nil && st.Size() > n {
		_, _ = f.Seek(st.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}
