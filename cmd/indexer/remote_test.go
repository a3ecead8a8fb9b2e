package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/indexer"
	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/models"
	"github.com/glimpse-search/glimpse/searcher"
	"github.com/glimpse-search/glimpse/web"
	"github.com/glimpse-search/glimpse/web/client"
)

const testKey = "indexer-test-key-0123456789"

// startServer runs a server in-process over a new data dir, announced by its server.json as
// cmd/server does, and returns the data dir.
func startServer(t *testing.T) (string, *library.Library) {
	t.Helper()
	data := t.TempDir()
	lib, err := library.Open(data, library.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	info, err := library.ModelInfo(models.Default())
	if err != nil {
		t.Fatal(err)
	}
	m, err := encoder.Open(models.Default(), encoder.Options{IntraOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := web.NewKeys(testKey)
	srv, err := web.New(lib, m, info, web.Options{Keys: keys, Search: searcher.Options{CacheDir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	sf := client.ServerFile{URL: "http://" + ln.Addr().String(), PID: os.Getpid(), Instance: srv.Instance(), Started: time.Now()}
	if err := client.WriteServerFile(data, sf); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		client.RemoveServerFile(data, sf.Instance)
		m.Close()
		lib.Close()
	})
	return data, lib
}

// TestAddHandOver runs `indexer add` on a data dir a server holds: the job goes through the
// API (the database lock is never taken here), with the same summary line and report, and is
// refused without an API key.
func TestAddHandOver(t *testing.T) {
	data, lib := startServer(t)
	src := photos(t)
	kf := filepath.Join(t.TempDir(), "key")
	os.WriteFile(kf, []byte("# the server's key\n"+testKey+"\n"), 0o600)

	_, _, err := runCmd(t, "add", "--data", data, src)
	if err == nil || !strings.Contains(err.Error(), "--api-key-file") {
		t.Fatalf("without a key: %v", err)
	}
	report := filepath.Join(t.TempDir(), "report.jsonl")
	out, stderr, err := runCmd(t, "add", "--data", data, "--api-key-file", kf, "--report", report, src)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(out, "9 files: 7 indexed, 0 unchanged, 0 duplicate, 2 skipped, 0 failed") ||
		!strings.Contains(stderr, "runs this job") {
		t.Fatalf("stdout %q\nstderr %q", out, stderr)
	}
	if n := lib.DB().ImageCount(); n != 7 {
		t.Fatalf("%d images in the server's library, want 7", n)
	}
	f, err := os.Open(report)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	skipped := map[string]bool{}
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var r indexer.FileResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		skipped[filepath.Base(r.Path)] = r.Status == indexer.StatusSkipped
	}
	if len(skipped) != 2 || !skipped["notes.jpg"] || !skipped["empty.png"] {
		t.Fatalf("report %v", skipped)
	}

	t.Setenv(cli.EnvAPIKey, testKey) // the key from the environment; relative paths are made absolute
	t.Chdir(filepath.Dir(src))
	out, stderr, err = runCmd(t, "add", "--data", data, "--tokens", "copies", filepath.Base(src))
	if err != nil || !strings.Contains(out, "0 indexed, 7 unchanged") {
		t.Fatalf("rerun: %q %v", out, err)
	}
	if !strings.Contains(stderr, "--tokens applies when add opens the data dir itself") {
		t.Errorf("--tokens handed to a server without a word: %q", stderr)
	}
	t.Setenv(cli.EnvAPIKey, "wrong-key-0123456789")
	if _, _, err := runCmd(t, "add", "--data", data, src); err == nil || !strings.Contains(err.Error(), "not valid") {
		t.Fatalf("wrong key: %v", err)
	}
}

// TestAddStaleServer checks that a server.json left by a dead server is ignored.
func TestAddStaleServer(t *testing.T) {
	data := t.TempDir()
	client.WriteServerFile(data, client.ServerFile{URL: "http://127.0.0.1:1", PID: 1 << 30, Instance: "gone"})
	src := photos(t)
	out, stderr, err := runCmd(t, "add", "--data", data, src)
	if err != nil || !strings.Contains(out, "7 indexed") || !strings.Contains(stderr, "stale server.json") {
		t.Fatalf("%v\n%s\n%s", err, out, stderr)
	}
}
