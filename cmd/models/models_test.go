package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-search/glimpse/hub"
	"github.com/glimpse-search/glimpse/hub/hubtest"
	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/models"
)

// run runs the models command and returns its stdout and stderr.
func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// storeEnv points the model store at a new folder and returns it.
func storeEnv(t *testing.T) models.Store {
	t.Helper()
	st := models.Store{Dir: filepath.Join(t.TempDir(), "models")}
	t.Setenv(cli.EnvModels, st.Dir)
	t.Setenv(cli.EnvModel, "")
	return st
}

// installCopy installs a copy of the embedded bundle as name.
func installCopy(t *testing.T, st models.Store, name string) {
	t.Helper()
	dir, err := st.Stage(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dir, models.Default()); err != nil {
		t.Fatal(err)
	}
	if err := st.Install(name, dir); err != nil {
		t.Fatal(err)
	}
}

// TestListVerifyRemove: list shows the embedded model, the installed ones and the catalogue's;
// verify checks an installed model; rm removes it; the embedded one cannot be removed and a
// missing one is an error.
func TestListVerifyRemove(t *testing.T) {
	st := storeEnv(t)
	installCopy(t, st, "tiny-copy")
	out, _, err := run(t, "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var l struct {
		Store  string   `json:"store"`
		Models []listed `json:"models"`
	}
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, m := range l.Models {
		states[m.Name] = m.State
	}
	if l.Store != st.Dir || states[models.DefaultName] != "embedded" || states["tiny-copy"] != "installed" ||
		len(l.Models) != 2+len(models.Catalog()) {
		t.Errorf("list: %s", out)
	}
	for _, e := range models.Catalog() {
		if states[e.Name] != "available" {
			t.Errorf("catalogue model %s is %q", e.Name, states[e.Name])
		}
	}
	if out, _, err := run(t, "list"); err != nil || !strings.Contains(out, "tiny-copy") || !strings.Contains(out, "huggingface:") {
		t.Errorf("list table: %s %v", out, err)
	}

	if out, _, err := run(t, "verify", "tiny-copy"); err != nil || !strings.Contains(out, "checks passed") {
		t.Errorf("verify: %s %v", out, err)
	}
	if _, _, err := run(t, "verify", "nonesuch"); !errors.Is(err, models.ErrNotInstalled) {
		t.Errorf("verify of a missing model: %v", err)
	}
	if _, _, err := run(t, "rm", models.DefaultName); err == nil || !strings.Contains(err.Error(), "embedded") {
		t.Errorf("rm of the embedded model: %v", err)
	}
	if _, _, err := run(t, "rm", "tiny-copy"); err != nil || st.Has("tiny-copy") {
		t.Errorf("rm: %v", err)
	}
	if _, _, err := run(t, "rm", "tiny-copy"); !errors.Is(err, models.ErrNotInstalled) {
		t.Errorf("second rm: %v", err)
	}
	if _, _, err := run(t, "rm", "../x"); err == nil {
		t.Error("rm of a path")
	}
}

// blipRepo is the catalogue entry the download tests pull, with files of its published layout
// (random bytes for the weights: these tests stop before the export).
func blipRepo(t *testing.T) (models.Entry, map[string][]byte) {
	t.Helper()
	e, ok := models.Lookup("blip-itm-base-coco")
	if !ok {
		t.Fatal("catalogue lacks blip-itm-base-coco")
	}
	weights := make([]byte, 1<<20)
	rand.Read(weights)
	return e, map[string][]byte{
		"config.json": []byte(`{"architectures": ["BlipForImageTextRetrieval"]}`), "model.safetensors": weights,
		"vocab.txt": []byte("[PAD]\n[UNK]\n"), "preprocessor_config.json": []byte("{}"), "README.md": []byte("# BLIP"),
		"tf_model.h5": []byte("not downloaded"),
	}
}

