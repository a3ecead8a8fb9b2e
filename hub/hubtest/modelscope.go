package hubtest

import (
	"net/http"
	"path"
	"sort"
	"strings"
)

// ModelScope's /api/v1 file API, as modelscope (modelscope_hub's LegacyClient and
// DownloadManager) uses it:
//
//	GET /api/v1/models/{owner}/{name}/repo/files?Revision=&Recursive=&Root=
//	    {"Code": 200, "Success": true, "Data": {"Files": [{Path, Name, Type, Size, Sha256, IsLFS, ...}]}}
//	GET /api/v1/models/{owner}/{name}/repo?Revision=&FilePath=
//	    the bytes (Range honoured), or for an LFS file a 302 to the CDN
//
// Errors are JSON {"Code": <business code>, "Message": ..., "Success": false}.

// msNotExist is ModelScope's business code for a missing model or file.
const msNotExist = 10010205001

func msError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"Code": msNotExist, "Message": msg, "RequestId": "hubtest", "Success": false})
}

// serveModelScope answers /api/v1/... (segs after "api/v1").
func (m *Mirror) serveModelScope(w http.ResponseWriter, r *http.Request, rec *Request, segs []string) {
	if len(segs) < 4 || segs[0] != "models" || segs[3] != "repo" || len(segs) > 5 || len(segs) == 5 && segs[4] != "files" {
		msError(w, http.StatusNotFound, "no such API: "+r.URL.Path)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id := unescape(segs[1]) + "/" + unescape(segs[2])
	q := r.URL.Query()
	rev := q.Get("Revision")
	if rev == "" {
		rev = "master"
	}
	repo, repoOK, revOK := m.lookup(id, rev)
	switch {
	case !repoOK:
		msError(w, http.StatusNotFound, "model "+id+" not exist")
		return
	case !revOK:
		msError(w, http.StatusNotFound, "revision "+rev+" not exist")
		return
	}
	if len(segs) == 5 {
		m.serveMSFiles(w, repo, truthy(q.Get("Recursive")), strings.Trim(q.Get("Root"), "/"))
		return
	}
	p := q.Get("FilePath")
	rec.Repo, rec.File = id, p
	f := repo.files[p]
	switch {
	case f == nil:
		msError(w, http.StatusNotFound, "file "+p+" not exist")
		return
	case !m.misbehave(w, r, id, p):
		return
	}
	if f.lfs {
		w.Header().Set("Location", m.cdnURL(repo, f))
		w.WriteHeader(http.StatusFound)
		return
	}
	m.serveBytes(w, r, id, p, f.data)
}

// serveMSFiles lists the files (and folders, Type "tree") under root.
func (m *Mirror) serveMSFiles(w http.ResponseWriter, repo *repo, recursive bool, root string) {
	prefix := ""
	if root != "" {
		prefix = root + "/"
	}
	entry := func(p, typ string) map[string]any {
		return map[string]any{"Name": path.Base(p), "Path": p, "Type": typ, "Size": 0, "Sha256": "", "IsLFS": false,
			"Mode": "40000", "Revision": repo.commit, "CommitMessage": "hubtest", "CommitterName": "hubtest",
			"CommittedDate": 1704067200, "InCheck": false}
	}
	files := []map[string]any{}
	paths, dirs := repo.under(prefix, recursive)
	for _, p := range paths {
		f := repo.files[p]
		e := entry(p, "blob")
		e["Size"], e["Sha256"], e["IsLFS"], e["Mode"] = len(f.data), f.sha256, f.lfs, "33188"
		files = append(files, e)
	}
	for d := range dirs {
		files = append(files, entry(d, "tree"))
	}
	sort.Slice(files, func(i, j int) bool { return files[i]["Path"].(string) < files[j]["Path"].(string) })
	writeJSON(w, http.StatusOK, map[string]any{
		"Code": 200, "Message": "success", "RequestId": "hubtest", "Success": true,
		"Data": map[string]any{"Files": files, "LatestCommitter": map[string]any{"CommitterName": "hubtest", "Id": repo.commit}},
	})
}
