package web

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Folder listing limits.
const (
	maxFolders = 5000
	folderTTL  = 30 * time.Second
)

// Folder is one folder for the search filter: Count images are under it (subfolders included).
// Folders are named relative to the library's roots, never by the server's absolute paths: a
// root's name is its folder's base name ("photos/"), then the path below it ("photos/2024/").
type Folder struct {
	Prefix string `json:"prefix"` // the value of the folder= search parameter: "photos/2024/"
	Name   string `json:"name"`   // the prefix relative to the folders' common root
	Count  int    `json:"count"`
}

// Folders answers GET /folders.
type Folders struct {
	Folders   []Folder `json:"folders"`
	Truncated bool     `json:"truncated,omitempty"`
}

// folderRoot is a folder that relative folder names start from.
type folderRoot struct {
	abs  string // "/srv/photos/", with its trailing slash
	name string // "photos", unique among the roots
}

// folderCache keeps the folder list and its roots until the image count changes or folderTTL
// passes.
type folderCache struct {
	mu    sync.Mutex
	count int
	built time.Time
	list  Folders
	roots []folderRoot
}

func folderOf(p string) string { return strings.TrimSuffix(filepath.Dir(p), "/") + "/" }

// folders is GET /folders: every folder holding indexed images, and the folders between them
// and their root.
func (s *Server) folders(c echo.Context) error {
	list, _, err := s.folderList()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list)
}

// folderList is the cached folder list and the roots its names start from.
func (s *Server) folderList() (Folders, []folderRoot, error) {
	fc := &s.fold
	fc.mu.Lock()
	defer fc.mu.Unlock()
	n := s.lib.DB().ImageCount()
	if fc.list.Folders == nil || n != fc.count || s.o.Now().Sub(fc.built) > folderTTL {
		list, roots, err := s.listFolders()
		if err != nil {
			return Folders{}, nil, err
		}
		fc.list, fc.roots, fc.count, fc.built = list, roots, n, s.o.Now()
	}
	return fc.list, fc.roots, nil
}

// relFolder names an absolute folder prefix ("/srv/photos/2024/") relative to its root
// ("photos/2024/"); "" when no root holds it.
func (s *Server) relFolder(abs string) (string, error) {
	_, roots, err := s.folderList()
	if err != nil {
		return "", err
	}
	rel, _ := relativeTo(roots, abs)
	return rel, nil
}

// absFolder is the absolute folder prefix of a relative one, as GET /folders lists it; ok is
// false when its first element names no root.
func (s *Server) absFolder(rel string) (string, bool, error) {
	_, roots, err := s.folderList()
	if err != nil {
		return "", false, err
	}
	abs, ok := absoluteOf(roots, rel)
	return abs, ok, nil
}

// rootOf is the deepest root that holds the absolute folder prefix abs.
func rootOf(roots []folderRoot, abs string) (folderRoot, bool) {
	best, ok := folderRoot{}, false
	for _, r := range roots {
		if strings.HasPrefix(abs, r.abs) && (!ok || len(r.abs) > len(best.abs)) {
			best, ok = r, true
		}
	}
	return best, ok
}

// relativeTo names abs by the deepest root that holds it.
func relativeTo(roots []folderRoot, abs string) (string, bool) {
	r, ok := rootOf(roots, abs)
	if !ok {
		return "", false
	}
	return r.name + "/" + strings.TrimPrefix(abs, r.abs), true
}

// absoluteOf maps a relative folder name back to its absolute prefix: its first element names
// the root.
func absoluteOf(roots []folderRoot, rel string) (string, bool) {
	name, rest, _ := strings.Cut(rel, "/")
	for _, r := range roots {
		if r.name == name {
			return r.abs + rest, true
		}
	}
	return "", false
}

// listFolders lists the folders of the indexed images with their counts. Their names start
// from the server's index roots (Options.IndexRoots) when it has them, which keeps them stable
// as the library grows; folders outside them, and every folder of a server without roots,
// start from their common folder.
func (s *Server) listFolders() (Folders, []folderRoot, error) {
	direct := map[string]int{}
	for after := uint64(0); ; {
		page, next, err := s.lib.DB().Images(after, 4096)
		if err != nil {
			return Folders{}, nil, err
		}
		for _, r := range page {
			direct[folderOf(r.Path)]++
		}
		if next == 0 {
			break
		}
		after = next
	}
	if len(direct) == 0 {
		return Folders{Folders: []Folder{}}, nil, nil
	}
	dirs := make([]string, 0, len(direct))
	for d := range direct {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	roots := rootsOf(s.o.IndexRoots, dirs)
	common := commonDir(dirs[0], dirs[len(dirs)-1]) // sorted: the extremes share the least
	counts := map[string]int{}
	for d, n := range direct {
		root, _ := rootOf(roots, d) // every folder has a root
		for a := d; ; a = folderOf(strings.TrimSuffix(a, "/")) {
			counts[a] += n
			if a == root.abs || a == "/" {
				break
			}
		}
	}
	out := Folders{Folders: make([]Folder, 0, min(len(counts), maxFolders))}
	for p, n := range counts {
		rel, _ := relativeTo(roots, p)
		name := strings.TrimPrefix(p, common)
		if name == "" || !strings.HasPrefix(p, common) {
			name = rel
			if p == common {
				name = filepath.Base(common) + "/"
			}
		}
		out.Folders = append(out.Folders, Folder{Prefix: rel, Name: name, Count: n})
	}
	slices.SortFunc(out.Folders, func(a, b Folder) int { return strings.Compare(a.Prefix, b.Prefix) })
	if len(out.Folders) > maxFolders {
		out.Folders, out.Truncated = out.Folders[:maxFolders], true
	}
	return out, roots, nil
}

// rootsOf picks the roots that relative folder names start from: the index roots, plus the
// common folder of the sorted folder prefixes dirs that lie outside them (all of them, without
// index roots). Names are base names, made unique with "-2", "-3" in order.
func rootsOf(indexRoots []string, dirs []string) []folderRoot {
	var abs []string
	for _, r := range indexRoots {
		abs = append(abs, strings.TrimSuffix(filepath.Clean(r), "/")+"/")
	}
	var outside []string
	for _, d := range dirs {
		in := false
		for _, r := range abs {
			in = in || strings.HasPrefix(d, r)
		}
		if !in {
			outside = append(outside, d)
		}
	}
	if len(outside) > 0 {
		abs = append(abs, commonDir(outside[0], outside[len(outside)-1]))
	}
	roots := make([]folderRoot, 0, len(abs))
	seen := map[string]bool{}
	for _, a := range abs {
		base := filepath.Base(a)
		if base == "/" || base == "." {
			base = "root"
		}
		name := base
		for i := 2; seen[name]; i++ {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		seen[name] = true
		roots = append(roots, folderRoot{abs: a, name: name})
	}
	return roots
}

// commonDir is the longest folder prefix ("/a/b/") of two folder prefixes.
func commonDir(a, b string) string {
	n := 0
	for i := 0; i < len(a) && i < len(b) && a[i] == b[i]; i++ {
		if a[i] == '/' {
			n = i + 1
		}
	}
	return a[:n]
}
