package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// modelScope speaks ModelScope's /api/v1 file API, as modelscope's snapshot_download uses it:
//
//	GET /api/v1/models/{owner}/{name}/repo/files?Revision={rev}&Recursive=True
//	    {"Code": 200, "Success": true, "Data": {"Files": [{Path, Name, Type: blob|tree, Size,
//	    Sha256, IsLFS, Revision}]}}
//	GET /api/v1/models/{owner}/{name}/repo?Revision={rev}&FilePath={path}
//	    the bytes, or a redirect to them (large files live on object storage)
//
// The listing names no commit, so downloads read the revision as given.
type modelScope struct {
	c *Client
}

// msListingCap is where ModelScope's repo/files silently truncates a listing.
const msListingCap = 3000

func (m *modelScope) defaultRevision() string { return "master" }

func (m *modelScope) list(ctx context.Context, repo, revision string) (*Listing, error) {
	if err := checkRepo(repo, true); err != nil {
		return nil, err
	}
	q := url.Values{"Revision": {revision}, "Recursive": {"True"}}
	body, _, err := m.c.getBytes(ctx, m.c.opts.Endpoint+"/api/v1/models/"+repo+"/repo/files?"+q.Encode())
	if err != nil {
		return nil, err
	}
	files, n, err := parseModelScopeFiles(body)
	if err != nil {
		return nil, err
	}
	if n >= msListingCap {
		return nil, fmt.Errorf("listing holds %d entries, ModelScope's cap: it may be truncated: %w", n, ErrBadResponse)
	}
	if err := checkFiles(files); err != nil {
		return nil, err
	}
	return &Listing{Repo: repo, Revision: revision, Files: files}, nil
}

func (m *modelScope) fileURL(l *Listing, f File) string {
	q := url.Values{"Revision": {l.ref()}, "FilePath": {f.Path}}
	return m.c.opts.Endpoint + "/api/v1/models/" + l.Repo + "/repo?" + q.Encode()
}

// parseModelScopeFiles reads a repo/files answer: its files (without the folders) and the
// number of entries it held.
func parseModelScopeFiles(body []byte) (files []File, entries int, err error) {
	var v struct {
		Code    json.RawMessage `json:"Code"`
		Success *bool           `json:"Success"`
		Message string          `json:"Message"`
		Data    *struct {
			Files []struct {
				Path   string `json:"Path"`
				Name   string `json:"Name"`
				Type   string `json:"Type"`
				Size   *int64 `json:"Size"`
				Sha256 string `json:"Sha256"`
				IsLFS  bool   `json:"IsLFS"`
			} `json:"Files"`
		} `json:"Data"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, 0, fmt.Errorf("file listing: %v: %w", err, ErrBadResponse)
	}
	code := strings.Trim(string(v.Code), `"`)
	if (v.Success != nil && !*v.Success) || (code != "" && code != "200" && code != "null") {
		return nil, 0, fmt.Errorf("file listing: code %s: %s: %w", code, v.Message, ErrBadResponse)
	}
	if v.Data == nil {
		return nil, 0, fmt.Errorf("file listing without Data: %w", ErrBadResponse)
	}
	for _, e := range v.Data.Files {
		switch e.Type {
		case "tree":
			continue
		case "blob", "":
		default:
			return nil, 0, fmt.Errorf("file listing: entry %q of type %q: %w", e.Path, e.Type, ErrBadResponse)
		}
		p := e.Path
		if p == "" {
			p = e.Name
		}
		if e.Size == nil {
			return nil, 0, fmt.Errorf("file listing: %s without Size: %w", p, ErrBadResponse)
		}
		files = append(files, File{Path: p, Size: *e.Size, SHA256: strings.ToLower(e.Sha256), LFS: e.IsLFS})
	}
	return files, len(v.Data.Files), nil
}
