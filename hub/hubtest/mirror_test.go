package hubtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestMirrorProtocol(t *testing.T) {
	m := New(Options{})
	defer m.Close()
	weights := []byte(strings.Repeat("0123456789", 100))
	commit := m.Add("org/model", map[string][]byte{"config.json": []byte(`{"a":1}`), "sub/w.onnx": weights})
	sum := sha256.Sum256(weights)
	sha := hex.EncodeToString(sum[:])
	cases := []struct {
		name, method, url string
		header            map[string]string
		status            int
		wantHeader        map[string]string
		body              string // a prefix of the body
	}{
		{name: "small file", method: "HEAD", url: m.URL + "/org/model/resolve/main/config.json", status: 200,
			wantHeader: map[string]string{"X-Repo-Commit": commit, "Content-Length": "7", "ETag": `"` + gitBlobID([]byte(`{"a":1}`)) + `"`}},
		{name: "LFS file", method: "HEAD", url: m.URL + "/org/model/resolve/" + commit + "/sub/w.onnx", status: 302,
			wantHeader: map[string]string{"X-Linked-Etag": `"` + sha + `"`, "X-Linked-Size": "1000", "X-Repo-Commit": commit}},
		{name: "range", method: "GET", url: m.URL + "/org/model/resolve/main/config.json", header: map[string]string{"Range": "bytes=2-"},
			status: 206, wantHeader: map[string]string{"Content-Range": "bytes 2-6/7"}, body: `a":1}`},
		{name: "suffix range", method: "GET", url: m.URL + "/org/model/resolve/main/config.json", header: map[string]string{"Range": "bytes=-2"},
			status: 206, body: `1}`},
		{name: "range past the end", method: "GET", url: m.URL + "/org/model/resolve/main/config.json", header: map[string]string{"Range": "bytes=7-"},
			status: 416, wantHeader: map[string]string{"Content-Range": "bytes */7"}},
		{name: "unknown repo", method: "GET", url: m.URL + "/org/nope/resolve/main/config.json", status: 404,
			wantHeader: map[string]string{"X-Error-Code": "RepoNotFound"}},
		{name: "unknown revision", method: "HEAD", url: m.URL + "/org/model/resolve/v2/config.json", status: 404,
			wantHeader: map[string]string{"X-Error-Code": "RevisionNotFound"}},
		{name: "unknown file", method: "HEAD", url: m.URL + "/org/model/resolve/main/nope", status: 404,
			wantHeader: map[string]string{"X-Error-Code": "EntryNotFound", "X-Repo-Commit": commit}},
		{name: "CDN refuses a token", method: "GET", url: m.CDN + "/cdn/org/model/" + sha + "?path=sub%2Fw.onnx",
			header: map[string]string{"Authorization": "Bearer x"}, status: 400, body: "<Error><Code>InvalidArgument"},
		{name: "CDN", method: "GET", url: m.CDN + "/cdn/org/model/" + sha + "?path=sub%2Fw.onnx", status: 200, body: "0123"},
		{name: "model info", method: "GET", url: m.URL + "/api/models/org/model/revision/main?blobs=True", status: 200,
			body: `{"_id":`},
		{name: "tree, one level", method: "GET", url: m.URL + "/api/models/org/model/tree/main", status: 200,
			body: `[{"oid":"` + gitBlobID([]byte(`{"a":1}`)) + `","path":"config.json","size":7,"type":"file"},{"oid"`},
		{name: "ModelScope listing", method: "GET", url: m.URL + "/api/v1/models/org/model/repo/files?Revision=master&Recursive=True", status: 200,
			body: `{"Code":200,"Data":{"Files":[{"CommitMessage"`},
		{name: "ModelScope file", method: "GET", url: m.URL + "/api/v1/models/org/model/repo?Revision=master&FilePath=config.json", status: 200,
			body: `{"a":1}`},
		{name: "ModelScope missing", method: "GET", url: m.URL + "/api/v1/models/org/nope/repo/files?Revision=master", status: 404,
			body: `{"Code":10010205001`},
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, tc.url, nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.status, body)
			}
			for k, v := range tc.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if !strings.HasPrefix(string(body), tc.body) {
				t.Errorf("body %.200s, want it to start %q", body, tc.body)
			}
		})
	}
}

func TestMirrorTreeRecursive(t *testing.T) {
	m := New(Options{})
	defer m.Close()
	m.Add("m", map[string][]byte{"a/b/c.txt": []byte("x"), "a/d.txt": []byte("y"), "e.txt": nil})
	cases := []struct {
		url  string
		want []string
	}{
		{"/api/models/m/tree/main", []string{"a", "e.txt"}},
		{"/api/models/m/tree/main?recursive=True", []string{"a", "a/b", "a/b/c.txt", "a/d.txt", "e.txt"}},
		{"/api/models/m/tree/main/a%2Fb", []string{"a/b/c.txt"}},
	}
	for _, tc := range cases {
		resp, err := http.Get(m.URL + tc.url)
		if err != nil {
			t.Fatal(err)
		}
		var entries []struct{ Path string }
		json.NewDecoder(resp.Body).Decode(&entries)
		resp.Body.Close()
		var got []string
		for _, e := range entries {
			got = append(got, e.Path)
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: %v, want %v", tc.url, got, tc.want)
		}
	}
}
