package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/hub"
	"github.com/glimpse-search/glimpse/internal/cli"
	"github.com/glimpse-search/glimpse/models"
	"github.com/glimpse-search/glimpse/models/immich"
)

// downloadsDir is the store's folder of downloaded checkpoints, one per model name: kept across
// attempts, so that a pull cut short resumes its transfers, and deleted once the model is
// installed (unless --keep-download).
const downloadsDir = ".downloads"

func runPull(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := cli.NewFlags("pull", usagePull, stderr)
	precision := fset.String("precision", encoder.PrecisionFP32, "fp32, or int8: the exported bundle's matrix products "+
		"quantised to 8 bits (installed as NAME-int8; a third of the disk, 1.5 to 1.9 times faster on a CPU)")
	force := fset.Bool("force", false, "pull again a model that is installed")
	endpoint := fset.String("endpoint", "", "the hub's base URL (default $"+cli.EnvHFEndpoint+" or $"+
		cli.EnvModelScopeEndpoint+" by the model's hub, else the hub itself): a mirror")
	python := fset.String("python", "", "the Python of the exporters' environment (default $"+cli.EnvPython+
		", else the one make venv builds in the Glimpse checkout above this binary or the working directory)")
	stall := fset.Duration("stall-timeout", 60*time.Second, "give up a transfer that sends nothing for this long (it is "+
		"retried 3 times, then the pull fails; the next pull resumes it)")
	keep := fset.Bool("keep-download", false, "keep the downloaded checkpoint in the store's .downloads folder")
	if err := cli.ParseArgs(fset, args, 1, 1, "NAME", usagePull); err != nil {
		return err
	}
	name := fset.Arg(0)
	entry, ok := models.Lookup(name)
	if !ok {
		var names []string
		for _, e := range models.Catalog() {
			names = append(names, e.Name)
		}
		return cli.Usagef("pull: %q is not in the catalogue; known: %s", name, strings.Join(names, ", "))
	}
	if *precision != encoder.PrecisionFP32 && *precision != encoder.PrecisionInt8 {
		return cli.Usagef("pull: --precision %q: want fp32 or int8", *precision)
	}
	install := name
	if *precision == encoder.PrecisionInt8 {
		install = name + "-int8"
	}
	store := cli.ModelStore()
	if store.Has(install) && !*force {
		fmt.Fprintf(stdout, "%s is installed in %s (`models verify %s` checks it; --force pulls it again)\n",
			install, store.Path(install), install)
		return nil
	}
	var env exporter
	var err error
	if entry.Format == models.FormatImmich {
		if *precision != encoder.PrecisionFP32 {
			return cli.Usagef("pull: %s is published as ONNX and converted as it is: --precision int8 is for the "+
				"exported checkpoints (or run tools/export/precision.py on the installed bundle)", name)
		}
	} else if env, err = exportEnv(*python); err != nil {
		return fmt.Errorf("pull %s: %w", name, err)
	}

	kind, err := hub.ParseKind(entry.Source.Hub)
	if err != nil {
		return fmt.Errorf("pull %s: %w", name, err)
	}
	if *endpoint == "" {
		*endpoint = os.Getenv(map[hub.Kind]string{hub.HuggingFace: cli.EnvHFEndpoint, hub.ModelScope: cli.EnvModelScopeEndpoint}[kind])
	}
	bar := newProgressBar(stderr)
	var token string
	if kind == hub.HuggingFace {
		token = os.Getenv(cli.EnvHFToken)
	}
	client, err := hub.New(hub.Options{Kind: kind, Endpoint: *endpoint, Token: token, IdleTimeout: *stall, Progress: bar.update})
	if err != nil {
		return fmt.Errorf("pull %s: %w", name, err)
	}
	fmt.Fprintf(stderr, "pull %s: %s %s at %s from %s\n", name, kind, entry.Source.Repo, entry.Source.Revision, client.Endpoint())
	listing, err := client.List(ctx, entry.Source.Repo, entry.Source.Revision)
	if err != nil {
		return pullError(name, entry, err)
	}
	files, err := pick(entry, listing)
	if err != nil {
		return fmt.Errorf("pull %s: %w", name, err)
	}
	dl := filepath.Join(store.Dir, downloadsDir, name)
	start := time.Now()
	snap, err := client.Fetch(ctx, listing, files, dl)
	bar.done()
	if err != nil {
		return pullError(name, entry, err)
	}
	fmt.Fprintf(stderr, "pull %s: %d files in %s (%.0f MB downloaded in %s)\n", name, len(snap.Files), dl,
		float64(snap.Downloaded)/1e6, time.Since(start).Round(time.Second))

	staged, err := store.Stage(install)
	if err != nil {
		return err
	}
	defer os.RemoveAll(staged) // what is left of it once the bundle is installed (renamed away)
	bundle := filepath.Join(staged, "bundle")
	if entry.Format == models.FormatImmich {
		fmt.Fprintf(stderr, "pull %s: converting immich's ONNX export\n", name)
		src := fmt.Sprintf("%s:%s@%s", entry.Source.Hub, entry.Source.Repo, snap.Commit)
		if err := immich.Convert(ctx, dl, bundle, immich.Options{Name: install, Source: src,
			LibraryPath: os.Getenv(cli.EnvORTLib)}); err != nil {
			return fmt.Errorf("pull %s: %w; nothing was installed, the download stays in %s", name, err, dl)
		}
	} else if err := export(ctx, env, entry, dl, bundle, install, *precision, stderr); err != nil {
		return fmt.Errorf("pull %s: %w; nothing was installed, the download stays in %s", name, err, dl)
	}

	var mf cli.ModelFlags
	mf.Device = encoder.DeviceCPU
	if err := cli.VerifyModel(ctx, mf, bundle, "", false, stderr, stderr); err != nil {
		return fmt.Errorf("pull %s: the Go runtime does not reproduce the bundle's golden outputs (%w); nothing was installed", name, err)
	}
	if err := store.Install(install, bundle); err != nil {
		return err
	}
	if !*keep {
		if err := os.RemoveAll(dl); err != nil {
			fmt.Fprintf(stderr, "pull %s: could not delete the download %s: %v\n", name, dl, err)
		}
	}
	fmt.Fprintf(stdout, "installed %s in %s: index with `indexer add --model %s PATH`, serve with `server --model %s`\n",
		install, store.Path(install), install, install)
	return nil
}

