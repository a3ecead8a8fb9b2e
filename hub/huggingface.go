package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// huggingFace speaks the Hugging Face hub's HTTP API, as huggingface_hub uses it:
//
//	GET  /api/models/{repo}/revision/{rev}?blobs=true    model info: "sha" (the commit) and
//	     "siblings" [{rfilename, size, blobId, lfs: {sha256, size, pointerSize}}]
//	GET  /api/models/{repo}/tree/{rev}?recursive=true     the tree API, paged by a Link rel="next"
//	     header: [{type: file|directory, path, size, oid, lfs: {oid, size, pointerSize}}]
//	GET  /{repo}/resolve/{rev}/{path}                     the bytes; an LFS file answers 302 to a
//	     signed CDN URL (X-Linked-Etag / X-Linked-Size carry its sha256 and size)
//
// The tree API is used when the model info's siblings are missing, empty, lack sizes or are too
// many to be trusted (huggingface_hub's snapshot_download does the same).
type huggingFace struct {
	c *Client
}

// veryLargeRepo is where huggingface_hub stops trusting the siblings list.
const veryLargeRepo = 50000

// maxTreePages bounds the tree API's pagination (its pages hold 1000 entries).
const maxTreePages = 1000

func (h *huggingFace) defaultRevision() string { return "main" }

func (h *huggingFace) list(ctx context.Context, repo, revision string) (*Listing, error) {
	if err := checkRepo(repo, false); err != nil {
		return nil, err
	}
	ep := h.c.opts.Endpoint
	body, _, err := h.c.getBytes(ctx, ep+"/api/models/"+repo+"/revision/"+url.PathEscape(revision)+"?blobs=true")
	if err != nil {
		return nil, err
	}
	commit, files, complete, err := parseModelInfo(body)
	if err != nil {
		return nil, err
	}
	if !complete {
		if files, err = h.tree(ctx, repo, commit); err != nil {
			return nil, err
		}
	}
	if err := checkFiles(files); err != nil {
		return nil, err
	}
	return &Listing{Repo: repo, Revision: revision, Commit: commit, Files: files}, nil
}

// tree lists every file of repo at commit with the paginated tree API.
func (h *huggingFace) tree(ctx context.Context, repo, commit string) ([]File, error) {
	next := h.c.opts.Endpoint + "/api/models/" + repo + "/tree/" + url.PathEscape(commit) + "?recursive=true&expand=false"
	var files []File
	for page := 0; next != ""; page++ {
		if page == maxTreePages {
			return nil, fmt.Errorf("tree of %s: more than %d pages: %w", repo, maxTreePages, ErrBadResponse)
		}
		body, hdr, err := h.c.getBytes(ctx, next)
		if err != nil {
			return nil, err
		}
		got, err := parseTree(body)
		if err != nil {
			return nil, err
		}
		files = append(files, got...)
		link := parseNextLink(hdr.Get("Link"))
		if link == "" {
			break
		}
		base, _ := url.Parse(next)
		u, err := base.Parse(link)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("tree of %s: next page %q: %w", repo, link, ErrBadResponse)
		}
		next = u.String()
	}
	return files, nil
}

func (h *huggingFace) fileURL(l *Listing, f File) string {
	return h.c.opts.Endpoint + "/" + l.Repo + "/resolve/" + url.PathEscape(l.ref()) + "/" + escapePath(f.Path)
}

// escapePath escapes each segment of a slash-separated path.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

type hfLFS struct {
	SHA256 string `json:"sha256"` // model info
	OID    string `json:"oid"`    // tree API
	Size   *int64 `json:"size"`
}

// parseModelInfo reads /api/models/{repo}/revision/{rev}?blobs=true. complete is false when the
// siblings cannot be trusted to be every file with its size (then the tree API lists them).
func parseModelInfo(body []byte) (commit string, files []File, complete bool, err error) {
	var v struct {
		SHA      string `json:"sha"`
		Siblings *[]struct {
			RFilename string `json:"rfilename"`
			Size      *int64 `json:"size"`
			BlobID    string `json:"blobId"`
			LFS       *hfLFS `json:"lfs"`
		} `json:"siblings"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", nil, false, fmt.Errorf("model info: %v: %w", err, ErrBadResponse)
	}
	if v.SHA == "" || checkRevision(v.SHA) != nil || strings.ContainsAny(v.SHA, "/?#%") {
		return "", nil, false, fmt.Errorf("model info: commit sha %q: %w", v.SHA, ErrBadResponse)
	}
	if v.Siblings == nil || len(*v.Siblings) == 0 || len(*v.Siblings) > veryLargeRepo {
		return v.SHA, nil, false, nil
	}
	complete = true
	for _, s := range *v.Siblings {
		f := File{Path: s.RFilename, BlobID: strings.ToLower(s.BlobID)}
		if s.Size != nil {
			f.Size = *s.Size
		} else {
			complete = false
		}
		if s.LFS != nil {
			if err := lfsInto(&f, s.LFS.SHA256, s.LFS.Size); err != nil {
				return "", nil, false, err
			}
		}
		files = append(files, f)
	}
	if !complete {
		return v.SHA, nil, false, nil
	}
	return v.SHA, files, true, nil
}

// lfsInto fills an LFS file's digest and size, refusing a size that contradicts the listing's.
func lfsInto(f *File, sha string, size *int64) error {
	f.LFS = true
	f.SHA256 = strings.ToLower(sha)
	if f.SHA256 == "" {
		return fmt.Errorf("%s: LFS file without sha256: %w", f.Path, ErrBadResponse)
	}
	if size != nil {
		if f.Size != 0 && f.Size != *size {
			return fmt.Errorf("%s: size %d, LFS size %d: %w", f.Path, f.Size, *size, ErrBadResponse)
		}
		f.Size = *size
	}
	return nil
}

// parseTree reads one page of /api/models/{repo}/tree/{rev}?recursive=true: the files, without
// the directories.
func parseTree(body []byte) ([]File, error) {
	var v []struct {
		Type string `json:"type"`
		Path string `json:"path"`
		Size *int64 `json:"size"`
		OID  string `json:"oid"`
		LFS  *hfLFS `json:"lfs"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("tree: %v: %w", err, ErrBadResponse)
	}
	var files []File
	for _, e := range v {
		switch e.Type {
		case "directory":
			continue
		case "file":
		default:
			return nil, fmt.Errorf("tree: entry %q of type %q: %w", e.Path, e.Type, ErrBadResponse)
		}
		if e.Size == nil {
			return nil, fmt.Errorf("tree: %s without size: %w", e.Path, ErrBadResponse)
		}
		f := File{Path: e.Path, Size: *e.Size, BlobID: strings.ToLower(e.OID)}
		if e.LFS != nil {
			if err := lfsInto(&f, e.LFS.OID, e.LFS.Size); err != nil {
				return nil, err
			}
		}
		files = append(files, f)
	}
	return files, nil
}
