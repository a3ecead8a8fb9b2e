package cli

import (
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/models"
	"github.com/glimpse-search/glimpse/store"
)

// ModelFlags are --model, --device and --threads.
type ModelFlags struct {
	Dir, Device string
	Threads     int
}

// Register adds the flags; dirHelp is --model's help ("" leaves --model out, for commands
// that take the bundle as an argument).
func (m *ModelFlags) Register(fset *flag.FlagSet, dirHelp string) {
	if dirHelp != "" {
		fset.StringVar(&m.Dir, "model", "", ModelFlagHelp(dirHelp))
	}
	fset.StringVar(&m.Device, "device", encoder.DeviceCPU, "execution device: cpu or cuda (falls back to cpu with a warning)")
	fset.IntVar(&m.Threads, "threads", 0, "ONNX Runtime intra-op threads per graph (0: one per physical core)")
}

// Validate checks --device and --threads (usage errors).
func (m *ModelFlags) Validate() error {
	if m.Device != encoder.DeviceCPU && m.Device != encoder.DeviceCUDA {
		return Usagef("--device %q: want cpu or cuda", m.Device)
	}
	if m.Threads < 0 {
		return Usagef("--threads %d: must be >= 0", m.Threads)
	}
	return nil
}

// Bundle is an opened model bundle: its files, a label for messages and its identity for the
// store.
type Bundle struct {
	FS    fs.FS
	Label string // the folder, or "embedded tiny-scenes"
	Info  store.ModelInfo
}

// ModelFlagHelp is the help of a --model flag; what says what the model is for.
func ModelFlagHelp(what string) string {
	return what + ": an installed model's name (models list shows them) or a bundle folder (default $" + EnvModel +
		", else the embedded " + models.DefaultName + ")"
}

// ModelStore is the store of installed models: $GLIMPSE_MODELS, else glimpse/models in the
// user's cache folder (~/.cache/glimpse/models on Linux), else ./glimpse-models.
func ModelStore() models.Store {
	if d := os.Getenv(EnvModels); d != "" {
		return models.Store{Dir: d}
	}
	if c, err := os.UserCacheDir(); err == nil {
		return models.Store{Dir: filepath.Join(c, "glimpse", "models")}
	}
	return models.Store{Dir: "glimpse-models"}
}

// ResolveModel turns --model's value into a bundle folder, "" for the embedded default. An
// empty value takes $GLIMPSE_MODEL. A value with a path separator, or starting with '.', is a
// folder; otherwise it is the name of an installed model (ModelStore), else a folder of that
// name in the working directory. The embedded default's name resolves to the embedded bundle
// unless a model of that name is installed. An unknown name is an error that says how to get it.
func ResolveModel(v string) (string, error) {
	if v == "" {
		v = os.Getenv(EnvModel)
	}
	if v == "" || strings.ContainsRune(v, '/') || strings.ContainsRune(v, os.PathSeparator) || strings.HasPrefix(v, ".") {
		return v, nil
	}
	st := ModelStore()
	if st.Has(v) {
		return st.Path(v), nil
	}
	if v == models.DefaultName {
		return "", nil
	}
	if info, err := os.Stat(v); err == nil && info.IsDir() {
		return v, nil
	}
	if _, ok := models.Lookup(v); ok {
		return "", fmt.Errorf("model %s is not installed in %s: run `models pull %s`", v, st.Dir, v)
	}
	return "", fmt.Errorf("model %q: no installed model of that name in %s (`models list` shows the installed and "+
		"the known ones), and no such folder", v, st.Dir)
}

// OpenBundle reads the bundle that --model's value names (ResolveModel: an installed model's
// name, a folder, or "" for $GLIMPSE_MODEL, else the embedded default), without loading its
// graphs.
func OpenBundle(v string) (Bundle, error) {
	b := Bundle{FS: models.Default(), Label: "embedded " + models.DefaultName}
	dir, err := ResolveModel(v)
	if err != nil {
		return b, err
	}
	if dir != "" {
		st, err := os.Stat(dir)
		if err != nil {
			return b, fmt.Errorf("model bundle: %w", err)
		}
		if !st.IsDir() {
			return b, fmt.Errorf("model bundle %s is not a directory", dir)
		}
		b.FS, b.Label = os.DirFS(dir), dir
	}
	info, err := library.ModelInfo(b.FS)
	if err != nil {
		return b, fmt.Errorf("model %s: %w", b.Label, err)
	}
	b.Info = info
	return b, nil
}

// Open loads the bundle --model names with the flags' device and threads; img sets the
// image caps (zero: encoder's defaults).
func (m *ModelFlags) Open(img encoder.ImageOptions, log *slog.Logger) (*encoder.Model, Bundle, error) {
	if err := m.Validate(); err != nil {
		return nil, Bundle{}, err
	}
	b, err := OpenBundle(m.Dir)
	if err != nil {
		return nil, b, err
	}
	mod, err := encoder.Open(b.FS, encoder.Options{
		LibraryPath:    os.Getenv(EnvORTLib),
		Device:         m.Device,
		IntraOpThreads: m.Threads,
		Image:          img,
		Logger:         log,
	})
	if err != nil {
		return nil, b, fmt.Errorf("load model %s: %w", b.Label, err)
	}
	return mod, b, nil
}
