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

// TestTrustProxy performs the rate-limit dodge: a client on the LAN sending a new
// X-Forwarded-For with every request is limited by its own address unless it is a configured
// proxy; loopback proxies are believed.
func TestTrustProxy(t *testing.T) {
	for _, c := range []struct {
		name    string
		peer    string
		proxies []string
		limited bool // the second request, with another X-Forwarded-For, is refused
	}{
		{"LAN client, not a proxy", "192.168.1.5:4000", nil, true},
		{"configured proxy", "192.168.1.5:4000", []string{"192.168.1.0/24"}, false},
		{"single-address proxy", "192.168.1.5:4000", []string{"192.168.1.5"}, false},
		{"loopback proxy", "127.0.0.1:4000", nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, 1, Options{TrustProxy: true, TrustedProxies: c.proxies, Rate: 0.001, Burst: 1})
			codes := []int{}
			for _, xff := range []string{"203.0.113.1", "203.0.113.2"} {
				hr := newRequest(req{target: "/api/v1/search?q=a+red+circle&k=2", header: map[string]string{"X-Forwarded-For": xff}})
				hr.RemoteAddr = c.peer
				codes = append(codes, serve(f, hr).Code)
			}
			if codes[0] != http.StatusOK || (codes[1] == http.StatusTooManyRequests) != c.limited {
				t.Fatalf("codes %v, limited %v", codes, c.limited)
			}
		})
	}
	for _, bad := range []string{"not-an-address", "10.0.0.0/33", ""} {
		if _, err := parseCIDR(bad); err == nil {
			t.Errorf("parseCIDR(%q) accepted it", bad)
		}
	}
}
