package hub

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// This file parses the small things a server says in headers and error bodies. Everything here
// reads untrusted input; FuzzParseHeaders covers it.

// parseErrorBody reads an error body's code and message: ModelScope's {"Code":..,"Message":..},
// or the {"error": ".."} Hugging Face sends next to its headers. Anything else gives "", "".
func parseErrorBody(body []byte) (code, message string) {
	var v struct {
		Code    json.RawMessage `json:"Code"`
		Message string          `json:"Message"`
		Error   string          `json:"error"`
	}
	if json.Unmarshal(body, &v) != nil {
		return "", ""
	}
	if len(v.Code) > 0 && len(v.Code) < 40 {
		code = strings.Trim(string(v.Code), `"`)
	}
	message = v.Message
	if message == "" {
		message = v.Error
	}
	return code, message
}

// contentRange is a parsed "Content-Range: bytes first-last/total" header; total is -1 for "*".
type contentRange struct {
	first, last, total int64
}

// parseContentRange reads a 206 response's Content-Range. It refuses anything but one
// well-formed byte range.
func parseContentRange(s string) (contentRange, error) {
	bad := func() (contentRange, error) {
		return contentRange{}, fmt.Errorf("Content-Range %q: %w", s, ErrBadResponse)
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !ok {
		return bad()
	}
	span, total, ok := strings.Cut(rest, "/")
	if !ok {
		return bad()
	}
	a, b, ok := strings.Cut(span, "-")
	if !ok {
		return bad()
	}
	cr := contentRange{total: -1}
	var err error
	if cr.first, err = strconv.ParseInt(a, 10, 64); err != nil || cr.first < 0 {
		return bad()
	}
	if cr.last, err = strconv.ParseInt(b, 10, 64); err != nil || cr.last < cr.first {
		return bad()
	}
	if total != "*" {
		if cr.total, err = strconv.ParseInt(total, 10, 64); err != nil || cr.total <= cr.last {
			return bad()
		}
	}
	return cr, nil
}

// parseRetryAfter reads a Retry-After header (seconds or an HTTP date); 0 when absent or bad.
func parseRetryAfter(s string) time.Duration {
	if s == "" {
		return 0
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
		if n <= 0 || n > 24*3600 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(s); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// parseNextLink returns the rel="next" URL of a Link header (the tree API's pagination), or "".
func parseNextLink(h string) string {
	for _, part := range strings.Split(h, ",") {
		target, params, ok := strings.Cut(part, ";")
		if !ok {
			continue
		}
		target = strings.TrimSpace(target)
		if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "rel") && strings.Trim(v, `"`) == "next" {
				return target[1 : len(target)-1]
			}
		}
	}
	return ""
}
