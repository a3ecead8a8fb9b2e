package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrNotInstalled: a name the store does not hold.
var ErrNotInstalled = errors.New("model not installed")

// stagingDir is the store's folder of downloads and exports in progress: on the store's own
// file system, so that an install is a rename, and hidden from List.
const stagingDir = ".staging"

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidName checks a model name: 1 to 64 characters of lower-case letters, digits, '.', '_'
// and '-', starting with a letter or digit (a folder name on every file system, never a path).
func ValidName(name string) error {
	if !nameRE.MatchString(name) || strings.Contains(name, "..") {
		return fmt.Errorf("model name %q: want lower-case letters, digits, '.', '_' and '-', at most 64", name)
	}
	return nil
}

// Store is a folder of installed model bundles, one sub-folder per name (Dir/NAME/model.json).
// Installs are atomic: a bundle is prepared in a staging folder inside Dir and renamed into
// place, so a reader sees a whole bundle or none. The zero value is not usable: set Dir.
type Store struct {
	Dir string
}

// Path is the folder of the named bundle (which may not exist).
func (s Store) Path(name string) string { return filepath.Join(s.Dir, name) }

// Has reports whether the named bundle is installed (its model.json exists).
func (s Store) Has(name string) bool {
	if ValidName(name) != nil {
		return false
	}
	st, err := os.Stat(filepath.Join(s.Path(name), "model.json"))
	return err == nil && st.Mode().IsRegular()
}

// Installed is one bundle of a store, as List reports it.
type Installed struct {
	Name      string
	Dir       string
	Family    string
	Precision string // "fp32" when the manifest names none
	Dim       int    // embedding dimension
	ITM       bool   // the bundle has an ITM graph
	Bytes     int64  // the files' total size
	Err       error  // a manifest that does not parse: the bundle is listed, with the reason
}

// List returns the installed bundles, sorted by name. A folder whose manifest does not parse is
// listed with Err set; folders without a model.json (and the staging folder) are left out.
func (s Store) List() ([]Installed, error) {
	des, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("model store %s: %w", s.Dir, err)
	}
	var out []Installed
	for _, de := range des {
		if !de.IsDir() || ValidName(de.Name()) != nil || !s.Has(de.Name()) {
			continue
		}
		out = append(out, s.describe(de.Name()))
	}
	return out, nil
}

// describe reads an installed bundle's manifest and size.
func (s Store) describe(name string) Installed {
	in := Installed{Name: name, Dir: s.Path(name)}
	in.Bytes, _ = dirSize(in.Dir)
	raw, err := os.ReadFile(filepath.Join(in.Dir, "model.json"))
	if err != nil {
		in.Err = err
		return in
	}
	// the facts a listing shows; package encoder validates the whole manifest when it loads it
	var m struct {
		Family    string                     `json:"family"`
		Precision string                     `json:"precision"`
		Dim       int                        `json:"embedding_dim"`
		Graphs    map[string]json.RawMessage `json:"graphs"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		in.Err = fmt.Errorf("model.json: %w", err)
		return in
	}
	in.Family, in.Precision, in.Dim = m.Family, m.Precision, m.Dim
	if in.Precision == "" {
		in.Precision = "fp32"
	}
	_, in.ITM = m.Graphs["itm"]
	return in
}

// Stage makes a new, empty staging folder for the named bundle inside the store, where a
// download or an export writes it before Install. The caller removes it if it does not
// install it (os.RemoveAll).
func (s Store) Stage(name string) (string, error) {
	if err := ValidName(name); err != nil {
		return "", err
	}
	root := filepath.Join(s.Dir, stagingDir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("model store: %w", err)
	}
	dir, err := os.MkdirTemp(root, name+"-*")
	if err != nil {
		return "", fmt.Errorf("model store: %w", err)
	}
	return dir, nil
}

// Install moves a staged bundle (a folder made by Stage, holding model.json) into place under
// name. A bundle already installed under that name is replaced: it is renamed aside first and
// deleted once the new one is in place, so a failure leaves the old one installed.
func (s Store) Install(name, staged string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if st, err := os.Stat(filepath.Join(staged, "model.json")); err != nil || !st.Mode().IsRegular() {
		return fmt.Errorf("install %s: %s holds no model.json", name, staged)
	}
	dst := s.Path(name)
	var old string
	if _, err := os.Lstat(dst); err == nil {
		aside, err := os.MkdirTemp(filepath.Join(s.Dir, stagingDir), name+"-old-*")
		if err != nil {
			return fmt.Errorf("install %s: %w", name, err)
		}
		old = filepath.Join(aside, name)
		if err := os.Rename(dst, old); err != nil {
			os.Remove(aside)
			return fmt.Errorf("install %s: %w", name, err)
		}
	}
	if err := os.Rename(staged, dst); err != nil {
		if old != "" {
			_ = os.Rename(old, dst)
		}
		return fmt.Errorf("install %s: %w", name, err)
	}
	if old != "" {
		_ = os.RemoveAll(filepath.Dir(old))
	}
	return nil
}

// Remove deletes an installed bundle: it is renamed into the staging folder first, so that
// it disappears from the store at once even if deleting its files takes a while or fails.
func (s Store) Remove(name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if !s.Has(name) {
		return fmt.Errorf("%w: %s (in %s)", ErrNotInstalled, name, s.Dir)
	}
	aside, err := os.MkdirTemp(filepath.Join(s.Dir, stagingDir), name+"-rm-*")
	if err == nil {
		err = os.Rename(s.Path(name), filepath.Join(aside, name))
	}
	if err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	if err := os.RemoveAll(aside); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// dirSize is the total size of the regular files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n, err
}
