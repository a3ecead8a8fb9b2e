package indexer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/glimpse-search/glimpse/library"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/models"
)

// The kill -9 child: the test binary run again with these variables indexes a folder into a
// data dir, printing one line per stored file.
const (
	envChild        = "GLIMPSE_INDEXER_TEST_CHILD"   // the folders to index, separated by os.PathListSeparator
	envChildData    = "GLIMPSE_INDEXER_TEST_DATA"    // the data dir
	envChildCompact = "GLIMPSE_INDEXER_TEST_COMPACT" // "1": then compact the database, printing "compacting" first
)

func runChild(src, data string) int {
	lib, err := library.Open(data, library.Options{NoSync: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	info, err := library.ModelInfo(models.Default())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	m, err := encoder.Open(models.Default(), encoder.Options{IntraOpThreads: 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out := bufio.NewWriter(os.Stdout)
	ix, err := New(lib, m, info, Options{Batch: 5, Workers: 2, OnFile: func(r FileResult) {
		fmt.Fprintln(out, r.Status)
		out.Flush()
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := ix.Add(context.Background(), filepath.SplitList(src)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if os.Getenv(envChildCompact) == "1" {
		if err := lib.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintln(out, "compacting")
		out.Flush()
		if _, err := library.Compact(data, library.CompactOptions{MaxRatio: -1, NoSync: true}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintln(out, "compacted")
		out.Flush()
	}
	return 0
}

func TestResumeAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	src := t.TempDir()
	const n = 300
	writeScenes(t, src, 0, n, 40)
	killed := t.TempDir()

	cmd, sc := startChild(t, os.Stderr, envChild+"="+src, envChildData+"="+killed)
	stored := 0
	for sc.Scan() {
		if stored++; stored == 60 {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	if stored < 60 {
		t.Fatalf("child stored %d files before exiting on its own", stored)
	}

	lib := testLib(t, killed)
	before := lib.DB().ImageCount()
	if before >= n {
		t.Fatalf("the child finished (%d records) before the kill; nothing to resume", before)
	}
	s, _ := run(t, lib, Options{Batch: 7}, src)
	if s.Unchanged != before || s.Indexed+s.Unchanged != n || s.Failed+s.Skipped+s.Duplicate != 0 {
		t.Errorf("rerun %+v after %d committed, want the rest indexed", s, before)
	}
	ref := testLib(t, "")
	run(t, ref, Options{}, src)
	got, want := paths(t, lib.DB()), paths(t, ref.DB())
	if !slices.Equal(got, want) || len(got) != n || lib.DB().ImageCount() != n {
		t.Fatalf("after resume %d records (%d paths), uninterrupted %d", lib.DB().ImageCount(), len(got), len(want))
	}
	m, info := testModel(t)
	a, _ := New(lib, m, info, Options{})
	b, _ := New(ref, m, info, Options{})
	if a.Namespace().Len() != b.Namespace().Len() {
		t.Errorf("%d embeddings after resume, %d uninterrupted", a.Namespace().Len(), b.Namespace().Len())
	}
	leftovers, _ := filepath.Glob(filepath.Join(killed, library.ThumbsDir, "*", ".tmp-*"))
	t.Logf("killed after %d stored lines, %d records committed, %d temp thumbnails left by the kill",
		stored, before, len(leftovers))
}

// startChild runs the test binary again as the kill -9 child with env added, its stderr to
// stderr, and returns it with a scanner over its stdout lines.
func startChild(t *testing.T, stderr io.Writer, env ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(stdout)
}
