package hub

import (
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// File is one file of a repository as the hub lists it.
type File struct {
	// Path is the file's path in the repository, slash-separated ("textual/tokenizer.json").
	Path string
	// Size is the file's size in bytes.
	Size int64
	// SHA256 is the hex sha256 of the file's bytes: Hugging Face publishes it for LFS files,
	// ModelScope for every file. Empty when the hub publishes none.
	SHA256 string
	// BlobID is the git blob id (hex sha1 of "blob <size>\x00" + bytes) of a Hugging Face file;
	// for an LFS file it is the id of the pointer file, not of the bytes.
	BlobID string
	// LFS is true for a file stored in Git LFS (Hugging Face, or ModelScope's IsLFS).
	LFS bool
}

// digest returns the algorithm and hex digest that verifies f's bytes: sha256 when the hub
// publishes one, else the git blob id of a non-LFS file, else "".
func (f File) digest() (algo, want string) {
	switch {
	case f.SHA256 != "":
		return "sha256", f.SHA256
	case f.BlobID != "" && !f.LFS:
		return "git-sha1", f.BlobID
	}
	return "", ""
}

// Listing is a repository's files at one revision.
type Listing struct {
	Repo     string
	Revision string // as the caller asked for it ("main", a tag, a commit)
	// Commit is the commit the revision resolved to (Hugging Face's "sha"); downloads then read
	// that commit, so every file of one snapshot comes from the same commit. Empty for
	// ModelScope, whose file listing does not say; downloads then read Revision.
	Commit string
	Files  []File
}

// ref is the revision downloads read: the resolved commit when known.
func (l *Listing) ref() string {
	if l.Commit != "" {
		return l.Commit
	}
	return l.Revision
}

// Select returns the files matched by patterns, in listing order; no patterns selects every
// file. A pattern is a path.Match pattern on the whole repository path ("visual/*.onnx",
// "*.json"), or a directory prefix ending in "/" ("textual/"). A pattern without wildcards names
// one file: it must exist, else the error wraps ErrNotFound and names the repository and file.
func (l *Listing) Select(patterns []string) ([]File, error) {
	if len(patterns) == 0 {
		return append([]File(nil), l.Files...), nil
	}
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			return nil, fmt.Errorf("pattern %q: %w", p, ErrInput)
		}
	}
	var out []File
	hit := make([]bool, len(patterns))
	for _, f := range l.Files {
		matched := false
		for i, p := range patterns {
			if matchPattern(p, f.Path) {
				hit[i], matched = true, true
			}
		}
		if matched {
			out = append(out, f)
		}
	}
	for i, p := range patterns {
		if !hit[i] && !hasMeta(p) {
			return nil, fmt.Errorf("file %s not found in %s@%s: %w", p, l.Repo, l.Revision, ErrNotFound)
		}
	}
	return out, nil
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) || strings.HasSuffix(p, "/") }

func matchPattern(p, name string) bool {
	if strings.HasSuffix(p, "/") {
		return strings.HasPrefix(name, p)
	}
	ok, _ := path.Match(p, name)
	return ok
}

var (
	repoSegment = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	hexDigest   = regexp.MustCompile(`^[0-9a-f]+$`)
)

// checkRepo validates a repository id: "owner/name" (or a bare "name" on Hugging Face), letters,
// digits, '.', '_' and '-', no "..", at most 96 characters, as the hubs allow.
func checkRepo(repo string, needOwner bool) error {
	segs := strings.Split(repo, "/")
	ok := len(repo) <= 96 && (len(segs) == 2 || len(segs) == 1 && !needOwner) && !strings.Contains(repo, "..")
	for _, s := range segs {
		ok = ok && repoSegment.MatchString(s)
	}
	if !ok {
		want := "owner/name"
		if !needOwner {
			want = "[owner/]name"
		}
		return fmt.Errorf("repository id %q: want %s: %w", repo, want, ErrInput)
	}
	return nil
}

// checkRevision validates a revision (branch, tag, commit): it becomes one escaped URL path
// segment or query value, so anything printable goes except a path that could escape.
func checkRevision(rev string) error {
	if rev == "" || len(rev) > 256 || strings.ContainsAny(rev, "\x00\r\n") || rev == "." || rev == ".." {
		return fmt.Errorf("revision %q: %w", rev, ErrInput)
	}
	return nil
}

// checkFile validates one listed file: its path must stay inside the destination folder on
// every platform, and its size and digests must be well formed. Hub listings are untrusted.
func checkFile(f File) error {
	p := f.Path
	bad := p == "" || p == "." || len(p) > 1024 || strings.ContainsAny(p, "\\:\x00") || path.IsAbs(p) ||
		path.Clean(p) != p || strings.HasPrefix(p, "../") || p == ".." || !filepath.IsLocal(filepath.FromSlash(p))
	if bad {
		return fmt.Errorf("unsafe file path %q: %w", p, ErrBadResponse)
	}
	if f.Size < 0 {
		return fmt.Errorf("%s: negative size %d: %w", p, f.Size, ErrBadResponse)
	}
	if f.SHA256 != "" && (len(f.SHA256) != 64 || !hexDigest.MatchString(f.SHA256)) {
		return fmt.Errorf("%s: malformed sha256 %q: %w", p, f.SHA256, ErrBadResponse)
	}
	if f.BlobID != "" && (len(f.BlobID) != 40 || !hexDigest.MatchString(f.BlobID)) {
		return fmt.Errorf("%s: malformed blob id %q: %w", p, f.BlobID, ErrBadResponse)
	}
	return nil
}

// checkFiles validates every file and refuses listings whose files would collide on disk: the
// same path twice, a file that is also another file's folder, a file named like another's
// download in progress (".incomplete").
func checkFiles(files []File) error {
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		if err := checkFile(f); err != nil {
			return err
		}
		if seen[f.Path] {
			return fmt.Errorf("file %s listed twice: %w", f.Path, ErrBadResponse)
		}
		seen[f.Path] = true
	}
	for _, f := range files {
		if seen[strings.TrimSuffix(f.Path, incompleteSuffix)] && strings.HasSuffix(f.Path, incompleteSuffix) {
			return fmt.Errorf("file %s collides with a download in progress: %w", f.Path, ErrBadResponse)
		}
		for dir := path.Dir(f.Path); dir != "."; dir = path.Dir(dir) {
			if seen[dir] {
				return fmt.Errorf("%s is both a file and the folder of %s: %w", dir, f.Path, ErrBadResponse)
			}
		}
	}
	return nil
}
