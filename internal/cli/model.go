package cli

import (
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

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
		fset.StringVar(&m.Dir, "model", "", dirHelp+" (default: the embedded "+models.DefaultName+")")
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

// OpenBundle reads the bundle in dir, or the embedded default when dir is "", without loading
// its graphs.
func OpenBundle(dir string) (Bundle, error) {
	b := Bundle{FS: models.Default(), Label: "embedded " + models.DefaultName}
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
