package web

import (
	"net/http"
	"strconv"
	"testing"
)

// TestHostAllowList performs the DNS-rebinding attack: a request naming attacker.example in
// its Host header gets 421 on the API, the images and the UI, while IP addresses, localhost and
// the names of Options.AllowedHosts are served.
func TestHostAllowList(t *testing.T) {
	f := newFixture(t, 1, Options{NoRateLimit: true, AllowedHosts: []string{"photos.example"}})
	img := "/api/v1/thumbs/" + strconv.FormatUint(f.ids[0], 10)
	for _, c := range []struct {
		host, target string
		want         int
	}{
		{"attacker.example", "/api/v1/search?q=a+red+circle&k=2", http.StatusMisdirectedRequest},
		{"attacker.example:8080", img, http.StatusMisdirectedRequest},
		{"attacker.example", "/api/v1/folders", http.StatusMisdirectedRequest},
		{"localhost.attacker.example", "/healthz", http.StatusMisdirectedRequest},
		{"", "/healthz", http.StatusMisdirectedRequest},
		{"localhost:8080", "/api/v1/search?q=a+red+circle&k=2", http.StatusOK},
		{"LOCALHOST", "/healthz", http.StatusOK},
		{"127.0.0.1:8080", img, http.StatusOK},
		{"[::1]:8080", "/healthz", http.StatusOK},
		{"192.168.1.20", "/healthz", http.StatusOK},
		{"photos.example", "/healthz", http.StatusOK},
		{"Photos.Example.:443", "/healthz", http.StatusOK},
	} {
		hr := newRequest(req{target: c.target})
		hr.Host = c.host
		if w := serve(f, hr); w.Code != c.want {
			t.Errorf("Host %q %s: %d %s, want %d", c.host, c.target, w.Code, clip(w.Body.String()), c.want)
		}
	}
}
