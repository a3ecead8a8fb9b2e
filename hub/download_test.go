package hub_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/hub"
	"github.com/glimpse-search/glimpse/hub/hubtest"
)

var kinds = []hub.Kind{hub.HuggingFace, hub.ModelScope}

// TestSnapshot downloads the whole repository from each hub, through the faults a hub or a
// network may throw, and checks the files in place.
func TestSnapshot(t *testing.T) {
	const half = 150 << 10 // half of visual/model.onnx
	cases := []struct {
		name   string
		mirror hubtest.Options
		opts   func(*hub.Options)
		faults map[string]hubtest.Fault
		// check inspects the mirror's log after a successful download.
		check func(t *testing.T, m *hubtest.Mirror, files map[string][]byte)
	}{
		{name: "full download",
			check: func(t *testing.T, m *hubtest.Mirror, files map[string][]byte) {
				for p, b := range files {
					got := bodyRequests(m, p)
					if len(got) != 1 || got[0].Range != "" || got[0].Bytes != int64(len(b)) {
						t.Errorf("%s: want one whole GET, got %+v", p, got)
					}
				}
			}},
		{name: "token stays on the endpoint's host",
			mirror: hubtest.Options{Token: "s3cret"}, // and the CDN refuses an Authorization header
			opts:   func(o *hub.Options) { o.Token = "s3cret" },
			check: func(t *testing.T, m *hubtest.Mirror, _ map[string][]byte) {
				cdn := 0
				for _, r := range m.Requests() {
					onCDN := strings.HasPrefix(r.Host, "localhost:")
					switch {
					case onCDN && r.Authorization != "":
						t.Errorf("token sent to the CDN: %+v", r)
					case !onCDN && r.Authorization != "Bearer s3cret":
						t.Errorf("token not sent to the hub: %+v", r)
					}
					if onCDN {
						cdn++
					}
				}
				if cdn != 2 {
					t.Errorf("%d CDN requests, want 2 (the LFS files)", cdn)
				}
			}},
		{name: "cut in half, resumed",
			faults: map[string]hubtest.Fault{"visual/model.onnx": {Kind: hubtest.Cut, After: half, Times: 1}},
			check: func(t *testing.T, m *hubtest.Mirror, files map[string][]byte) {
				got := bodyRequests(m, "visual/model.onnx")
				size := int64(len(files["visual/model.onnx"]))
				want := fmt.Sprintf("bytes=%d-", half)
				if len(got) != 2 || got[0].Bytes != half || got[1].Range != want || got[1].Status != 206 || got[1].Bytes != size-half {
					t.Errorf("want a GET cut at %d then %s for the remaining %d bytes, got %+v", half, want, size-half, got)
				}
			}},
		{name: "small file cut, resumed",
			faults: map[string]hubtest.Fault{"textual/tokenizer.json": {Kind: hubtest.Cut, After: 1000, Times: 2}},
			check: func(t *testing.T, m *hubtest.Mirror, _ map[string][]byte) {
				got := bodyRequests(m, "textual/tokenizer.json")
				if len(got) != 3 || got[1].Range != "bytes=1000-" || got[2].Range != "bytes=2000-" {
					t.Errorf("want 3 GETs resuming at 1000 and 2000, got %+v", got)
				}
			}},
		{name: "503 retried",
			faults: map[string]hubtest.Fault{"config.json": {Kind: hubtest.Unavailable, Times: 2}},
			check: func(t *testing.T, m *hubtest.Mirror, _ map[string][]byte) {
				n := 0
				for _, r := range m.FileRequests() {
					if r.File == "config.json" && r.Status == 503 {
						n++
					}
				}
				if n != 2 {
					t.Errorf("%d answers 503, want 2", n)
				}
			}},
		{name: "tree API paged",
			mirror: hubtest.Options{NoSiblings: true, TreePageSize: 2},
			check: func(t *testing.T, m *hubtest.Mirror, _ map[string][]byte) {
				pages := 0
				for _, r := range m.Requests() {
					if filepath.Base(filepath.Dir(r.Path)) == "tree" {
						pages++
					}
				}
				if pages != 4 { // 5 files + 2 folders, 2 a page
					t.Errorf("%d tree pages, want 4", pages)
				}
			}},
	}
	for _, kind := range kinds {
		for _, tc := range cases {
			if kind == hub.ModelScope && tc.mirror.NoSiblings {
				continue
			}
			t.Run(kind.String()+"/"+tc.name, func(t *testing.T) {
				m, c, files := setup(t, tc.mirror, func(o *hub.Options) {
					o.Kind = kind
					if tc.opts != nil {
						tc.opts(o)
					}
				})
				for p, f := range tc.faults {
					m.Fault(clipRepo, p, f)
				}
				dst := t.TempDir()
				s, err := c.Snapshot(context.Background(), clipRepo, "", nil, dst)
				if err != nil {
					t.Fatal(err)
				}
				checkTree(t, dst, files)
				var total int64
				for _, f := range s.Files {
					total += f.Size
					if !f.Verified || f.Reused || f.Local != filepath.Join(dst, filepath.FromSlash(f.Path)) {
						t.Errorf("%s: %+v", f.Path, f)
					}
				}
				if len(s.Files) != len(files) || s.Downloaded < total {
					t.Errorf("%d files, %d bytes downloaded; want %d files, at least %d bytes", len(s.Files), s.Downloaded, len(files), total)
				}
				if tc.check != nil {
					tc.check(t, m, files)
				}
			})
		}
	}
}

