package web

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestParseKeys(t *testing.T) {
	cases := []struct {
		name, file string
		n          int
		err        string // part of the error; "" for none
	}{
		{"one", "key-0123456789abcdef\n", 1, ""},
		{"comments and blanks", "# admin\n\n  key-0123456789abcdef  \n# ci\nother-0123456789abcd\n", 2, ""},
		{"bom", "\ufeffkey-0123456789abcdef\n", 1, ""},
		{"crlf", "key-0123456789abcdef\r\nother-0123456789abcd\r\n", 2, ""},
		{"empty", "\n# nothing\n", 0, "no keys"},
		{"short", "short\n", 0, "line 1"},
		{"space inside", "key 0123456789abcdef\n", 0, "without spaces"},
		{"non-ascii", "clé-0123456789abcdef\n", 0, "printable ASCII"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParseKeys(strings.NewReader(c.file))
			if c.err != "" {
				if !errors.Is(err, ErrBadKeys) || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want ErrBadKeys with %q", err, c.err)
				}
				if strings.Contains(err.Error(), "0123456789") {
					t.Fatalf("the error shows the key: %v", err)
				}
				return
			}
			if err != nil || k.Len() != c.n {
				t.Fatalf("%d keys, %v; want %d", k.Len(), err, c.n)
			}
		})
	}
	k, _ := ParseKeys(strings.NewReader("key-0123456789abcdef\nother-0123456789abcd\n"))
	for key, want := range map[string]bool{"key-0123456789abcdef": true, "other-0123456789abcd": true,
		"key-0123456789abcdeF": false, "": false, "key-0123456789abcdef ": false} {
		if k.Match(key) != want {
			t.Errorf("Match(%q) = %v", key, !want)
		}
	}
	var none *Keys
	if none.Match("key-0123456789abcdef") || none.Len() != 0 {
		t.Error("nil keys match")
	}
}

// TestAuth checks the protected endpoints with no key, a wrong key, the right key, and on a
// server without keys.
func TestAuth(t *testing.T) {
	f := newFixture(t, 1, Options{})
	body := func() req {
		return req{method: "POST", target: "/api/v1/texts", ctype: "text/plain", body: strings.NewReader("a red circle\n")}
	}
	with := func(key string) req { r := body(); r.key = key; return r }
	cases := []struct {
		name string
		r    req
		want int
	}{
		{"no key", body(), 401},
		{"wrong key", with("not-the-key-0123456789"), 401},
		{"lower-case scheme", req{method: "POST", target: "/api/v1/texts", ctype: "text/plain",
			body: strings.NewReader("x\n"), header: map[string]string{"Authorization": "bearer " + testKey}}, 200},
		{"right key", with(testKey), 200},
		{"job without key", req{target: "/api/v1/jobs/x"}, 401},
		{"delete without key", req{method: "DELETE", target: "/api/v1/images/1"}, 401},
		{"index without key", req{method: "POST", target: "/api/v1/index", ctype: "application/json"}, 401},
		{"search needs none", req{target: "/api/v1/search?q=a+circle"}, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if w := f.do(t, c.r); w.Code != c.want {
				t.Fatalf("status %d, want %d: %s", w.Code, c.want, w.Body.String())
			}
		})
	}
	if w := f.do(t, req{target: "/metrics"}); !contains(w.Body.String(), "glimpse_auth_failures_total 1") {
		t.Error("wrong key not counted")
	}

	open := newFixture(t, 0, Options{Keys: &Keys{}})
	w := open.do(t, with(testKey))
	if e := decode[apiErr](t, w); w.Code != 403 || !strings.Contains(e.Error.Message, "--api-key-file") {
		t.Fatalf("no keys: %d %+v", w.Code, e)
	}
}

// TestKeysCompareWholeDigest: a key whose sha256 shares leading bytes with a valid key's (found
// by search, as an attacker would) is still refused: the whole digest is compared.
func TestKeysCompareWholeDigest(t *testing.T) {
	const valid = "valid-key-0123456789abcdef"
	k, err := NewKeys(valid)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256([]byte(valid))
	for prefix := 1; prefix <= 2; prefix++ {
		found := ""
		for i := 0; found == "" && i < 1<<24; i++ {
			c := "guess-" + strconv.Itoa(i) + "-0123456789"
			if d := sha256.Sum256([]byte(c)); bytes.Equal(d[:prefix], want[:prefix]) {
				found = c
			}
		}
		if found == "" {
			t.Fatalf("no key sharing %d digest bytes found", prefix)
		}
		if k.Match(found) {
			t.Errorf("%q, sharing the first %d digest bytes with the valid key, matched", found, prefix)
		}
	}
	if !k.Match(valid) {
		t.Error("the valid key did not match")
	}
}
