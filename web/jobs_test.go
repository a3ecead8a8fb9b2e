package web

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/web/client"
)

// serveReal starts the server on a loopback listener; it stops at cleanup.
func serveReal(tb testing.TB, f *fixture) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.Serve(ctx, ln) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// wait polls a job until it is final.
func wait(tb testing.TB, c *client.Client, id string) client.Job {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		j, err := c.Job(context.Background(), id)
		if err != nil {
			tb.Fatal(err)
		}
		if j.State.Final() {
			return j
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("job %s did not finish", id)
	return client.Job{}
}

// TestIndexJob runs index jobs through the API with the client package: a folder of new
// scenes and a bad file, a rerun (unchanged), a cancelled queued job, and the index roots.
func TestIndexJob(t *testing.T) {
	f := newFixture(t, 2, Options{IndexRoots: nil})
	c := &client.Client{BaseURL: serveReal(t, f), Key: testKey}
	ctx := context.Background()
	more := filepath.Join(t.TempDir(), "more")
	paths, _ := writeScenes(t, more, 5, 6)
	writeFile(t, filepath.Join(more, "notes.png"), []byte("not an image"))

	j, err := c.StartIndex(ctx, client.IndexRequest{Paths: []string{more}, Workers: 2})
	if err != nil || j.State != client.JobQueued || j.URL != "/api/v1/jobs/"+j.ID {
		t.Fatalf("start: %+v %v", j, err)
	}
	j = wait(t, c, j.ID)
	p := j.Progress
	if j.State != client.JobDone || p.Indexed != 6 || p.Skipped != 1 || p.Done != 7 || p.Total != 7 || j.Finished == nil {
		t.Fatalf("job %+v", j)
	}
	if len(j.Problems) != 1 || filepath.Base(j.Problems[0].Path) != "notes.png" || j.Problems[0].Reason == "" {
		t.Fatalf("problems %+v", j.Problems)
	}
	if n := f.lib.DB().ImageCount(); n != 8 {
		t.Fatalf("%d images after the job, want 8", n)
	}
	if _, err := f.lib.DB().ImageByPath(paths[3]); err != nil {
		t.Fatal(err)
	}

	// a rerun finds everything unchanged
	j, _ = c.StartIndex(ctx, client.IndexRequest{Paths: []string{more}})
	if j = wait(t, c, j.ID); j.State != client.JobDone || j.Progress.Unchanged != 6 {
		t.Fatalf("rerun %+v", j.Progress)
	}

	// a job queued behind a running one is cancelled before it starts
	<-f.srv.jobs.run // hold the runner: take its token
	q, err := c.StartIndex(ctx, client.IndexRequest{Paths: []string{more}})
	if err != nil {
		t.Fatal(err)
	}
	if j, err = c.CancelJob(ctx, q.ID); err != nil {
		t.Fatal(err)
	}
	j = wait(t, c, q.ID)
	f.srv.jobs.run <- struct{}{}
	if j.State != client.JobCancelled || j.Started != nil {
		t.Fatalf("cancelled job %+v", j)
	}
}

// TestIndexRoots checks that jobs outside the configured roots are refused.
func TestIndexRoots(t *testing.T) {
	root := t.TempDir()
	f := newFixture(t, 0, Options{IndexRoots: []string{root}})
	c := &client.Client{BaseURL: serveReal(t, f), Key: testKey}
	_, err := c.StartIndex(context.Background(), client.IndexRequest{Paths: []string{t.TempDir()}})
	if !client.IsStatus(err, 403) {
		t.Fatalf("outside the roots: %v", err)
	}
	if _, err := c.StartIndex(context.Background(), client.IndexRequest{Paths: []string{root}}); err != nil {
		t.Fatalf("inside: %v", err)
	}
}

// TestIndexRootsSymlinks performs the escape: a symlink inside an index root that points at a
// folder or a photo outside it is refused as a job path (403), and met while walking a root it
// is skipped (nothing outside gets indexed, so nothing outside can be served).
func TestIndexRootsSymlinks(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	secret, _ := writeScenes(t, outside, 3, 1)
	inside, _ := writeScenes(t, filepath.Join(root, "photos"), 4, 1)
	if err := os.Symlink(outside, filepath.Join(root, "photos", "linkdir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret[0], filepath.Join(root, "photos", "link.png")); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, 0, Options{IndexRoots: []string{root}})
	c := &client.Client{BaseURL: serveReal(t, f), Key: testKey}
	ctx := context.Background()
	for _, p := range []string{filepath.Join(root, "photos", "linkdir"), filepath.Join(root, "photos", "link.png")} {
		if _, err := c.StartIndex(ctx, client.IndexRequest{Paths: []string{p}}); !client.IsStatus(err, 403) {
			t.Errorf("job on the link %s: %v, want 403", p, err)
		}
	}
	j, err := c.StartIndex(ctx, client.IndexRequest{Paths: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	j = wait(t, c, j.ID)
	if _, err := f.lib.DB().ImageByPath(inside[0]); err != nil {
		t.Fatalf("the photo inside the root was not indexed: %v (job %+v)", err, j)
	}
	for _, p := range []string{filepath.Join(root, "photos", "link.png"), filepath.Join(root, "photos", "linkdir", filepath.Base(secret[0]))} {
		if _, err := f.lib.DB().ImageByPath(p); err == nil {
			t.Errorf("%s, a link out of the root, was indexed", p)
		}
	}
	n := 0
	for _, pr := range j.Problems {
		if strings.Contains(pr.Reason, "outside the allowed folders") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("problems %+v: want the two links reported as outside the allowed folders", j.Problems)
	}
}