// TestResumeAcrossCalls leaves half a file behind (no retries), then downloads again: the
// second call asks only for the rest, and copes with a server that ignores or refuses the range.
func TestResumeAcrossCalls(t *testing.T) {
	const path, half = "visual/model.onnx", 150 << 10
	cases := []struct {
		name      string
		second    hubtest.FaultKind // the mirror's answer to the resuming request
		wantRange string            // the Range of the request that brought the bytes
		wantBytes int64
	}{
		{name: "206", wantRange: fmt.Sprintf("bytes=%d-", half), wantBytes: 150 << 10},
		{name: "range ignored", second: hubtest.IgnoreRange, wantRange: fmt.Sprintf("bytes=%d-", half), wantBytes: 300 << 10},
		{name: "range refused", second: hubtest.RefuseRange, wantRange: "", wantBytes: 300 << 10},
	}
	for _, kind := range kinds {
		for _, tc := range cases {
			t.Run(kind.String()+"/"+tc.name, func(t *testing.T) {
				m, c, files := setup(t, hubtest.Options{}, func(o *hub.Options) { o.Kind = kind; o.Retries = -1 })
				dst := t.TempDir()
				m.Fault(clipRepo, path, hubtest.Fault{Kind: hubtest.Cut, After: half, Times: 1})
				_, err := c.Download(context.Background(), clipRepo, "", path, dst)
				if err == nil || !contains(err.Error(), clipRepo, path) {
					t.Fatalf("cut transfer: err %v, want an error naming %s and %s", err, clipRepo, path)
				}
				inc := filepath.Join(dst, "visual", "model.onnx.incomplete")
				if st, err := os.Stat(inc); err != nil || st.Size() != half {
					t.Fatalf("after the cut: %v, %v; want %d bytes in %s", st, err, half, inc)
				}
				m.ResetRequests()
				if tc.second != 0 {
					m.Fault(clipRepo, path, hubtest.Fault{Kind: tc.second, Times: 1})
				}
				f, err := c.Download(context.Background(), clipRepo, "", path, dst)
				if err != nil {
					t.Fatal(err)
				}
				checkTree(t, dst, map[string][]byte{path: files[path]})
				got := bodyRequests(m, path)
				if len(got) != 1 || got[0].Range != tc.wantRange || got[0].Bytes != tc.wantBytes {
					t.Errorf("want one GET with Range %q for %d bytes, got %+v", tc.wantRange, tc.wantBytes, got)
				}
				if !f.Verified || f.Reused {
					t.Errorf("%+v", f)
				}
			})
		}
	}
}

