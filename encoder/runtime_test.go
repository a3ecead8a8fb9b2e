package encoder

import (
	"bytes"
	"errors"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/models"
)

func touch(tb testing.TB, p string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("not really a library"), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func TestFindLibrary(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	cached := filepath.Join(repo, cacheRel)
	touch(t, cached)
	deep := filepath.Join(repo, "cmd", "searcher")
	os.MkdirAll(deep, 0o755)
	sys := filepath.Join(root, "usr", "lib")
	touch(t, filepath.Join(sys, "libonnxruntime.so"))
	explicit := filepath.Join(root, "custom", "libort.so")
	touch(t, explicit)
	empty := filepath.Join(root, "elsewhere")
	os.MkdirAll(empty, 0o755)

	cases := []struct {
		name     string
		explicit string
		starts   []string
		sysDirs  []string
		want     string   // path found
		wantErr  []string // else: substrings of the error
	}{
		{"explicit path wins", explicit, []string{deep}, []string{sys}, explicit, nil},
		{"explicit path missing is an error", filepath.Join(root, "nope.so"), []string{deep}, []string{sys}, "",
			[]string{"nope.so", "make setup", "GLIMPSE_ORT_LIB"}},
		{"cache found walking up", "", []string{deep}, []string{sys}, cached, nil},
		{"cache found from second start (executable dir)", "", []string{empty, deep}, nil, cached, nil},
		{"system dir", "", []string{empty}, []string{filepath.Join(root, "none"), sys}, filepath.Join(sys, "libonnxruntime.so"), nil},
		{"nothing found", "", []string{empty}, []string{filepath.Join(root, "none")}, "",
			[]string{"not found", "make setup", "GLIMPSE_ORT_LIB", cacheRel}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := findLibrary(tc.explicit, tc.starts, tc.sysDirs)
			if tc.wantErr == nil {
				if err != nil || got != tc.want {
					t.Fatalf("findLibrary = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("findLibrary = %q, want an error", got)
			}
			if !errors.Is(err, ErrRuntime) {
				t.Errorf("error does not wrap ErrRuntime: %v", err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestOpenMissingLibraryPath checks the public entry point's message without re-initialising
// the process-global runtime: FindLibrary runs the same resolution Open does.
func TestOpenMissingLibraryPath(t *testing.T) {
	_, err := FindLibrary(filepath.Join(t.TempDir(), "libonnxruntime.so.1"))
	if err == nil || !strings.Contains(err.Error(), "make setup") {
		t.Fatalf("FindLibrary(missing) = %v, want an error naming make setup", err)
	}
}

// TestRuntimeFoundFromPackageDir: tests find the `make setup` cache like the binaries do.
func TestRuntimeFoundFromPackageDir(t *testing.T) {
	p, err := FindLibrary("")
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Logf("ONNX Runtime: %s", p)
}

func TestCUDAFallback(t *testing.T) {
	testModel(t)
	var logs bytes.Buffer
	m, err := Open(models.Default(), Options{Device: DeviceCUDA,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("Open with device cuda: %v", err)
	}
	defer m.Close()
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	out, err := m.Vision.Encode(t.Context(), []image.Image{img}, VisionOptions{})
	if err != nil || len(out.Embeds) != 1 {
		t.Fatalf("encode on the fallback: %v", err)
	}
	got := logs.String()
	if !strings.Contains(got, "level=WARN") || !strings.Contains(got, "CUDA") || !strings.Contains(got, "CPU") {
		t.Errorf("no CUDA fallback warning logged; log: %q", got)
	}
	t.Logf("log: %s", strings.TrimSpace(got))
}

func TestOptionsDevice(t *testing.T) {
	if _, err := Open(models.Default(), Options{Device: "tpu"}); !errors.Is(err, ErrInput) {
		t.Fatalf("device tpu: %v, want ErrInput", err)
	}
}
