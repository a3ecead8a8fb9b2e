package web

import (
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// answer is a status and a JSON body, as the golden files keep them.
type answer struct {
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

// golden compares v, as indented JSON, with a golden file (-update rewrites it).
func golden(t *testing.T, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the answers (go test -run %s -update rewrites it):\n%s", path, t.Name(), got)
	}
}

// TestBadInput sends each kind of bad request and checks the status, the error code and that
// the message says what is wrong; testdata/badinput/answers.json keeps every answer.
func TestBadInput(t *testing.T) {
	f := newFixture(t, 4, Options{NoRateLimit: true})
	png0, err := os.ReadFile(f.paths[0])
	if err != nil {
		t.Fatal(err)
	}
	id0 := strconv.FormatUint(f.ids[0], 10)
	huge := strings.Repeat("a small red circle left of a large blue square ", 100<<10/48+1) // > 100 KB
	cases := []struct {
		name string
		req  func() req
		want int
		code string
		msg  string // a part of the message
	}{
		{"missing q", func() req { return req{target: "/api/v1/search"} }, 400, CodeBadRequest, "q is required"},
		{"empty q", func() req { return req{target: "/api/v1/search?q=%20%20"} }, 400, CodeBadRequest, "q is required"},
		{"over-long q", func() req { return req{target: "/api/v1/search?q=" + strings.Repeat("x", DefaultMaxQueryBytes+1)} },
			400, CodeBadRequest, "over the 262144-byte limit"},
		{"limit -1", func() req { return req{target: "/api/v1/search?q=a&limit=-1"} }, 400, CodeBadRequest, "limit \"-1\": want an integer from 1 to 1000"},
		{"limit 1e9", func() req { return req{target: "/api/v1/search?q=a&limit=1000000000"} }, 400, CodeBadRequest, "limit"},
		{"limit not a number", func() req { return req{target: "/api/v1/search?q=a&limit=ten"} }, 400, CodeBadRequest, "limit"},
		{"offset negative", func() req { return req{target: "/api/v1/search?q=a&offset=-5"} }, 400, CodeBadRequest, "offset"},
		{"k 0", func() req { return req{target: "/api/v1/search?q=a&k=0"} }, 400, CodeBadRequest, "k \"0\""},
		{"min_score 2", func() req { return req{target: "/api/v1/search?q=a&min_score=2"} }, 400, CodeBadRequest, "min_score"},
		{"min_score NaN", func() req { return req{target: "/api/v1/search?q=a&min_score=NaN"} }, 400, CodeBadRequest, "min_score"},
		{"bad date", func() req { return req{target: "/api/v1/search?q=a&from=yesterday"} }, 400, CodeBadRequest, "want a date"},
		{"empty date range", func() req { return req{target: "/api/v1/search?q=a&from=2024-02-01&to=2024-01-01"} }, 400, CodeBadRequest, "from 2024-02-01 is after to 2024-01-01"},
		{"server path as folder", func() req { return req{target: "/api/v1/search?q=a&folder=/photos/a"} }, 400, CodeBadRequest, "not a server path"},
		{"folder of no root", func() req { return req{target: "/api/v1/search?q=a&folder=etc/a"} }, 400, CodeBadRequest, `starts with "etc"`},
		{"folder traversal", func() req { return req{target: "/api/v1/search?q=a&folder=photos/../../etc"} }, 400, CodeBadRequest, "clean path"},
		{"folder dot", func() req { return req{target: "/api/v1/search?q=a&folder=./"} }, 400, CodeBadRequest, "clean path"},
		{"bad target", func() req { return req{method: "POST", target: "/api/v1/search/image?target=pdfs"} }, 400, CodeBadRequest, "target"},
		{"wrong content type", func() req {
			return req{method: "POST", target: "/api/v1/search/image", ctype: "text/plain", body: strings.NewReader("hello")}
		}, 415, CodeUnsupportedType, "multipart/form-data"},
		{"no content type", func() req { return req{method: "POST", target: "/api/v1/score", body: strings.NewReader("x")} },
			415, CodeUnsupportedType, "text"},
		{"50 MB upload", func() req {
			body, ct := form(t, map[string][]byte{"image": make([]byte, 50<<20)}, nil)
			return req{method: "POST", target: "/api/v1/search/image", body: body, ctype: ct}
		}, 413, CodeTooLarge, "limit"},
		{"50 MB upload, unknown length", func() req {
			body, ct := form(t, map[string][]byte{"image": make([]byte, 50<<20)}, nil)
			return req{method: "POST", target: "/api/v1/search/image", body: io.MultiReader(body), ctype: ct}
		}, 413, CodeTooLarge, "limit"},
		{"non-image upload", func() req {
			body, ct := form(t, map[string][]byte{"image": []byte("%PDF-1.4 this is not an image")}, nil)
			return req{method: "POST", target: "/api/v1/search/image", body: body, ctype: ct}
		}, 422, CodeUnprocessable, "not a supported image"},
		{"truncated image", func() req {
			body, ct := form(t, map[string][]byte{"image": png0[:len(png0)/2]}, nil)
			return req{method: "POST", target: "/api/v1/search/image", body: body, ctype: ct}
		}, 422, CodeUnprocessable, "damaged"},
		{"no image field", func() req {
			body, ct := form(t, nil, map[string]string{"text": "a circle"})
			return req{method: "POST", target: "/api/v1/score", body: body, ctype: ct}
		}, 400, CodeBadRequest, `no "image" field`},
		{"score without text", func() req {
			body, ct := form(t, map[string][]byte{"image": png0}, nil)
			return req{method: "POST", target: "/api/v1/score", body: body, ctype: ct}
		}, 400, CodeBadRequest, `no "text" field`},
		{"bad JSON", func() req {
			return req{method: "POST", target: "/api/v1/search/image", ctype: "application/json", body: strings.NewReader(`{"id":`)}
		}, 400, CodeBadRequest, "JSON"},
		{"JSON without id", func() req {
			return req{method: "POST", target: "/api/v1/search/image", ctype: "application/json", body: strings.NewReader(`{}`)}
		}, 400, CodeBadRequest, `needs "id"`},
		{"JSON body too large", func() req {
			return req{method: "POST", target: "/api/v1/search/image", ctype: "application/json",
				body: strings.NewReader(`{"id":1,"x":"` + strings.Repeat("a", 2<<20) + `"}`)}
		}, 413, CodeTooLarge, "limit"},
		{"unknown image id", func() req {
			return req{method: "POST", target: "/api/v1/search/image", ctype: "application/json", body: strings.NewReader(`{"id":999999}`)}
		}, 404, CodeNotFound, "no image with id 999999"},
		{"traversal id", func() req { return req{target: "/api/v1/images/" + url.PathEscape("../../etc/passwd")} }, 400, CodeInvalidID, "positive integer"},
		{"traversal id raw", func() req { return req{target: "/api/v1/images/../../etc/passwd"} }, 404, CodeNotFound, "no such"},
		{"dot-dot id", func() req { return req{target: "/api/v1/thumbs/%2e%2e"} }, 400, CodeInvalidID, "positive integer"},
		{"encoded slashes id", func() req { return req{target: "/api/v1/images/%2e%2e%2f%2e%2e%2fetc%2fpasswd/meta"} }, 400, CodeInvalidID, "positive integer"},
		{"negative id", func() req { return req{target: "/api/v1/images/-1"} }, 400, CodeInvalidID, "positive integer"},
		{"unknown id", func() req { return req{target: "/api/v1/images/424242"} }, 404, CodeNotFound, "no image with id 424242"},
		{"explain without id", func() req { return req{target: "/api/v1/explain?q=a"} }, 400, CodeBadRequest, "id is required"},
		{"explain bad id", func() req { return req{target: "/api/v1/explain?q=a&id=../x"} }, 400, CodeInvalidID, "positive integer"},
		{"unknown endpoint", func() req { return req{target: "/api/v1/nothing"} }, 404, CodeNotFound, "openapi.json"},
		{"wrong method", func() req { return req{method: "PUT", target: "/api/v1/folders"} }, 405, CodeMethodNotAllowed, "does not take PUT; it takes GET"},
		{"missing API key", func() req {
			return req{method: "POST", target: "/api/v1/texts", ctype: "text/plain", body: strings.NewReader("a")}
		}, 401, CodeUnauthorized, "Authorization: Bearer"},
		{"wrong API key", func() req {
			return req{method: "POST", target: "/api/v1/texts", ctype: "text/plain", body: strings.NewReader("a"), key: "wrong-key-0123456789"}
		}, 401, CodeUnauthorized, "not valid"},
		{"not a bearer", func() req {
			return req{method: "DELETE", target: "/api/v1/images/" + id0, header: map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}}
		}, 401, CodeUnauthorized, "Bearer KEY"},
		{"index relative path", func() req {
			return req{method: "POST", target: "/api/v1/index", key: testKey, ctype: "application/json", body: jsonBody(t, map[string]any{"paths": []string{"photos"}})}
		}, 400, CodeBadRequest, "absolute"},
		{"index no paths", func() req {
			return req{method: "POST", target: "/api/v1/index", key: testKey, ctype: "application/json", body: strings.NewReader(`{}`)}
		}, 400, CodeBadRequest, `"paths" is required`},
		{"index missing folder", func() req {
			return req{method: "POST", target: "/api/v1/index", key: testKey, ctype: "application/json", body: jsonBody(t, map[string]any{"paths": []string{"/no/such/folder"}})}
		}, 400, CodeBadRequest, "cannot be read"},
		{"index wrong type", func() req {
			return req{method: "POST", target: "/api/v1/index", key: testKey, ctype: "text/plain", body: strings.NewReader(`/photos`)}
		}, 415, CodeUnsupportedType, "application/json"},
		{"texts empty", func() req {
			return req{method: "POST", target: "/api/v1/texts", key: testKey, ctype: "application/json", body: strings.NewReader(`{"texts":[]}`)}
		}, 400, CodeBadRequest, "no texts"},
		{"unknown job", func() req { return req{target: "/api/v1/jobs/nope", key: testKey} }, 404, CodeNotFound, "no job"},
	}
	answers := map[string]answer{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := f.do(t, c.req())
			answers[c.name] = answer{Status: w.Code, Body: json.RawMessage(w.Body.Bytes())}
			if w.Code != c.want {
				t.Fatalf("status %d, want %d: %s", w.Code, c.want, clip(w.Body.String()))
			}
			e := decode[apiErr](t, w)
			if e.Error.Code != c.code || !strings.Contains(e.Error.Message, c.msg) {
				t.Fatalf("error %+v, want code %s and a message with %q", e.Error, c.code, c.msg)
			}
			if c.want == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}

	golden(t, "testdata/badinput/answers.json", answers)

	t.Run("huge q works", func(t *testing.T) { // cut by the tokenizer
		w := f.do(t, req{target: "/api/v1/search?min_score=0&q=" + url.QueryEscape(huge)})
		if w.Code != 200 || len(decode[ImageResult](t, w).Hits) == 0 {
			t.Fatalf("%d %s", w.Code, clip(w.Body.String()))
		}
	})
}