// TestFailures checks the errors: each names what failed, wraps the right sentinel, and leaves
// no unverified file in place.
func TestFailures(t *testing.T) {
	cases := []struct {
		name   string
		kinds  []hub.Kind
		repo   string
		rev    string
		path   string // "" downloads a snapshot
		fault  hubtest.Fault
		opts   func(*hub.Options)
		want   error
		words  []string // the error message must name them
		noData bool     // no byte of any file may have been requested
		check  func(t *testing.T, err error)
	}{
		{name: "corrupt file", path: "visual/model.onnx", fault: hubtest.Fault{Kind: hubtest.Corrupt, After: 1234},
			want: hub.ErrChecksum, words: []string{"visual/model.onnx", "sha256", "expected"},
			check: func(t *testing.T, err error) {
				var ce *hub.ChecksumError
				if !errors.As(err, &ce) || ce.Path != "visual/model.onnx" || len(ce.Want) != 64 || len(ce.Got) != 64 || ce.Want == ce.Got {
					t.Errorf("want a ChecksumError with both digests, got %#v", ce)
				}
			}},
		{name: "corrupt small file", kinds: []hub.Kind{hub.HuggingFace}, path: "config.json", fault: hubtest.Fault{Kind: hubtest.Corrupt},
			want: hub.ErrChecksum, words: []string{"config.json", "git-sha1"}},
		{name: "corrupt snapshot", fault: hubtest.Fault{Kind: hubtest.Corrupt}, want: hub.ErrChecksum, words: []string{"mismatch", "expected"}},
		{name: "unknown repo", repo: "immich-app/nope", want: hub.ErrNotFound, words: []string{"immich-app/nope"}, noData: true},
		{name: "unknown revision", rev: "v9", want: hub.ErrNotFound, words: []string{clipRepo, "v9"}, noData: true},
		{name: "file not in the repo", path: "visual/fp16/model.onnx", want: hub.ErrNotFound,
			words: []string{clipRepo, "visual/fp16/model.onnx"}, noData: true},
		{name: "listed file answers 404", path: "visual/model.onnx", fault: hubtest.Fault{Kind: hubtest.NotFound},
			want: hub.ErrNotFound, words: []string{clipRepo, "visual/model.onnx", "404"}},
		{name: "stalled transfer", path: "visual/model.onnx", fault: hubtest.Fault{Kind: hubtest.Hang, After: 1000},
			opts: func(o *hub.Options) { o.IdleTimeout = 200 * time.Millisecond; o.Retries = -1 },
			want: hub.ErrTimeout, words: []string{"visual/model.onnx", "no data", "200ms"}},
		{name: "stalled transfer retried", path: "visual/model.onnx", fault: hubtest.Fault{Kind: hubtest.Hang},
			opts: func(o *hub.Options) { o.IdleTimeout = 100 * time.Millisecond; o.Retries = 2 },
			want: hub.ErrTimeout, words: []string{"visual/model.onnx"}},
		{name: "disk full", opts: func(o *hub.Options) { o.FreeSpace = func(string) (int64, error) { return 100_000, nil } },
			want: hub.ErrNoSpace, words: []string{"needs 563.3 kB, 100.0 kB free on "}, noData: true},
	}
	for _, kind := range kinds {
		for _, tc := range cases {
			if tc.kinds != nil && tc.kinds[0] != kind {
				continue
			}
			t.Run(kind.String()+"/"+tc.name, func(t *testing.T) {
				m, c, _ := setup(t, hubtest.Options{}, func(o *hub.Options) {
					o.Kind = kind
					if tc.opts != nil {
						tc.opts(o)
					}
				})
				if tc.fault.Kind != 0 {
					m.Fault(clipRepo, "visual/model.onnx", tc.fault)
					m.Fault(clipRepo, "config.json", tc.fault)
				}
				repo := clipRepo
				if tc.repo != "" {
					repo = tc.repo
				}
				dst := t.TempDir()
				start := time.Now()
				var err error
				if tc.path != "" {
					_, err = c.Download(context.Background(), repo, tc.rev, tc.path, dst)
				} else {
					_, err = c.Snapshot(context.Background(), repo, tc.rev, nil, dst)
				}
				elapsed := time.Since(start)
				if !errors.Is(err, tc.want) || !contains(fmt.Sprint(err), tc.words...) {
					t.Fatalf("err = %v\nwant %v naming %q", err, tc.want, tc.words)
				}
				if tc.want == hub.ErrTimeout && elapsed > 3*time.Second {
					t.Errorf("took %v to give up", elapsed)
				}
				if tc.check != nil {
					tc.check(t, err)
				}
				if tc.noData && len(m.FileRequests()) > 0 {
					t.Errorf("file requests sent: %+v", m.FileRequests())
				}
				if tc.noData {
					checkTree(t, dst, nil)
				}
				if tc.want == hub.ErrChecksum { // no rejected file, no .incomplete, no empty one
					filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
						if err == nil && d.Type().IsRegular() {
							st, _ := d.Info()
							rel, _ := filepath.Rel(dst, p)
							rel = filepath.ToSlash(rel)
							bad := st.Size() == 0 || rel == "config.json" || rel == "visual/model.onnx" || strings.HasPrefix(rel, "visual/model.onnx.")
							if bad {
								t.Errorf("left behind: %s (%d bytes)", rel, st.Size())
							}
						}
						return nil
					})
				}
			})
		}
	}
}

