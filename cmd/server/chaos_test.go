package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/indexer"
	"github.com/glimpse-search/glimpse/internal/fixture"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/library/librarytest"
	"github.com/glimpse-search/glimpse/rerank"
	"github.com/glimpse-search/glimpse/web/client"
)

// Environment of the server child of TestServerJobChaos: its data dir and API key file.
const (
	envServerChild    = "GLIMPSE_SERVER_TEST_CHILD"
	envServerChildKey = "GLIMPSE_SERVER_TEST_CHILD_KEY"
)

// TestMain runs the server child of TestServerJobChaos when asked.
func TestMain(m *testing.M) {
	if data := os.Getenv(envServerChild); data != "" {
		args := []string{"--data", data, "--addr", "127.0.0.1:0", "--api-key-file", os.Getenv(envServerChildKey), "--rate", "0"}
		if err := Run(context.Background(), args, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "server child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestServerJobChaos kills a server (kill -9) while its index job commits batches, at a random
// point, several times (GLIMPSE_CHAOS_TRIALS, default 3; `make chaos` asks for more). After each
// kill the data dir must open and pass bbolt's check, and rerunning the job's folder must leave
// every photo stored once, with its embedding, a decodable thumbnail and its rerank tokens.
func TestServerJobChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	trials := 3
	if v := os.Getenv("GLIMPSE_CHAOS_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("GLIMPSE_CHAOS_TRIALS=%q: want a positive number", v)
		}
		trials = min(n, 20)
	}
	const photos = 40
	dir := filepath.Join(t.TempDir(), "photos")
	librarytest.WriteScenes(t, dir, 0, photos, 48)
	key := keyFile(t)
	m, info := fixture.Model(t)
	rng := rand.New(rand.NewPCG(2026, 7))
	for trial := range trials {
		data := filepath.Join(t.TempDir(), "data")
		var out bytes.Buffer
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envServerChild+"="+data, envServerChildKey+"="+key)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAt := 1 + rng.IntN(photos-4)
		done := runJobUntil(t, data, dir, killAt)
		cmd.Process.Kill() // SIGKILL, whatever the job was doing
		cmd.Wait()
		t.Logf("trial %d: killed after %d of %d files", trial, done, photos)

		lib, err := library.Open(data, library.Options{NoSync: true})
		if err != nil {
			t.Fatalf("trial %d (killed after %d files): the data dir does not open: %v\n%s", trial, done, err, out.String())
		}
		if err := lib.DB().Check(); err != nil {
			t.Errorf("trial %d (killed after %d files): %v", trial, done, err)
		}
		ix, err := indexer.New(lib, m, info, indexer.Options{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ix.Add(context.Background(), []string{dir}); err != nil {
			t.Fatalf("trial %d: the rerun: %v", trial, err)
		}
		if n := len(librarytest.Paths(t, lib.DB())); n != photos || ix.Namespace().Len() != photos {
			t.Errorf("trial %d (killed after %d files): %d photos and %d embeddings after the rerun, want %d of each",
				trial, done, n, ix.Namespace().Len(), photos)
		}
		if bad := librarytest.BrokenThumbs(t, lib); bad > 0 {
			t.Errorf("trial %d: %d thumbnails missing or undecodable", trial, bad)
		}
		tc, err := rerank.OpenTokenCache(rerank.CacheOptions{Dir: library.TokenDir(data, ix.Namespace().Name(), info),
			TokenLen: m.Vision.TokenLen()})
		if err != nil {
			t.Errorf("trial %d: token cache: %v", trial, err)
		} else if tc.Len() != photos {
			t.Errorf("trial %d: %d photos' rerank tokens cached after the rerun, want %d", trial, tc.Len(), photos)
		}
		lib.Close()
	}
}

// runJobUntil waits for the server child to announce itself in data, starts an index job over
// dir in batches of 4, and returns once the job reports at least n files done (or has ended),
// with the count it saw.
func runJobUntil(t *testing.T, data, dir string, n int) int {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute)
	var f client.ServerFile
	for {
		var err error
		if f, err = client.ReadServerFile(data); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server child did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := &client.Client{BaseURL: f.URL, Key: testKey}
	job, err := c.StartIndex(ctx, client.IndexRequest{Paths: []string{dir}, Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	for time.Now().Before(deadline) {
		j, err := c.Job(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.Progress.Done >= n || j.Finished != nil {
			return j.Progress.Done
		}
		time.Sleep(time.Duration(rand.IntN(15)) * time.Millisecond)
	}
	t.Fatal("the job made no progress in 2 minutes")
	return 0
}
