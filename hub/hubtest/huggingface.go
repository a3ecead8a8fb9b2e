package hubtest

import (
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
)

// The Hugging Face hub's API, as huggingface_hub (file_download.py, hf_api.py) uses it:
//
//	GET /api/models/{repo}[/revision/{rev}][?blobs=true]   model info: sha, siblings
//	GET /api/models/{repo}/tree/{rev}[/{path}]?recursive=  the tree API, Link rel="next" pages
//	HEAD|GET /{repo}/resolve/{rev}/{path}                   bytes (X-Repo-Commit, ETag = git blob
//	    id), or for an LFS file a 302 to the CDN with X-Linked-Etag (sha256), X-Linked-Size
//	GET /cdn/{repo}/{sha256}?path=...                       an LFS file's bytes (another host name)
//
// Errors are 404 with X-Error-Code RepoNotFound, RevisionNotFound or EntryNotFound.

// splitRepo cuts escaped path segments into a repository id ("owner/name" or "name") and what
// follows it, given the keyword that follows an id ("revision", "resolve", ...).
func splitRepo(segs []string, keywords ...string) (id string, rest []string) {
	is := func(s string) bool {
		for _, k := range keywords {
			if s == k {
				return true
			}
		}
		return false
	}
	switch {
	case len(segs) >= 3 && is(segs[2]), len(segs) == 2 && !is(segs[1]):
		return unescape(segs[0]) + "/" + unescape(segs[1]), segs[2:]
	case len(segs) >= 1:
		return unescape(segs[0]), segs[1:]
	}
	return "", nil
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// joinPath unescapes and joins path segments (a path may arrive as "a/b" or "a%2Fb").
func joinPath(segs []string) string {
	parts := make([]string, len(segs))
	for i, s := range segs {
		parts[i] = unescape(s)
	}
	return strings.Join(parts, "/")
}

func truthy(s string) bool {
	b, err := strconv.ParseBool(s)
	return err == nil && b
}

// serveModelAPI answers /api/models/...: model info and the tree API.
func (m *Mirror) serveModelAPI(w http.ResponseWriter, r *http.Request, segs []string) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id, rest := splitRepo(segs, "revision", "tree")
	rev := "main"
	if len(rest) >= 2 {
		rev = unescape(rest[1])
	}
	repo, repoOK, revOK := m.lookup(id, rev)
	switch {
	case !repoOK:
		hubError(w, http.StatusNotFound, "RepoNotFound", "Repository not found")
	case len(rest) == 1 || len(rest) > 2 && rest[0] != "tree" || len(rest) > 0 && rest[0] != "revision" && rest[0] != "tree":
		hubError(w, http.StatusNotFound, "", "Sorry, we can't find the page you are looking for.")
	case !revOK:
		hubError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
	case len(rest) > 0 && rest[0] == "tree":
		m.serveTree(w, r, repo, joinPath(rest[2:]))
	default:
		info := modelInfo(repo, truthy(r.URL.Query().Get("blobs")))
		if m.opts.NoSiblings {
			delete(info, "siblings")
		}
		writeJSON(w, http.StatusOK, info)
	}
}

func modelInfo(repo *repo, blobs bool) map[string]any {
	siblings := make([]map[string]any, 0, len(repo.paths))
	for _, p := range repo.paths {
		f := repo.files[p]
		s := map[string]any{"rfilename": p}
		if blobs {
			s["size"] = len(f.data)
			s["blobId"] = f.blobID
			if f.lfs {
				s["lfs"] = map[string]any{"sha256": f.sha256, "size": len(f.data), "pointerSize": f.pointer}
			}
		}
		siblings = append(siblings, s)
	}
	author, _, _ := strings.Cut(repo.id, "/")
	return map[string]any{
		"_id": repo.commit[:24], "id": repo.id, "modelId": repo.id, "author": author,
		"sha": repo.commit, "lastModified": "2024-01-01T00:00:00.000Z", "createdAt": "2024-01-01T00:00:00.000Z",
		"private": false, "disabled": false, "gated": false, "downloads": 0, "likes": 0,
		"tags": []string{}, "library_name": "onnx", "siblings": siblings,
	}
}