// TestHangReleasedWithinTimeout measures the stall detection itself.
func TestHangReleasedWithinTimeout(t *testing.T) {
	m, c, _ := setup(t, hubtest.Options{}, func(o *hub.Options) { o.IdleTimeout = 300 * time.Millisecond; o.Retries = -1 })
	m.Fault(clipRepo, "textual/model.onnx", hubtest.Fault{Kind: hubtest.Hang, After: 64 << 10})
	start := time.Now()
	_, err := c.Download(context.Background(), clipRepo, "main", "textual/model.onnx", t.TempDir())
	if elapsed := time.Since(start); !errors.Is(err, hub.ErrTimeout) || elapsed < 300*time.Millisecond || elapsed > 2*time.Second {
		t.Fatalf("err %v after %v; want ErrTimeout after the 300ms idle timeout", err, elapsed)
	}
}

// TestSecondDownload downloads files already in place: nothing is fetched again, and a file
// altered on disk is replaced.
func TestSecondDownload(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind.String(), func(t *testing.T) {
			m, c, files := setup(t, hubtest.Options{}, func(o *hub.Options) { o.Kind = kind })
			dst := t.TempDir()
			if _, err := c.Snapshot(context.Background(), clipRepo, "", nil, dst); err != nil {
				t.Fatal(err)
			}
			m.ResetRequests()
			s, err := c.Snapshot(context.Background(), clipRepo, "", nil, dst)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.FileRequests(); len(got) != 0 {
				t.Errorf("second download requested files: %+v", got)
			}
			for _, f := range s.Files {
				if !f.Reused || !f.Verified {
					t.Errorf("%s: %+v", f.Path, f)
				}
			}
			if s.Downloaded != 0 {
				t.Errorf("downloaded %d bytes", s.Downloaded)
			}
			// A same-size file with other bytes is replaced.
			bad := append([]byte(nil), files["textual/tokenizer.json"]...)
			bad[0] ^= 1
			os.WriteFile(filepath.Join(dst, "textual", "tokenizer.json"), bad, 0o644)
			m.ResetRequests()
			if _, err := c.Snapshot(context.Background(), clipRepo, "", []string{"textual/"}, dst); err != nil {
				t.Fatal(err)
			}
			checkTree(t, dst, files)
			if got := bodyRequests(m, "textual/tokenizer.json"); len(got) != 1 || len(m.FileRequests()) != 1 {
				t.Errorf("want only textual/tokenizer.json fetched again, got %+v", m.FileRequests())
			}
		})
	}
}

// TestSelect downloads part of a repository by patterns.
func TestSelect(t *testing.T) {
	cases := []struct {
		name     string
		patterns []string
		want     []string
		err      error
	}{
		{name: "folder", patterns: []string{"textual/"}, want: []string{"textual/model.onnx", "textual/tokenizer.json"}},
		{name: "glob", patterns: []string{"*/model.onnx", "config.json"}, want: []string{"config.json", "textual/model.onnx", "visual/model.onnx"}},
		{name: "glob without match", patterns: []string{"*.safetensors"}},
		{name: "missing file", patterns: []string{"config.json", "visual/fp16/model.onnx"}, err: hub.ErrNotFound},
		{name: "bad pattern", patterns: []string{"[z-a"}, err: hub.ErrInput},
	}
	m, c, files := setup(t, hubtest.Options{}, nil)
	_ = m
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := t.TempDir()
			_, err := c.Snapshot(context.Background(), clipRepo, "main", tc.patterns, dst)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			want := map[string][]byte{}
			for _, p := range tc.want {
				want[p] = files[p]
			}
			checkTree(t, dst, want)
		})
	}
}

