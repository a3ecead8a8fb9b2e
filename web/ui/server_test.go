package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// gallery is a small generated scene gallery: its image files and, per image, its first caption.
type gallery struct {
	dir      string
	images   []string // absolute paths, in captions.json order
	captions []string
}

// repoRoot is the module root (this package is web/ui).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// command runs a command in the module root and fails the test with its output on error.
func command(t *testing.T, ctx context.Context, name string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = repoRoot(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

// buildTools builds the named commands (paths under the module root, e.g. cmd/server) into a
// temp dir and returns it.
func buildTools(t *testing.T, ctx context.Context, names ...string) string {
	t.Helper()
	bin := t.TempDir()
	args := []string{"build", "-o", bin + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "./"+n)
	}
	command(t, ctx, "go", args...)
	return bin
}

// makeGallery generates n scenes with scenes generate into dir/g.
func makeGallery(t *testing.T, ctx context.Context, bin, dir string, n int) *gallery {
	t.Helper()
	g := &gallery{dir: filepath.Join(dir, "g")}
	command(t, ctx, filepath.Join(bin, "scenes"), "generate", "--n", fmt.Sprint(n), "--seed", "3", "--size", "256",
		"--out", g.dir)
	raw, err := os.ReadFile(filepath.Join(g.dir, "captions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Images []struct {
			Filename  string `json:"filename"`
			Sentences []struct {
				Raw string `json:"raw"`
			} `json:"sentences"`
		} `json:"images"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("captions.json: %v", err)
	}
	for _, im := range doc.Images {
		g.images = append(g.images, filepath.Join(g.dir, "images", im.Filename))
		g.captions = append(g.captions, im.Sentences[0].Raw)
	}
	if len(g.images) != n {
		t.Fatalf("gallery has %d images, want %d", len(g.images), n)
	}
	return g
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// lockedBuffer collects a child process's output for the failure message.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitReady polls url until it answers 200 or the deadline passes.
func waitReady(ctx context.Context, url string, exited <-chan struct{}) error {
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last error %v)", url, ctx.Err(), err)
		case <-exited:
			return fmt.Errorf("the server exited before %s answered", url)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startServer builds cmd/server, lab/cmd/scenes and cmd/indexer, generates a 40-scene gallery,
// indexes its images and captions (the captions as texts, for image -> text), starts the server
// on a free loopback port and waits for /readyz. It returns the server's base URL; the server
// stops when the test ends.
func startServer(t *testing.T) (string, *gallery) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := buildTools(t, ctx, "cmd/server", "lab/cmd/scenes", "cmd/indexer")
	g := makeGallery(t, ctx, bin, dir, 40)
	data := filepath.Join(dir, "data")
	command(t, ctx, filepath.Join(bin, "indexer"), "add", "--data", data, filepath.Join(g.dir, "images"))
	var texts strings.Builder
	raw, err := os.ReadFile(filepath.Join(g.dir, "captions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Images []struct {
			Sentences []struct {
				Raw string `json:"raw"`
			} `json:"sentences"`
		} `json:"images"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, im := range doc.Images {
		for _, s := range im.Sentences {
			texts.WriteString(s.Raw + "\n")
		}
	}
	textFile := filepath.Join(dir, "texts.txt")
	if err := os.WriteFile(textFile, []byte(texts.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	command(t, ctx, filepath.Join(bin, "indexer"), "add-texts", "--data", data, textFile)

	addr := freeAddr(t)
	var out lockedBuffer
	srv := exec.Command(filepath.Join(bin, "server"), "--data", data, "--addr", addr, "--rate-exempt-loopback")
	srv.Dir = repoRoot(t) // the `make setup` ONNX Runtime cache is found from here
	srv.Stdout, srv.Stderr = &out, &out
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		srv.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		srv.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			srv.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("server output:\n%s", out.String())
		}
	})
	base := "http://" + addr
	if err := waitReady(ctx, base+"/readyz", exited); err != nil {
		t.Fatalf("%v\nserver output:\n%s", err, out.String())
	}
	return base, g
}
