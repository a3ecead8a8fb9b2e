package hubtest

import (
	"net/http"
	"strconv"
	"strings"
)

// recorder notes the status and body bytes of a response for the request log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// serveHTTP logs the request and routes it: the CDN, ModelScope's /api/v1, Hugging Face's
// /api/models and /{repo}/resolve/.
func (m *Mirror) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	w := &recorder{ResponseWriter: rw}
	rec := &Request{Method: r.Method, Host: r.Host, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
		Range: r.Header.Get("Range"), Authorization: r.Header.Get("Authorization")}
	defer func() { // also when a fault aborts the handler
		rec.Status, rec.Bytes = w.status, w.bytes
		m.mu.Lock()
		m.log = append(m.log, *rec)
		m.mu.Unlock()
	}()
	segs := strings.Split(trimmed(r.URL.EscapedPath()), "/")
	if segs[0] == "cdn" {
		m.serveCDN(w, r, rec, segs[1:])
		return
	}
	if !m.authorized(w, r) {
		return
	}
	switch {
	case len(segs) >= 2 && segs[0] == "api" && segs[1] == "v1":
		m.serveModelScope(w, r, rec, segs[2:])
	case len(segs) >= 2 && segs[0] == "api" && segs[1] == "models":
		m.serveModelAPI(w, r, segs[2:])
	default:
		m.serveResolve(w, r, rec, segs)
	}
}

// authorized checks the bearer token when Options.Token asks for one.
func (m *Mirror) authorized(w http.ResponseWriter, r *http.Request) bool {
	if m.opts.Token == "" {
		return true
	}
	got := r.Header.Get("Authorization")
	if got == "Bearer "+m.opts.Token {
		return true
	}
	if got == "" {
		hubError(w, http.StatusUnauthorized, "RepoNotFound", "Repository not found")
	} else {
		hubError(w, http.StatusUnauthorized, "", "Invalid credentials in Authorization header")
	}
	return false
}

// misbehave answers a request for a file's bytes with its NotFound or Unavailable fault, if it
// has one, and then returns false.
func (m *Mirror) misbehave(w http.ResponseWriter, r *http.Request, id, path string) bool {
	switch m.takeFault(id, path, NotFound, Unavailable).Kind {
	case NotFound:
		if strings.HasPrefix(r.URL.Path, "/api/v1/") {
			msError(w, http.StatusNotFound, "file "+path+" not exist")
		} else {
			hubError(w, http.StatusNotFound, "EntryNotFound", "Entry not found")
		}
		return false
	case Unavailable:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "service unavailable", http.StatusServiceUnavailable)
		return false
	}
	return true
}

// serveBytes sends data (or the part a Range asks for) with the faults set on the file.
func (m *Mirror) serveBytes(w http.ResponseWriter, r *http.Request, id, path string, data []byte) {
	size := int64(len(data))
	first, last, status := int64(0), size-1, http.StatusOK
	h := w.Header()
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Type", "application/octet-stream")
	if rng := r.Header.Get("Range"); rng != "" {
		switch m.takeFault(id, path, IgnoreRange, RefuseRange).Kind {
		case IgnoreRange:
		case RefuseRange:
			h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
			http.Error(w, "range not satisfiable", http.StatusRequestedRangeNotSatisfiable)
			return
		default:
			a, b, ok := parseRange(rng, size)
			if ok && a >= size {
				h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
				http.Error(w, "range not satisfiable", http.StatusRequestedRangeNotSatisfiable)
				return
			}
			if ok {
				first, last, status = a, b, http.StatusPartialContent
				h.Set("Content-Range", "bytes "+strconv.FormatInt(a, 10)+"-"+strconv.FormatInt(b, 10)+"/"+strconv.FormatInt(size, 10))
			}
		}
	}
	h.Set("Content-Length", strconv.FormatInt(last-first+1, 10))
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	body := data[first : last+1]
	switch f := m.takeFault(id, path, Cut, Corrupt, Hang); f.Kind {
	case Corrupt:
		body = append([]byte(nil), body...)
		at := f.After - first
		if at < 0 || at >= int64(len(body)) {
			at = 0
		}
		if len(body) > 0 {
			body[at] ^= 0xff
		}
	case Cut:
		w.WriteHeader(status)
		w.Write(body[:min(f.After, int64(len(body)))])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drops the connection mid-body
	case Hang:
		w.WriteHeader(status)
		w.Write(body[:min(f.After, int64(len(body)))])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-m.stop:
		}
		panic(http.ErrAbortHandler)
	}
	w.WriteHeader(status)
	w.Write(body)
}

// parseRange reads a single "bytes=a-b", "bytes=a-" or "bytes=-n" range; ok is false for
// anything else (which, as RFC 9110 allows, is then ignored). A first byte at or past the end is
// returned as is, for a 416.
func parseRange(s string, size int64) (first, last int64, ok bool) {
	spec, found := strings.CutPrefix(s, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, false
	}
	if a == "" { // suffix range: the last n bytes
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false
		}
		return max(size-n, 0), size - 1, true
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil || first < 0 {
		return 0, 0, false
	}
	last = size - 1
	if b != "" {
		if last, err = strconv.ParseInt(b, 10, 64); err != nil || last < first {
			return 0, 0, false
		}
		last = min(last, size-1)
	}
	return first, last, true
}

// hubError answers like the Hugging Face hub: status, X-Error-Code / X-Error-Message headers and
// a JSON {"error": message} body.
func hubError(w http.ResponseWriter, status int, code, msg string) {
	if code != "" {
		w.Header().Set("X-Error-Code", code)
	}
	w.Header().Set("X-Error-Message", msg)
	writeJSON(w, status, map[string]string{"error": msg})
}
