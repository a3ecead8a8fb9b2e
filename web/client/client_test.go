package client

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDiscover checks each state of a data dir's server.json.
func TestDiscover(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, st, err := Discover(ctx, dir, nil); st != NoServer || err != nil {
		t.Fatalf("empty dir: %v %v", st, err)
	}
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(Health{Status: "ok", Instance: "abc"})
	}))
	defer live.Close()
	cases := []struct {
		name string
		f    ServerFile
		want ServerState
		err  string
	}{
		{"live", ServerFile{URL: live.URL, PID: os.Getpid(), Instance: "abc"}, LiveServer, ""},
		{"dead pid", ServerFile{URL: live.URL, PID: 1 << 30, Instance: "abc"}, StaleServer, "gone"},
		{"another server", ServerFile{URL: live.URL, PID: os.Getpid(), Instance: "old"}, StaleServer, "another server"},
		{"nothing listens", ServerFile{URL: "http://127.0.0.1:1", PID: os.Getpid(), Instance: "abc"}, StaleServer, "nothing listens"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := WriteServerFile(dir, c.f); err != nil {
				t.Fatal(err)
			}
			f, st, err := Discover(ctx, dir, nil)
			if st != c.want || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
				t.Fatalf("%v %v, want %v with %q", st, err, c.want, c.err)
			}
			if f.Instance != c.f.Instance {
				t.Fatalf("read %+v", f)
			}
		})
	}
	os.WriteFile(filepath.Join(dir, ServerFileName), []byte("{"), 0o644)
	if _, st, err := Discover(ctx, dir, nil); st != StaleServer || err == nil {
		t.Fatalf("garbage: %v %v", st, err)
	}
}

func TestRemoveServerFile(t *testing.T) {
	dir := t.TempDir()
	WriteServerFile(dir, ServerFile{Instance: "newer"})
	if err := RemoveServerFile(dir, "older"); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadServerFile(dir); err != nil {
		t.Fatalf("another instance's file removed: %v", err)
	}
	if err := RemoveServerFile(dir, "newer"); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadServerFile(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("own file kept: %v", err)
	}
	if err := RemoveServerFile(dir, "newer"); err != nil {
		t.Fatalf("no file: %v", err)
	}
}

// TestClient checks the requests a client sends and how it reads answers and errors.
func TestClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer k":
			w.WriteHeader(401)
			json.NewEncoder(w).Encode(ErrorBody{Error: ErrorDetail{Code: "unauthorized", Message: "the API key is not valid"}})
		case r.Method == "POST" && r.URL.Path == "/api/v1/index" && r.Header.Get("Content-Type") == "application/json":
			var req IndexRequest
			json.NewDecoder(r.Body).Decode(&req)
			w.WriteHeader(202)
			json.NewEncoder(w).Encode(Job{ID: "j1", State: JobQueued, Paths: req.Paths})
		case r.Method == "GET" && r.URL.Path == "/api/v1/jobs/j1":
			json.NewEncoder(w).Encode(Job{ID: "j1", State: JobDone, Progress: Progress{Indexed: 3}})
		case r.Method == "DELETE" && r.URL.Path == "/api/v1/jobs/j1":
			json.NewEncoder(w).Encode(Job{ID: "j1", State: JobCancelled})
		default:
			http.Error(w, "plain failure", 500)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	c := &Client{BaseURL: srv.URL + "/", Key: "k"}
	if j, err := c.StartIndex(ctx, IndexRequest{Paths: []string{"/p"}}); err != nil || j.ID != "j1" || j.Paths[0] != "/p" {
		t.Fatalf("start: %+v %v", j, err)
	}
	if j, err := c.Job(ctx, "j1"); err != nil || !j.State.Final() || j.Progress.Indexed != 3 {
		t.Fatalf("job: %+v %v", j, err)
	}
	if j, err := c.CancelJob(ctx, "j1"); err != nil || j.State != JobCancelled {
		t.Fatalf("cancel: %+v %v", j, err)
	}
	_, err := c.Job(ctx, "other")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 500 || ae.Message != "plain failure" {
		t.Fatalf("plain error: %v", err)
	}
	_, err = (&Client{BaseURL: srv.URL, Key: "bad"}).Job(ctx, "j1")
	if !IsStatus(err, 401) || !strings.Contains(err.Error(), "not valid") {
		t.Fatalf("401: %v", err)
	}
}

// TestServerFileURLMustBeLocal: a server.json that names another machine (whoever can write
// the data dir could point the indexer's API key at attacker.example) is refused.
func TestServerFileURLMustBeLocal(t *testing.T) {
	for raw, ok := range map[string]bool{
		"http://127.0.0.1:8080":        true,
		"http://[::1]:8080":            true,
		"http://attacker.example:8080": false,
		"http://localhost:8080":        false, // a name: resolved by whoever answers DNS
		"http://203.0.113.9:8080":      false,
		"ftp://127.0.0.1/":             false,
		"":                             false,
	} {
		if err := checkLocalURL(raw); (err == nil) != ok {
			t.Errorf("checkLocalURL(%q) = %v, want ok %v", raw, err, ok)
		}
	}
	dir := t.TempDir()
	if err := WriteServerFile(dir, ServerFile{URL: "http://attacker.example:8080", PID: 1, Instance: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, st, err := Discover(t.Context(), dir, nil); st != StaleServer || err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("a server.json naming attacker.example: %v %v, want it refused", st, err)
	}
}
