package indexer

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/library/librarytest"
)

// Environment of TestChaos: the number of trials (default 10; `make chaos` asks for 100) and a
// file for the JSON report.
const (
	envChaosTrials = "GLIMPSE_CHAOS_TRIALS"
	envChaosReport = "GLIMPSE_CHAOS_REPORT"
)

// chaosReport is TestChaos's outcome; every count but Trials must be zero.
type chaosReport struct {
	Trials     int            `json:"trials"`
	ByPhase    map[string]int `json:"by_phase"`
	Lost       int            `json:"lost"`       // photos missing after the kill and a rerun
	Duplicated int            `json:"duplicated"` // embeddings beyond one per distinct content
	Corrupted  int            `json:"corrupted"`  // libraries that did not open, failed bbolt's check or had a broken thumbnail
	Seconds    float64        `json:"seconds"`
}

// TestChaos kills an indexer child process (kill -9) at a random point of one of three phases,
// many times: indexing a fresh library, adding a new folder to an indexed one, and compacting
// the database after a run. After each kill the library must open, pass bbolt's check, and a
// rerun must leave every photo stored once with its embedding, decodable thumbnails, its rerank
// tokens and the same paths and embeddings as an uninterrupted run.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	trials := 10
	if v := os.Getenv(envChaosTrials); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", envChaosTrials, v)
		}
		trials = n
	}
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	writeScenes(t, a, 0, 60, 40)
	writeScenes(t, b, 60, 60, 40)
	ref := testLib(t, "")
	run(t, ref, Options{}, a, b)
	want := paths(t, ref.DB())
	m, info := testModel(t)
	refIx, _ := New(ref, m, info, Options{})
	wantEmb := refIx.Namespace().Len()

	rep := chaosReport{Trials: trials, ByPhase: map[string]int{}}
	rng := rand.New(rand.NewPCG(2026, 12))
	t0 := time.Now()
	for trial := range trials {
		phase := []string{"index", "new-folder", "compact"}[trial%3]
		rep.ByPhase[phase]++
		data := filepath.Join(t.TempDir(), "data")
		if phase == "new-folder" {
			lib := testLib(t, data)
			run(t, lib, Options{}, a)
			lib.Close()
		}
		env := []string{envChild + "=" + a + string(os.PathListSeparator) + b, envChildData + "=" + data}
		if phase == "compact" {
			env = append(env, envChildCompact+"=1")
		}
		var stderr bytes.Buffer
		cmd, sc := startChild(t, &stderr, env...)
		lines := 0
		killAt := 1 + rng.IntN(110) // a stored file (of 120, or 60 new ones)
		for sc.Scan() {
			lines++
			if phase == "compact" {
				if sc.Text() == "compacting" {
					time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond) // somewhere in the rewrite
					break
				}
			} else if lines >= killAt {
				break
			}
		}
		cmd.Process.Kill() // SIGKILL; the child may have finished already
		cmd.Wait()

		lib, err := library.Open(data, library.Options{NoSync: true})
		if err != nil {
			rep.Corrupted++
			t.Errorf("trial %d (%s, after %d lines): the library does not open: %v\n%s", trial, phase, lines, err, stderr.String())
			continue
		}
		if err := lib.DB().Check(); err != nil {
			rep.Corrupted++
			t.Errorf("trial %d (%s): %v", trial, phase, err)
		}
		run(t, lib, Options{}, a, b)
		got := paths(t, lib.DB())
		if lost := len(want) - len(got); lost > 0 || !slices.Equal(got, want) {
			rep.Lost += max(lost, 1)
			t.Errorf("trial %d (%s): %d paths after the rerun, want %d", trial, phase, len(got), len(want))
		}
		ix, _ := New(lib, m, info, Options{})
		if n := ix.Namespace().Len(); n != wantEmb {
			if n > wantEmb {
				rep.Duplicated += n - wantEmb
			} else {
				rep.Lost += wantEmb - n
			}
			t.Errorf("trial %d (%s): %d embeddings, want %d", trial, phase, n, wantEmb)
		}
		if bad := brokenThumbs(t, lib); bad > 0 {
			rep.Corrupted++
			t.Errorf("trial %d (%s): %d thumbnails missing or undecodable", trial, phase, bad)
		}
		if st, err := LibraryStats(lib, info); err != nil || st.TokenFiles != wantEmb {
			rep.Lost++
			t.Errorf("trial %d (%s): %d contents' rerank tokens cached after the rerun, want %d (%v)", trial, phase,
				st.TokenFiles, wantEmb, err)
		}
		lib.Close()
	}
	rep.Seconds = time.Since(t0).Round(time.Second).Seconds()
	line, _ := json.Marshal(rep)
	t.Logf("chaos: %s", line)
	if p := os.Getenv(envChaosReport); p != "" {
		if err := os.WriteFile(p, append(line, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// brokenThumbs counts stored images whose thumbnail is missing, empty or not a JPEG.
func brokenThumbs(tb testing.TB, lib *library.Library) int { return librarytest.BrokenThumbs(tb, lib) }
