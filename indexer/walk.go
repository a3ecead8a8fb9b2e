package indexer

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// job is one file found by the walk; err is set when it could not be examined.
type job struct {
	path string
	info fs.FileInfo
	err  error
}

// fileID identifies a folder across symlinks and bind mounts.
type fileID struct{ dev, ino uint64 }

func idOf(info fs.FileInfo) (fileID, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{uint64(st.Dev), uint64(st.Ino)}, true
}

// walker lists files under the roots, following symlinks to folders but entering each folder
// (by device and inode) once, so symlink loops end. It skips hidden entries and SkipDirs.
type walker struct {
	o       *Options
	emit    func(ctx context.Context, j job) error
	visited map[fileID]bool // folders entered; grows with the number of folders, not files
	confine []string        // Options.Confine with symlinks resolved; nil: anywhere
}

// newWalker returns a walker that never enters the library's own data dir (its thumbnails
// are not photos to index, e.g. for `indexer add .` next to ./glimpse-data).
func (ix *Indexer) newWalker(emit func(ctx context.Context, j job) error) *walker {
	w := &walker{o: &ix.o, visited: map[fileID]bool{}, emit: emit}
	for _, c := range ix.o.Confine {
		if r, err := filepath.EvalSymlinks(c); err == nil {
			w.confine = append(w.confine, r)
		}
	}
	if len(ix.o.Confine) > 0 && len(w.confine) == 0 {
		w.confine = []string{} // none of the allowed folders exists: nothing is inside
	}
	if info, err := os.Stat(ix.lib.Dir()); err == nil {
		if id, ok := idOf(info); ok {
			w.visited[id] = true
		}
	}
	return w
}

// walk sends every file under the roots to out.
func (ix *Indexer) walk(ctx context.Context, roots []string, out chan<- job, t *tally) error {
	w := ix.newWalker(func(ctx context.Context, j job) error {
		t.found(1, false)
		select {
		case out <- j:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err := w.roots(ctx, roots); err != nil {
		return err
	}
	t.found(0, true)
	return nil
}

// count walks the roots ahead of the pipeline (whose walk waits on the workers) only to
// count the files, so that progress has a total early.
func (ix *Indexer) count(ctx context.Context, roots []string) (int, error) {
	n := 0
	w := ix.newWalker(func(context.Context, job) error { n++; return nil })
	err := w.roots(ctx, roots)
	return n, err
}

func (w *walker) roots(ctx context.Context, roots []string) error {
	for _, r := range roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			return err
		}
		if !w.inside(abs) {
			if err := w.emit(ctx, job{path: abs, err: &FileError{Op: "stat", Path: abs, Err: ErrOutside}}); err != nil {
				return err
			}
			continue
		}
		info, err := os.Stat(abs)
		if err != nil {
			if err := w.emit(ctx, job{path: abs, err: &FileError{Op: "stat", Path: abs, Err: err}}); err != nil {
				return err
			}
			continue
		}
		if info.IsDir() {
			err = w.dir(ctx, abs, info)
		} else {
			err = w.emit(ctx, job{path: abs, info: info})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) dir(ctx context.Context, path string, info fs.FileInfo) error {
	if id, ok := idOf(info); ok {
		if w.visited[id] {
			return nil
		}
		w.visited[id] = true
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		w.o.Logger.Warn("cannot read folder", "path", path, "err", err)
		if len(entries) == 0 {
			return nil
		}
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := e.Name()
		if !w.o.Hidden && strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(path, name)
		t := e.Type()
		if t&fs.ModeSymlink != 0 {
			if !w.inside(p) {
				if err := w.emit(ctx, job{path: p, err: &FileError{Op: "stat", Path: p, Err: ErrOutside}}); err != nil {
					return err
				}
				continue
			}
			target, err := os.Stat(p)
			if err != nil {
				if err := w.emit(ctx, job{path: p, err: &FileError{Op: "stat", Path: p,
					Err: fmt.Errorf("unreadable (dangling or looping symlink): %w", err)}}); err != nil {
					return err
				}
				continue
			}
			if target.IsDir() {
				if !slices.Contains(w.o.SkipDirs, name) {
					if err := w.dir(ctx, p, target); err != nil {
						return err
					}
				}
				continue
			}
			if err := w.emit(ctx, job{path: p, info: target}); err != nil {
				return err
			}
			continue
		}
		if t.IsDir() {
			if slices.Contains(w.o.SkipDirs, name) {
				continue
			}
			sub, err := e.Info()
			if err != nil {
				w.o.Logger.Warn("cannot read folder", "path", p, "err", err)
				continue
			}
			if err := w.dir(ctx, p, sub); err != nil {
				return err
			}
			continue
		}
		info, err := e.Info()
		j := job{path: p, info: info}
		if err != nil {
			j.err = &FileError{Op: "stat", Path: p, Err: err}
		}
		if err := w.emit(ctx, j); err != nil {
			return err
		}
	}
	return nil
}

// inside reports whether p, symlinks resolved, is in one of the confining folders (always true
// without Options.Confine). A path that cannot be resolved is not inside.
func (w *walker) inside(p string) bool {
	if w.confine == nil {
		return true
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return false
	}
	return Within(real, w.confine)
}

// Within reports whether the clean absolute path p is one of roots or below one, lexically.
func Within(p string, roots []string) bool {
	for _, r := range roots {
		if rel, err := filepath.Rel(r, p); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return true
		}
	}
	return false
}