// export runs the entry's exporter on the downloaded checkpoint dl, writing the bundle out.
func export(ctx context.Context, env exporter, entry models.Entry, dl, out, install, precision string, stderr io.Writer) error {
	exportArgs := []string{"-m", entry.Exporter, "--checkpoint", dl, "--out", out, "--name", install, "--verify-upstream"}
	if precision == encoder.PrecisionInt8 {
		exportArgs = append(exportArgs, "--precision", "int8")
	}
	fmt.Fprintf(stderr, "pull %s: exporting with %s %s (it checks the export against the upstream package)\n", entry.Name,
		env.python, strings.Join(exportArgs, " "))
	cmd := exec.CommandContext(ctx, env.python, exportArgs...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+env.tools, "OMP_WAIT_POLICY=PASSIVE",
		"PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python")
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("the export failed (%w)", err)
	}
	return nil
}

// pick returns the files of a listing the entry downloads.
func pick(e models.Entry, l *hub.Listing) ([]hub.File, error) {
	paths := make([]string, len(l.Files))
	for i, f := range l.Files {
		paths[i] = f.Path
	}
	sel, err := e.Select(paths)
	if err != nil {
		return nil, err
	}
	if len(sel) == 0 {
		return nil, fmt.Errorf("%s at %s holds none of the files %s", e.Source.Repo, e.Source.Revision, strings.Join(e.Files, ", "))
	}
	out := make([]hub.File, len(sel))
	for i, p := range sel {
		if out[i], err = l.Lookup(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pullError adds to a hub error what the user can do about it.
func pullError(name string, e models.Entry, err error) error {
	switch {
	case errors.Is(err, hub.ErrUnreachable):
		return fmt.Errorf("pull %s: %w\nWithout network: download %s (%s) by hand, then export it: "+
			"PYTHONPATH=tools python -m %s --checkpoint FOLDER --out BUNDLE --verify-upstream (docs/models.md)",
			name, err, e.Source.Repo, e.Source.Hub, e.Exporter)
	case errors.Is(err, hub.ErrChecksum):
		return fmt.Errorf("pull %s: %w; the corrupt file was deleted and nothing was installed: pull again", name, err)
	case errors.Is(err, hub.ErrNoSpace):
		return fmt.Errorf("pull %s: %w; nothing was downloaded", name, err)
	}
	return fmt.Errorf("pull %s: %w", name, err)
}

// exporter is the Python environment of the exporters.
type exporter struct {
	python, tools string
}

// exportEnv finds the exporters' Python and tools/ folder: the Glimpse checkout is the first
// folder holding tools/export, from the binary's folder or the working directory upward;
// the Python is --python or $GLIMPSE_PYTHON, else the environment `make venv` builds
// (scripts/setup-venv.sh --path). It says how to get them when missing.
func exportEnv(python string) (exporter, error) {
	var starts []string
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	var env exporter
	for _, d := range starts {
		for ; env.tools == ""; d = filepath.Dir(d) {
			if st, err := os.Stat(filepath.Join(d, "tools", "export", "cli.py")); err == nil && st.Mode().IsRegular() {
				env.tools = filepath.Join(d, "tools")
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if env.tools == "" {
		return env, fmt.Errorf("the exporters (tools/export of a Glimpse checkout) are in no folder above this binary "+
			"or the working directory (%s): run `models pull` from the checkout", strings.Join(starts, ", "))
	}
	if python == "" {
		python = os.Getenv(cli.EnvPython)
	}
	if python == "" {
		out, err := exec.Command(filepath.Join(filepath.Dir(env.tools), "scripts", "setup-venv.sh"), "--path").Output()
		if err != nil {
			return env, fmt.Errorf("scripts/setup-venv.sh --path: %w", err)
		}
		python = strings.TrimSpace(string(out))
	}
	if _, err := os.Stat(python); err != nil {
		return env, fmt.Errorf("the exporters' Python environment is missing (%s): run `make venv` in %s once "+
			"(about a minute and 1 GB), or pass --python", python, filepath.Dir(env.tools))
	}
	env.python = python
	return env, nil
}
