package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/glimpse-search/glimpse/internal/hostile"
)

// hostileReport is what the hostile clients of `server load --hostile N` met.
type hostileReport struct {
	Clients int            `json:"clients"`
	Sent    int            `json:"sent"`
	Codes   map[string]int `json:"codes"`          // by kind and status, e.g. "jpeg-scan-bomb 422"
	MaxMS   float64        `json:"max_refusal_ms"` // longest answer to a bomb
	Slow    string         `json:"slow_upload"`    // what the stalled upload got: a status line, or "waiting" at the end
}

// bomb is a crafted upload.
type bomb struct {
	kind string
	data []byte
}

// makeBombs builds the crafted uploads (a second or two: the PNG's zlib stream covers 800 MB).
func makeBombs() []bomb {
	return []bomb{
		{"jpeg-scan-bomb", hostile.ProgressiveJPEG(4096, 4096, 400)},
		{"png16-bomb", hostile.PNG16(10000, 10000)},
	}
}

// hostileLoad sends crafted uploads from n clients in a loop until ctx ends: a progressive JPEG
// of 400 near-empty scans, a 10,000 x 10,000 16-bit PNG (under 1 MB on disk), and one upload
// that stalls halfway (a slow client). It returns when ctx is done.
func hostileLoad(ctx context.Context, base string, n int, bombs []bomb) hostileReport {
	rep := hostileReport{Clients: n, Codes: map[string]int{}}
	if n == 0 {
		return rep
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: time.Minute}
	for c := range n {
		wg.Go(func() {
			if c == 0 { // one client also keeps a slow upload open
				got := slowUpload(ctx, base)
				mu.Lock()
				rep.Slow = got
				mu.Unlock()
			}
		})
		wg.Go(func() {
			for i := c; ctx.Err() == nil; i++ {
				b := bombs[i%len(bombs)]
				var body bytes.Buffer
				mw := multipart.NewWriter(&body)
				fw, _ := mw.CreateFormFile("image", b.kind)
				fw.Write(b.data)
				mw.Close()
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/search/image", &body)
				if err != nil {
					return
				}
				req.Header.Set("Content-Type", mw.FormDataContentType())
				t0 := time.Now()
				resp, err := hc.Do(req)
				code := "error"
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = strconv.Itoa(resp.StatusCode)
				} else if ctx.Err() != nil {
					return
				}
				ms := float64(time.Since(t0).Microseconds()) / 1e3
				mu.Lock()
				rep.Sent++
				rep.Codes[b.kind+" "+code]++
				rep.MaxMS = max(rep.MaxMS, ms)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	rep.MaxMS = round(rep.MaxMS, 1)
	return rep
}

// slowUpload sends the headers and half the body of an upload and then nothing until ctx ends.
// The server reads it without holding a search slot and answers 408 once the request's time
// limit passes; it returns the status line it got, or "waiting" if ctx ended first.
func slowUpload(ctx context.Context, base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return err.Error()
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		return err.Error()
	}
	defer conn.Close()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("image", "slow.png")
	fw.Write(hostile.PNG16(64, 64))
	mw.Close()
	head := "POST /api/v1/search/image HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Type: " + mw.FormDataContentType() +
		"\r\nContent-Length: " + strconv.Itoa(body.Len()) + "\r\n\r\n"
	if _, err := io.WriteString(conn, head); err != nil {
		return err.Error()
	}
	if _, err := conn.Write(body.Bytes()[:body.Len()/2]); err != nil {
		return err.Error()
	}
	done := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(conn)
		line, _, _ := strings.Cut(string(b), "\r\n")
		done <- line
	}()
	select {
	case <-ctx.Done():
		return "waiting"
	case line := <-done:
		return line
	}
}

// peakRSSMB is this process's peak resident set (VmHWM), in MiB; 0 where unknown.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(v), "%g", &kb)
			return round(kb/1024, 1)
		}
	}
	return 0
}
