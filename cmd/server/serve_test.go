package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/internal/fixture"
	"github.com/glimpse-search/glimpse/web/client"
)

// testKey is the key of the tests' key files.
const testKey = "cmd-test-key-0123456789"

// testLib indexes n rendered scenes into a new data dir and returns it with the photos folder.
func testLib(t *testing.T, n int) (data, photos string) { return fixture.Library(t, n) }

func keyFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(p, []byte("# test\n"+testKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader on two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a server started by Run on a goroutine.
type running struct {
	url            string
	stdout, stderr *syncBuffer
	stop           context.CancelFunc
	done           chan error
}

// start runs the server command line and waits for its server.json.
func start(t *testing.T, data string, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stdout: &syncBuffer{}, stderr: &syncBuffer{}, stop: cancel, done: make(chan error, 1)}
	args = append([]string{"--data", data, "--addr", "127.0.0.1:0"}, args...)
	go func() { r.done <- Run(ctx, args, r.stdout, r.stderr) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if f, _, err := client.Discover(context.Background(), data, nil); err == nil && f.PID == os.Getpid() {
			r.url = f.URL
			break
		}
		select {
		case err := <-r.done:
			t.Fatalf("server stopped: %v\n%s", err, r.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no server.json\n%s", r.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServe starts the server, searches, checks the announced URL, server.json, the lock
// message of a second server, and the graceful stop that removes server.json.
func TestServe(t *testing.T) {
	data, _ := testLib(t, 3)
	r := start(t, data, "--api-key-file", keyFile(t), "--log-format", "json")
	if !strings.Contains(r.stdout.String(), "Glimpse is running at "+r.url) {
		t.Errorf("stdout: %q", r.stdout.String())
	}
	if code, body := get(t, r.url+"/readyz"); code != 200 {
		t.Fatalf("readyz %d %s", code, body)
	}
	code, body := get(t, r.url+"/api/v1/search?q=a+red+circle&min_score=0")
	var res struct{ Total int }
	if json.Unmarshal([]byte(body), &res); code != 200 || res.Total != 3 {
		t.Fatalf("search %d %s", code, body)
	}
	if code, body := get(t, r.url+"/"); code != 200 || !strings.Contains(strings.ToLower(body), "<html") {
		t.Fatalf("ui %d %.200s", code, body)
	}

	// a second server on the same data dir names the first
	var out, errOut bytes.Buffer
	err := Run(context.Background(), []string{"--data", data, "--addr", "127.0.0.1:0"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), r.url) {
		t.Fatalf("second server: %v", err)
	}

	r.stop()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("graceful stop: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not stop")
	}
	if _, err := os.Stat(filepath.Join(data, client.ServerFileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("server.json left behind: %v", err)
	}
	var logLine map[string]any
	first, _, _ := strings.Cut(r.stderr.String(), "\n")
	if err := json.Unmarshal([]byte(first), &logLine); err != nil {
		t.Fatalf("log is not JSON: %q", first)
	}
}

// TestStaleServerFile checks that a server.json left by a dead server is seen as stale and
// replaced by the next server.
func TestStaleServerFile(t *testing.T) {
	data, _ := testLib(t, 1)
	stale := client.ServerFile{URL: "http://127.0.0.1:1", PID: 1 << 30, Instance: "gone", Started: time.Now()}
	if err := client.WriteServerFile(data, stale); err != nil {
		t.Fatal(err)
	}
	if _, st, err := client.Discover(context.Background(), data, nil); st != client.StaleServer || err == nil {
		t.Fatalf("dead pid: %v %v", st, err)
	}
	stale.PID = os.Getpid() // a live process, but nothing listens
	client.WriteServerFile(data, stale)
	if _, st, err := client.Discover(context.Background(), data, nil); st != client.StaleServer || !strings.Contains(err.Error(), "nothing listens") {
		t.Fatalf("no listener: %v %v", st, err)
	}
	r := start(t, data)
	if f, st, err := client.Discover(context.Background(), data, nil); st != client.LiveServer || err != nil || f.Instance == "gone" || f.URL != r.url {
		t.Fatalf("replaced: %+v %v %v", f, st, err)
	}
}