// TestPullDownload: the download half of a pull, against a local mirror of the Hugging Face
// hub: a transfer cut in half is resumed (only the rest is asked for), a corrupt file is
// refused and deleted, a missing repository, a server that stops sending and an unreachable
// hub give clear errors, and nothing is ever installed from a failed pull. The exporter is
// /bin/false, so each pull stops after its download with "the export failed".
func TestPullDownload(t *testing.T) {
	entry, files := blipRepo(t)
	cases := []struct {
		name     string
		fault    *hubtest.Fault // on model.safetensors
		noRepo   bool
		offline  bool
		wantErr  string
		complete bool // the download folder holds the selected files, verified
	}{
		{"cut in half and resumed", &hubtest.Fault{Kind: hubtest.Cut, After: 1 << 19, Times: 1}, false, false, "the export failed", true},
		{"corrupt", &hubtest.Fault{Kind: hubtest.Corrupt, After: 1000}, false, false, "sha256 mismatch", false},
		{"stalled", &hubtest.Fault{Kind: hubtest.Hang}, false, false, "stalled", false},
		{"no such repository", nil, true, false, "not found", false},
		{"unreachable", nil, false, true, "Without network", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := storeEnv(t)
			m := hubtest.New(hubtest.Options{})
			defer m.Close()
			if !c.noRepo {
				m.Add(entry.Source.Repo, files)
			}
			if c.fault != nil {
				m.Fault(entry.Source.Repo, "model.safetensors", *c.fault)
			}
			endpoint := m.URL
			if c.offline {
				endpoint = "http://127.0.0.1:1"
			}
			t.Setenv(cli.EnvPython, "/bin/false")
			_, stderr, err := run(t, "pull", "--endpoint", endpoint, "--stall-timeout", "200ms", entry.Name)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("pull: %v, want an error with %q\n%s", err, c.wantErr, stderr)
			}
			if c.noRepo && !errors.Is(err, hub.ErrNotFound) {
				t.Errorf("missing repository: %v, want hub.ErrNotFound", err)
			}
			if st.Has(entry.Name) {
				t.Error("a failed pull installed the model")
			}
			dl := filepath.Join(st.Dir, downloadsDir, entry.Name)
			for _, name := range []string{"config.json", "model.safetensors", "vocab.txt", "preprocessor_config.json"} {
				got, err := os.ReadFile(filepath.Join(dl, name))
				if c.complete && (err != nil || !bytes.Equal(got, files[name])) {
					t.Errorf("%s not downloaded intact: %v", name, err)
				}
				if !c.complete && name == "model.safetensors" && err == nil {
					t.Errorf("%s kept after %s", name, c.name)
				}
			}
			for _, name := range []string{"README.md", "tf_model.h5"} {
				if _, err := os.Stat(filepath.Join(dl, name)); err == nil {
					t.Errorf("%s downloaded: not in the catalogue's files", name)
				}
			}
			if c.name == "cut in half and resumed" {
				var ranges []string
				for _, r := range m.FileRequests() {
					if r.File == "model.safetensors" && r.Status == 206 {
						ranges = append(ranges, r.Range)
					}
				}
				if len(ranges) != 1 || ranges[0] != "bytes=524288-" {
					t.Errorf("resumed with ranges %q, want only the second half", ranges)
				}
			}
		})
	}
}

// TestPullInstalled: a second pull of an installed model downloads nothing; an unknown name is
// a usage error naming the catalogue; a missing Python environment is reported before any
// download.
func TestPullInstalled(t *testing.T) {
	st := storeEnv(t)
	entry, files := blipRepo(t)
	m := hubtest.New(hubtest.Options{})
	defer m.Close()
	m.Add(entry.Source.Repo, files)
	installCopy(t, st, entry.Name)
	out, _, err := run(t, "pull", "--endpoint", m.URL, entry.Name)
	if err != nil || !strings.Contains(out, "is installed") || len(m.Requests()) != 0 {
		t.Errorf("second pull: %q %v, %d requests", out, err, len(m.Requests()))
	}
	var ue *cli.UsageError
	if _, _, err := run(t, "pull", "nonesuch"); !errors.As(err, &ue) || !strings.Contains(err.Error(), entry.Name) {
		t.Errorf("pull of an unknown name: %v", err)
	}
	if err := st.Remove(entry.Name); err != nil {
		t.Fatal(err)
	}
	t.Setenv(cli.EnvPython, filepath.Join(t.TempDir(), "no-python"))
	if _, _, err := run(t, "pull", "--endpoint", m.URL, entry.Name); err == nil || !strings.Contains(err.Error(), "make venv") ||
		len(m.Requests()) != 0 {
		t.Errorf("pull without the Python environment: %v, %d requests", err, len(m.Requests()))
	}
}