// TestUnreachable downloads from a port nobody listens on: the error names the URL.
func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	for _, kind := range kinds {
		c, err := hub.New(hub.Options{Kind: kind, Endpoint: "http://" + addr, Retries: 1, Backoff: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Snapshot(context.Background(), clipRepo, "", nil, t.TempDir())
		var ne *hub.NetError
		if !errors.Is(err, hub.ErrUnreachable) || !errors.As(err, &ne) || !contains(err.Error(), "http://"+addr+"/api/") {
			t.Errorf("%v: err %v, want ErrUnreachable naming the URL", kind, err)
		}
	}
}

// TestProgress checks the progress reports of a download resumed after a cut.
func TestProgress(t *testing.T) {
	var mu sync.Mutex
	var reports []hub.Progress
	m, c, files := setup(t, hubtest.Options{}, func(o *hub.Options) {
		o.ProgressInterval = time.Nanosecond
		o.Workers = 1
		o.Progress = func(p hub.Progress) {
			mu.Lock()
			reports = append(reports, p)
			mu.Unlock()
		}
	})
	m.Fault(clipRepo, "visual/model.onnx", hubtest.Fault{Kind: hubtest.Cut, After: 1000, Times: 1})
	if _, err := c.Snapshot(context.Background(), clipRepo, "", nil, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, b := range files {
		total += int64(len(b))
	}
	last := reports[len(reports)-1]
	if last.Done != total || last.Total != total || last.FilesDone != len(files) || last.Files != len(files) || last.ETA != 0 || last.Repo != clipRepo {
		t.Errorf("last report %+v, want %d of %d bytes, %d files", last, total, total, len(files))
	}
	for i := 1; i < len(reports); i++ {
		if reports[i].Done < reports[i-1].Done || reports[i].Rate < 0 {
			t.Fatalf("report %d went backwards: %+v after %+v", i, reports[i], reports[i-1])
		}
	}
}

// TestList checks a listing: sizes, digests and the resolved commit.
func TestList(t *testing.T) {
	m := hubtest.New(hubtest.Options{})
	defer m.Close()
	commit := m.Add(clipRepo, repoFiles())
	for _, kind := range kinds {
		c, _ := hub.New(hub.Options{Kind: kind, Endpoint: m.URL})
		l, err := c.List(context.Background(), clipRepo, "")
		if err != nil {
			t.Fatal(err)
		}
		wantCommit := commit
		if kind == hub.ModelScope {
			wantCommit = ""
		}
		if l.Commit != wantCommit || len(l.Files) != 5 {
			t.Errorf("%v: commit %q, %d files", kind, l.Commit, len(l.Files))
		}
		for _, f := range l.Files {
			lfs := filepath.Ext(f.Path) == ".onnx"
			hasSHA := lfs || kind == hub.ModelScope
			if f.LFS != lfs || (f.SHA256 != "") != hasSHA || (kind == hub.HuggingFace) != (f.BlobID != "") {
				t.Errorf("%v: %+v", kind, f)
			}
		}
	}
}

// TestStalePartial resumes ".incomplete" files left by someone else: a wrong prefix is
// downloaded again from the start, a file longer than the published one is dropped, a
// complete one is only verified.
func TestStalePartial(t *testing.T) {
	const path = "textual/model.onnx"
	good := repoFiles()[path]
	wrong := append([]byte(nil), good[:1000]...)
	wrong[10] ^= 1
	cases := []struct {
		name    string
		partial []byte
		ranges  []string // the Range of each GET that brought bytes
	}{
		{name: "good prefix", partial: good[:1000], ranges: []string{"bytes=1000-"}},
		{name: "wrong prefix", partial: wrong, ranges: []string{"bytes=1000-", ""}},
		{name: "too long", partial: append(append([]byte(nil), good...), 'x'), ranges: []string{""}},
		{name: "complete", partial: good, ranges: nil},
	}
	for _, kind := range kinds {
		for _, tc := range cases {
			t.Run(kind.String()+"/"+tc.name, func(t *testing.T) {
				m, c, _ := setup(t, hubtest.Options{}, func(o *hub.Options) { o.Kind = kind })
				dst := t.TempDir()
				os.MkdirAll(filepath.Join(dst, "textual"), 0o755)
				os.WriteFile(filepath.Join(dst, "textual", "model.onnx.incomplete"), tc.partial, 0o644)
				f, err := c.Download(context.Background(), clipRepo, "", path, dst)
				if err != nil {
					t.Fatal(err)
				}
				checkTree(t, dst, map[string][]byte{path: good})
				var ranges []string
				for _, r := range bodyRequests(m, path) {
					ranges = append(ranges, r.Range)
				}
				if fmt.Sprint(ranges) != fmt.Sprint(tc.ranges) || !f.Verified {
					t.Errorf("ranges %q, want %q; %+v", ranges, tc.ranges, f)
				}
			})
		}
	}
}

// TestProxy downloads from a host only the proxy can reach (Options.Proxy; the default reads
// HTTPS_PROXY, HTTP_PROXY and NO_PROXY).
func TestProxy(t *testing.T) {
	m, _, files := setup(t, hubtest.Options{}, nil)
	proxy, _ := url.Parse(m.URL)
	c, err := hub.New(hub.Options{Endpoint: "http://hub.invalid", Retries: -1,
		Proxy: func(*http.Request) (*url.URL, error) { return proxy, nil }})
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if _, err := c.Snapshot(context.Background(), clipRepo, "", nil, dst); err != nil {
		t.Fatal(err)
	}
	checkTree(t, dst, files)
	if r := m.Requests()[0]; r.Host != "hub.invalid" {
		t.Errorf("first request %+v, want it for hub.invalid through the proxy", r)
	}
}