// TestRateLimit checks the 429 of a client past its burst, with Retry-After, and that another
// client and an exempt loopback client are not throttled.
func TestRateLimit(t *testing.T) {
	f := newFixture(t, 2, Options{Rate: 0.5, Burst: 2, RateExemptLoopback: true})
	search := func(remote string) int {
		r := req{target: "/api/v1/search?q=a+red+circle&k=2"}
		hr := newRequest(r)
		hr.RemoteAddr = remote
		w := serve(f, hr)
		if w.Code == 429 && w.Header().Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		return w.Code
	}
	got := []int{search("192.0.2.1:1"), search("192.0.2.1:2"), search("192.0.2.1:3"), search("192.0.2.2:1")}
	if want := []int{200, 200, 429, 200}; !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	for range 4 {
		if c := search("127.0.0.1:9"); c != 200 {
			t.Fatalf("loopback throttled: %d", c)
		}
	}
	w := f.do(t, req{target: "/metrics"})
	if !contains(w.Body.String(), `glimpse_rate_limited_total{route="/api/v1/search"} 1`) {
		t.Error("rate limited requests not counted")
	}
}

// TestLimiter checks the token bucket with a fake clock, and the forgetting of idle clients.
func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(1, 2, false, func() time.Time { return now })
	ok1, _ := l.allow("a", 1)
	ok2, _ := l.allow("a", 1)
	ok3, wait := l.allow("a", 1)
	if !ok1 || !ok2 || ok3 || wait <= 0 || wait > time.Second {
		t.Fatalf("burst: %v %v %v wait %v", ok1, ok2, ok3, wait)
	}
	now = now.Add(time.Second)
	if ok, _ := l.allow("a", 1); !ok {
		t.Fatal("no token after a second")
	}
	now = now.Add(limiterIdle + limiterSweep)
	l.allow("b", 1)
	if _, ok := l.clients["a"]; ok {
		t.Fatal("idle client kept")
	}
	// a deep search costs its share of the burst: k = 256 takes both tokens at once
	if ok, _ := l.allow("c", 2); !ok {
		t.Fatal("a cost of 2 refused with a full burst of 2")
	}
	if ok, _ := l.allow("c", 1); ok {
		t.Fatal("the cost of 2 took only one token")
	}
	if ok, _ := l.allow("d", 50); !ok {
		t.Fatal("a cost over the burst is capped at the burst, not refused forever")
	}
}

// TestRequestCost: k counts in the rate limit.
func TestRequestCost(t *testing.T) {
	e := echo.New()
	for k, want := range map[string]int{"": 1, "16": 1, "128": 1, "129": 2, "1024": 8, "x": 1} {
		c := e.NewContext(httptest.NewRequest(http.MethodGet, "/api/v1/search?q=a&k="+k, nil), httptest.NewRecorder())
		if got := requestCost(c); got != want {
			t.Errorf("k=%q: cost %d, want %d", k, got, want)
		}
	}
}
