package encoder

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	ort "github.com/yalue/onnxruntime_go"
)

// ORTVersion is the ONNX Runtime release `make setup` installs.
const ORTVersion = "1.30.0"

// cacheRel is where `make setup` puts the library, relative to the repository root.
var cacheRel = filepath.Join(".cache", "onnxruntime-"+ORTVersion, "libonnxruntime.so.1")

// systemNames and systemDirs are where an installed ONNX Runtime is looked for last.
var (
	systemNames = []string{"libonnxruntime.so.1", "libonnxruntime.so"}
	systemDirs  = []string{
		"/usr/local/lib", "/usr/lib", "/usr/lib64", "/lib", "/lib64",
		"/usr/lib/" + multiarch(), "/lib/" + multiarch(),
	}
)

func multiarch() string {
	switch runtime.GOARCH {
	case "arm64":
		return "aarch64-linux-gnu"
	default:
		return "x86_64-linux-gnu"
	}
}

// FindLibrary returns the path of the ONNX Runtime shared library:
//
//  1. explicit, when not empty (the commands pass $GLIMPSE_ORT_LIB); it must exist;
//  2. the `make setup` cache, .cache/onnxruntime-1.30.0/libonnxruntime.so.1, searched in the
//     working directory and each of its parents, then in the executable's directory and parents;
//  3. libonnxruntime.so.1 or libonnxruntime.so in the standard library directories
//     (/usr/local/lib, /usr/lib, /usr/lib64, /lib, /lib64 and the multiarch ones).
//
// When none is found the error wraps [ErrRuntime] and says to run `make setup` or set
// GLIMPSE_ORT_LIB.
func FindLibrary(explicit string) (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		starts = append(starts, filepath.Dir(exe))
	}
	return findLibrary(explicit, starts, systemDirs)
}

func findLibrary(explicit string, starts, sysDirs []string) (string, error) {
	const hint = "run `make setup` in the repository, or set GLIMPSE_ORT_LIB to the path of libonnxruntime.so.1 (ONNX Runtime " + ORTVersion + ")"
	if explicit != "" {
		if isFile(explicit) {
			return explicit, nil
		}
		return "", fmt.Errorf("%w: ONNX Runtime library %s does not exist: %s", ErrRuntime, explicit, hint)
	}
	for _, start := range starts {
		for dir := start; ; {
			p := filepath.Join(dir, cacheRel)
			if isFile(p) {
				return p, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	for _, d := range sysDirs {
		for _, n := range systemNames {
			if p := filepath.Join(d, n); isFile(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%w: ONNX Runtime library not found (looked for %s in %s and their parents, then for %s in %s): %s",
		ErrRuntime, cacheRel, strings.Join(starts, ", "), strings.Join(systemNames, " or "), strings.Join(sysDirs, ", "), hint)
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// The ONNX Runtime environment is process-global: initialised once, never destroyed.
var (
	envOnce sync.Once
	envErr  error
	envPath atomic.Pointer[string] // set once the runtime is loaded
)

// initRuntime loads the library and creates the ORT environment on its first call; later calls
// return the first call's result, whatever their libraryPath.
func initRuntime(libraryPath string) error {
	envOnce.Do(func() {
		p, err := FindLibrary(libraryPath)
		if err != nil {
			envErr = err
			return
		}
		ort.SetSharedLibraryPath(p)
		if err := ort.InitializeEnvironment(ort.WithLogLevelFatal()); err != nil {
			envErr = fmt.Errorf("%w: load %s: %v (run `make setup`, or set GLIMPSE_ORT_LIB to an ONNX Runtime %s library)",
				ErrRuntime, p, err, ORTVersion)
			return
		}
		envPath.Store(&p)
	})
	return envErr
}

// RuntimeLibrary returns the path of the loaded ONNX Runtime library ("" before the first
// successful [Open]).
func RuntimeLibrary() string {
	if p := envPath.Load(); p != nil {
		return *p
	}
	return ""
}

// Devices accepted by Options.Device.
const (
	DeviceCPU  = "cpu"
	DeviceCUDA = "cuda"
)

// sessionOptions builds the ORT session options for opts. A CUDA provider that cannot be
// appended (no GPU, no CUDA provider library) is logged and the session runs on the CPU.
func sessionOptions(opts *Options) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("%w: session options: %v", ErrRuntime, err)
	}
	if opts.IntraOpThreads > 0 {
		if err := so.SetIntraOpNumThreads(opts.IntraOpThreads); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("%w: intra-op threads %d: %v", ErrRuntime, opts.IntraOpThreads, err)
		}
	}
	if !opts.Spin {
		if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
			so.Destroy()
			return nil, fmt.Errorf("%w: disable spinning: %v", ErrRuntime, err)
		}
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		so.Destroy()
		return nil, fmt.Errorf("%w: inter-op threads: %v", ErrRuntime, err)
	}
	if opts.Device == DeviceCUDA {
		if err := appendCUDA(so); err != nil {
			opts.logger().Warn("CUDA execution provider unavailable; running on CPU",
				slog.String("device", opts.Device), slog.String("error", err.Error()))
		}
	}
	return so, nil
}

func appendCUDA(so *ort.SessionOptions) (err error) {
	defer func() {
		if r := recover(); r != nil { // never let a provider quirk take the process down
			err = fmt.Errorf("append CUDA provider panicked: %v", r)
		}
	}()
	co, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return err
	}
	defer co.Destroy()
	if err := so.AppendExecutionProviderCUDA(co); err != nil {
		return err
	}
	return nil
}
