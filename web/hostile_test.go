package web

import (
	"bytes"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glimpse-search/glimpse/internal/hostile"
)

// TestUploadDecodedBudget performs the attack: a 10,000 x 10,000 16-bit PNG of under a
// megabyte, which decodes to 800 MB, is refused with 413 from its header, under the default
// upload budget, and says why.
func TestUploadDecodedBudget(t *testing.T) {
	f := newFixture(t, 1, Options{NoRateLimit: true})
	bomb := hostile.PNG16(10000, 10000)
	if len(bomb) > 1<<20 {
		t.Fatalf("the PNG has %d bytes; the attack needs a small file", len(bomb))
	}
	body, ct := form(t, map[string][]byte{"image": bomb}, nil)
	w := f.do(t, req{method: "POST", target: "/api/v1/search/image", body: body, ctype: ct})
	e := decode[apiErr](t, w)
	if w.Code != http.StatusRequestEntityTooLarge || !contains(e.Error.Message, "decodes to", "MiB") {
		t.Fatalf("%d %+v, want 413 naming the decoded size", w.Code, e)
	}
	small := hostile.PNG16(200, 100) // 160 KB decoded: within the budget
	body, ct = form(t, map[string][]byte{"image": small}, nil)
	if w := f.do(t, req{method: "POST", target: "/api/v1/search/image", body: body, ctype: ct}); w.Code != http.StatusOK {
		t.Fatalf("a small 16-bit PNG: %d %s", w.Code, clip(w.Body.String()))
	}
}

// TestSlowUploadHoldsNoSlot performs the attack: with one search slot, a client that sends its
// upload a byte at a time (here: headers, part of the body, then nothing) does not make other
// clients' searches wait, and gets 408 once the request's time limit passes.
func TestSlowUploadHoldsNoSlot(t *testing.T) {
	f := newFixture(t, 2, Options{NoRateLimit: true, MaxConcurrent: 1, RequestTimeout: 3 * time.Second})
	addr := strings.TrimPrefix(serveReal(t, f), "http://")

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("image", "slow.png")
	fw.Write(hostile.PNG16(64, 64))
	mw.Close()
	full := buf.Bytes()
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	head := "POST /api/v1/search/image HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: " + mw.FormDataContentType() +
		"\r\nContent-Length: " + strconv.Itoa(len(full)) + "\r\n\r\n"
	if _, err := io.WriteString(slow, head); err != nil {
		t.Fatal(err)
	}
	if _, err := slow.Write(full[:len(full)/2]); err != nil { // then it stalls
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the server is now reading the stalled body

	resp, err := http.Get("http://" + addr + "/api/v1/search?q=a+red+circle&k=2")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a search while an upload stalls: %d %s, want 200 (the upload must not hold the slot)", resp.StatusCode, clip(string(b)))
	}
	slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	answer, _ := io.ReadAll(slow)
	if !strings.HasPrefix(string(answer), "HTTP/1.1 408") {
		t.Fatalf("the stalled upload got %q, want 408 after the time limit", clip(string(answer)))
	}
}

// TestUploadJPEGScanBomb performs the attack: a progressive JPEG of 400 near-empty scans (a few
// KB, minutes of CPU for a decoder) is refused with 422 before any decoder runs.
func TestUploadJPEGScanBomb(t *testing.T) {
	f := newFixture(t, 1, Options{NoRateLimit: true})
	body, ct := form(t, map[string][]byte{"image": hostile.ProgressiveJPEG(2048, 2048, 400)}, nil)
	w := f.do(t, req{method: "POST", target: "/api/v1/search/image", body: body, ctype: ct})
	e := decode[apiErr](t, w)
	if w.Code != http.StatusUnprocessableEntity || !contains(e.Error.Message, "scans") {
		t.Fatalf("%d %+v, want 422 naming the scan limit", w.Code, e)
	}
}

// TestBombRefusedWithoutASlot: with every search slot busy, a crafted upload is still refused
// at once (its header checks run before it would wait for a slot), not answered 503 after the
// request's time limit.
func TestBombRefusedWithoutASlot(t *testing.T) {
	f := newFixture(t, 1, Options{NoRateLimit: true, MaxConcurrent: 1, RequestTimeout: 2 * time.Second})
	f.srv.slots <- struct{}{} // the only slot is taken
	defer func() { <-f.srv.slots }()
	for name, data := range map[string][]byte{
		"jpeg scan bomb": hostile.ProgressiveJPEG(2048, 2048, 400),
		"16-bit png":     hostile.PNG16(10000, 10000),
	} {
		body, ct := form(t, map[string][]byte{"image": data}, nil)
		w := f.do(t, req{method: "POST", target: "/api/v1/search/image", body: body, ctype: ct})
		if w.Code != http.StatusUnprocessableEntity && w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s with no free slot: %d %s, want 422 or 413 at once", name, w.Code, clip(w.Body.String()))
		}
	}
}
