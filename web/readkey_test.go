package web

import (
	"net/http"
	"testing"
)

// TestReadKey: with read keys, every read needs a key (bearer or Basic password; a write key
// also reads), health checks stay open, a 401 asks the browser for Basic credentials, and a
// read key does not write.
func TestReadKey(t *testing.T) {
	read, _ := NewKeys("read-key-0123456789abcdef")
	f := newFixture(t, 1, Options{NoRateLimit: true, ReadKeys: read})
	search := "/api/v1/search?q=a+red+circle&k=2"
	for _, c := range []struct {
		name, target string
		key, basic   string
		want         int
	}{
		{"no key", search, "", "", http.StatusUnauthorized},
		{"folders without a key", "/api/v1/folders", "", "", http.StatusUnauthorized},
		{"wrong key", search, "wrong-key-0123456789abcdef", "", http.StatusUnauthorized},
		{"read key", search, "read-key-0123456789abcdef", "", http.StatusOK},
		{"write key reads", search, testKey, "", http.StatusOK},
		{"basic password", search, "", "read-key-0123456789abcdef", http.StatusOK},
		{"basic wrong password", search, "", "nope", http.StatusUnauthorized},
		{"healthz open", "/healthz", "", "", http.StatusOK},
	} {
		hr := newRequest(req{target: c.target, key: c.key})
		if c.basic != "" {
			hr.SetBasicAuth("anyone", c.basic)
		}
		w := serve(f, hr)
		if w.Code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, w.Code, clip(w.Body.String()), c.want)
		}
		if w.Code == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", c.name)
		}
	}
	body := jsonBody(t, map[string]any{"texts": []map[string]string{{"text": "a red circle"}}})
	w := f.do(t, req{method: "POST", target: "/api/v1/texts", body: body, ctype: "application/json", key: "read-key-0123456789abcdef"})
	if w.Code != http.StatusUnauthorized {
		t.Errorf("a write with the read key: %d, want 401", w.Code)
	}
}