// serveTree answers the tree API for the folder dir ("" for the root), a page at a time.
func (m *Mirror) serveTree(w http.ResponseWriter, r *http.Request, repo *repo, dir string) {
	q := r.URL.Query()
	recursive := truthy(q.Get("recursive"))
	prefix := ""
	if dir != "" {
		prefix = strings.TrimSuffix(dir, "/") + "/"
	}
	var entries []map[string]any
	paths, dirs := repo.under(prefix, recursive)
	for _, p := range paths {
		f := repo.files[p]
		e := map[string]any{"type": "file", "oid": f.blobID, "size": len(f.data), "path": p}
		if f.lfs {
			e["lfs"] = map[string]any{"oid": f.sha256, "size": len(f.data), "pointerSize": f.pointer}
		}
		entries = append(entries, e)
	}
	if dir != "" && len(entries) == 0 && len(dirs) == 0 {
		w.Header().Set("X-Repo-Commit", repo.commit)
		hubError(w, http.StatusNotFound, "EntryNotFound", fmt.Sprintf("%s does not exist on %q", dir, repo.commit))
		return
	}
	for d := range dirs {
		entries = append(entries, map[string]any{"type": "directory", "oid": fmt.Sprintf("%x", sha1.Sum([]byte(d))), "size": 0, "path": d})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i]["path"].(string) < entries[j]["path"].(string) })
	start, _ := strconv.Atoi(q.Get("cursor"))
	start = min(max(start, 0), len(entries))
	end := min(start+m.opts.TreePageSize, len(entries))
	if end < len(entries) {
		next := *r.URL
		nq := next.Query()
		nq.Set("cursor", strconv.Itoa(end))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", fmt.Sprintf("<%s%s>; rel=\"next\"", m.URL, next.RequestURI()))
	}
	page := entries[start:end]
	if page == nil {
		page = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, page)
}

// serveResolve answers HEAD and GET /{repo}/resolve/{rev}/{path}.
func (m *Mirror) serveResolve(w http.ResponseWriter, r *http.Request, rec *Request, segs []string) {
	id, rest := splitRepo(segs, "resolve")
	if len(rest) < 3 || rest[0] != "resolve" {
		hubError(w, http.StatusNotFound, "", "Sorry, we can't find the page you are looking for.")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rev, p := unescape(rest[1]), joinPath(rest[2:])
	rec.Repo, rec.File = id, p
	repo, repoOK, revOK := m.lookup(id, rev)
	if !repoOK {
		hubError(w, http.StatusNotFound, "RepoNotFound", "Repository not found")
		return
	}
	if !revOK {
		hubError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return
	}
	w.Header().Set("X-Repo-Commit", repo.commit)
	f := repo.files[p]
	switch {
	case f == nil:
		hubError(w, http.StatusNotFound, "EntryNotFound", "Entry not found")
		return
	case !m.misbehave(w, r, id, p):
		return
	}
	if f.lfs {
		m.redirectCDN(w, r, repo, f)
		return
	}
	w.Header().Set("ETag", `"`+f.blobID+`"`)
	m.serveBytes(w, r, id, p, f.data)
}

// redirectCDN answers an LFS file with a 302 to its content-addressed CDN URL, with the headers
// huggingface_hub reads the file's digest and size from.
func (m *Mirror) redirectCDN(w http.ResponseWriter, r *http.Request, repo *repo, f *file) {
	loc := m.cdnURL(repo, f)
	h := w.Header()
	h.Set("ETag", `"`+f.sha256+`"`)
	h.Set("X-Linked-Etag", `"`+f.sha256+`"`)
	h.Set("X-Linked-Size", strconv.Itoa(len(f.data)))
	h.Set("Location", loc)
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusFound)
		return
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusFound)
	fmt.Fprintf(w, "Found. Redirecting to %s", loc)
}

func (m *Mirror) cdnURL(repo *repo, f *file) string {
	q := url.Values{"path": {f.path}, "X-Amz-Signature": {"hubtest"}}
	return m.CDN + "/cdn/" + repo.id + "/" + f.sha256 + "?" + q.Encode()
}

// serveCDN answers /cdn/{repo}/{sha256}?path=...: an LFS file's bytes. Like a signed S3 URL it
// refuses a request that also carries an Authorization header.
func (m *Mirror) serveCDN(w http.ResponseWriter, r *http.Request, rec *Request, segs []string) {
	if len(segs) < 2 {
		http.NotFound(w, r)
		return
	}
	id, sha, p := joinPath(segs[:len(segs)-1]), segs[len(segs)-1], r.URL.Query().Get("path")
	rec.Repo, rec.File = id, p
	if r.Header.Get("Authorization") != "" && !m.opts.AllowCDNAuth {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; "+
			"only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified</Message></Error>")
		return
	}
	repo, ok, _ := m.lookup(id, "")
	var f *file
	if ok {
		f = repo.files[p]
	}
	if f == nil || f.sha256 != sha {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("ETag", `"`+f.sha256+`"`)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename*=UTF-8''%s; filename=\"%s\";", url.PathEscape(path.Base(p)), path.Base(p)))
	m.serveBytes(w, r, id, p, f.data)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps and slices of plain values are written
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
