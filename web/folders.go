package web

import (
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

// Folder is one folder prefix for the search filter: Count images are under it (subfolders
// included).
type Folder struct {
	Prefix string `json:"prefix"` // the value of the folder= search parameter
	Name   string `json:"name"`   // the prefix relative to the folders' common root
	Count  int    `json:"count"`
}

// Folders answers GET /folders.
type Folders struct {
	Folders   []Folder `json:"folders"`
	Truncated bool     `json:"truncated,omitempty"`
}

// folderCache keeps the folder list until the image count changes or folderTTL passes.
type folderCache struct {
	mu    sync.Mutex
	count int
	built time.Time
	list  Folders
}

func folderOf(p string) string { return strings.TrimSuffix(filepath.Dir(p), "/") + "/" }

// folders is GET /folders: every folder holding indexed images, and the folders between them
// and their common root.
func (s *Server) folders(c echo.Context) error {
	fc := &s.fold
	fc.mu.Lock()
	defer fc.mu.Unlock()
	n := s.lib.DB().ImageCount()
	if fc.list.Folders == nil || n != fc.count || s.o.Now().Sub(fc.built) > folderTTL {
		list, err := s.listFolders()
		if err != nil {
			return err
		}
		fc.list, fc.count, fc.built = list, n, s.o.Now()
	}
	return c.JSON(http.StatusOK, fc.list)
}

func (s *Server) listFolders() (Folders, error) {
	direct := map[string]int{}
	for after := uint64(0); ; {
		page, next, err := s.lib.DB().Images(after, 4096)
		if err != nil {
			return Folders{}, err
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
		return Folders{Folders: []Folder{}}, nil
	}
	dirs := make([]string, 0, len(direct))
	for d := range direct {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	root := commonDir(dirs[0], dirs[len(dirs)-1]) // sorted: the extremes share the least
	counts := map[string]int{}
	for d, n := range direct {
		for a := d; len(a) >= len(root); a = folderOf(strings.TrimSuffix(a, "/")) {
			counts[a] += n
			if a == "/" {
				break
			}
		}
	}
	out := Folders{Folders: make([]Folder, 0, min(len(counts), maxFolders))}
	for p, n := range counts {
		name := strings.TrimPrefix(p, root)
		if name == "" {
			name = filepath.Base(root) + "/"
		}
		out.Folders = append(out.Folders, Folder{Prefix: p, Name: name, Count: n})
	}
	slices.SortFunc(out.Folders, func(a, b Folder) int { return strings.Compare(a.Prefix, b.Prefix) })
	if len(out.Folders) > maxFolders {
		out.Folders, out.Truncated = out.Folders[:maxFolders], true
	}
	return out, nil
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
