package models

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
)

// The hubs a catalogue entry can come from.
const (
	HubHuggingFace = "huggingface"
	HubModelScope  = "modelscope"
)

// Entry is one model of the catalogue: where its checkpoint is published and how it becomes a
// bundle.
type Entry struct {
	Name        string `json:"name"` // the store name (ValidName)
	Family      string `json:"family"`
	Description string `json:"description"`
	Licence     string `json:"licence"` // SPDX identifier of the checkpoint's licence
	Source      Source `json:"source"`
	// Format is what the repository publishes: FormatPyTorch (a checkpoint, exported to a bundle
	// by Exporter in the tooling's Python) or FormatImmich (ONNX graphs in immich's layout,
	// converted in Go by package models/immich).
	Format string `json:"format"`
	// Files are the repository files to download, as path.Match patterns; "a|b" takes the first
	// alternative the repository has (model.safetensors, else pytorch_model.bin). A pattern
	// that matches nothing is left out: the exporter names what it misses.
	Files []string `json:"files"`
	// Exporter is the tools/ module that turns a downloaded FormatPyTorch folder into a bundle
	// (`python -m EXPORTER --checkpoint DIR --out BUNDLE --verify-upstream`).
	Exporter string `json:"exporter"`
}

// The formats of Entry.Format.
const (
	FormatPyTorch = "pytorch"
	FormatImmich  = "immich-onnx"
)

// Source is a repository on a hub at a revision (a branch, tag or commit).
type Source struct {
	Hub      string `json:"hub"` // HubHuggingFace or HubModelScope
	Repo     string `json:"repo"`
	Revision string `json:"revision"`
}

//go:embed catalog.json
var catalogJSON []byte

// catalog is catalog.json, parsed once.
var catalog = sync.OnceValue(func() []Entry {
	var out []Entry
	if err := json.Unmarshal(catalogJSON, &out); err != nil {
		panic("models: catalog.json: " + err.Error()) // broken build, checked by the tests
	}
	return out
})

// Catalog returns the models `models pull` knows, in the catalogue's order (a copy).
func Catalog() []Entry { return slices.Clone(catalog()) }

// Lookup returns the catalogue entry of name.
func Lookup(name string) (Entry, bool) {
	cat := catalog()
	i := slices.IndexFunc(cat, func(e Entry) bool { return e.Name == name })
	if i < 0 {
		return Entry{}, false
	}
	return cat[i], true
}

// Select picks the files of a repository (all its paths) that the entry downloads: every
// path a pattern matches, and for "a|b" the matches of the first alternative that has any.
// The result is sorted.
func (e Entry) Select(paths []string) ([]string, error) {
	var out []string
	for _, pat := range e.Files {
		for _, alt := range strings.Split(pat, "|") {
			var got []string
			for _, p := range paths {
				ok, err := path.Match(alt, p)
				if err != nil {
					return nil, fmt.Errorf("model %s: file pattern %q: %w", e.Name, alt, err)
				}
				if ok {
					got = append(got, p)
				}
			}
			if len(got) > 0 {
				out = append(out, got...)
				break
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// check reports what is wrong with an entry (the catalogue's test runs it on every entry).
func (e Entry) check() error {
	switch {
	case ValidName(e.Name) != nil:
		return ValidName(e.Name)
	case e.Name == DefaultName:
		return fmt.Errorf("model %s: the embedded default is not pulled", e.Name)
	case e.Source.Hub != HubHuggingFace && e.Source.Hub != HubModelScope:
		return fmt.Errorf("model %s: hub %q", e.Name, e.Source.Hub)
	case !strings.Contains(e.Source.Repo, "/") || e.Source.Revision == "":
		return fmt.Errorf("model %s: source %+v: want owner/name and a revision", e.Name, e.Source)
	case len(e.Files) == 0 || e.Family == "" || e.Licence == "" || e.Description == "":
		return fmt.Errorf("model %s: files, family, licence and description are required", e.Name)
	case e.Format == FormatPyTorch && e.Exporter == "":
		return fmt.Errorf("model %s: a %s checkpoint needs an exporter", e.Name, e.Format)
	case e.Format == FormatImmich && e.Exporter != "":
		return fmt.Errorf("model %s: an %s model is converted in Go, not by an exporter", e.Name, e.Format)
	case e.Format != FormatPyTorch && e.Format != FormatImmich:
		return fmt.Errorf("model %s: format %q: want %s or %s", e.Name, e.Format, FormatPyTorch, FormatImmich)
	}
	return nil
}
