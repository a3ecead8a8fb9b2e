package web

import (
	"math"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/glimpse-search/glimpse/searcher"
)

// searchParams are the query parameters the search endpoints share.
type searchParams struct {
	searcher.Params
	Filter searcher.Filter
}

// parseParams reads limit, offset, k and min_score, and with filters from, to and folder. It
// checks ranges itself so that every mistake gets a message naming the parameter.
func parseParams(q url.Values, filters bool) (searchParams, error) {
	var p searchParams
	var err error
	if p.Limit, err = intParam(q, "limit", 1, searcher.MaxLimit); err != nil {
		return p, err
	}
	if p.Offset, err = intParam(q, "offset", 0, searcher.MaxDepth); err != nil {
		return p, err
	}
	if p.K, err = intParam(q, "k", 1, searcher.MaxK); err != nil {
		return p, err
	}
	if v, ok := single(q, "min_score"); ok {
		f, perr := strconv.ParseFloat(v, 64)
		if perr != nil || math.IsNaN(f) || f < 0 || f > 1 {
			return p, badRequest("min_score %q: want a number from 0 to 1 (the minimum ITM match probability)", clip(v))
		}
		p.MinScore = &f
	}
	if !filters {
		return p, nil
	}
	if p.Filter.From, err = dateParam(q, "from", false); err != nil {
		return p, err
	}
	if p.Filter.To, err = dateParam(q, "to", true); err != nil {
		return p, err
	}
	if !p.Filter.From.IsZero() && !p.Filter.To.IsZero() && !p.Filter.From.Before(p.Filter.To) {
		return p, badRequest("from %s is after to %s: no date is in the range", clip(q.Get("from")), clip(q.Get("to")))
	}
	if v, ok := single(q, "folder"); ok {
		if p.Filter.Folder, err = folderParam(v); err != nil {
			return p, err
		}
	}
	return p, nil
}

// parseParams is the package's parseParams with the folder filter mapped to the stored paths
// it names.
func (s *Server) parseParams(q url.Values, filters bool) (searchParams, error) {
	p, err := parseParams(q, filters)
	if err != nil || p.Filter.Folder == "" {
		return p, err
	}
	rel := p.Filter.Folder
	abs, ok, err := s.absFolder(rel)
	if err != nil {
		return p, err
	}
	if !ok {
		return p, badRequest("folder %q: no folder of the library starts with %q (GET %s/folders lists them)",
			clip(rel), clip(strings.SplitN(rel, "/", 2)[0]), APIPrefix)
	}
	p.Filter.Folder = abs
	return p, nil
}

// single returns a parameter's value; absent or empty is not set.
func single(q url.Values, name string) (string, bool) {
	v := strings.TrimSpace(q.Get(name))
	return v, v != ""
}

// intParam parses an optional integer in lo..hi; 0 (unset) takes the server's default.
func intParam(q url.Values, name string, lo, hi int) (int, error) {
	v, ok := single(q, name)
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badRequest("%s %q: want an integer from %d to %d", name, clip(v), lo, hi)
	}
	if n == 0 && lo == 0 {
		return 0, nil
	}
	return n, nil
}

// dateParam accepts YYYY-MM-DD or RFC 3339; a bare date as "to" means the end of that day.
func dateParam(q url.Values, name string, endOfDay bool) (time.Time, error) {
	v, ok := single(q, name)
	if !ok {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return t, badRequest("%s %q: want a date YYYY-MM-DD or an RFC 3339 time", name, clip(v))
	}
	if endOfDay {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// folderParam checks a folder filter: a clean relative folder path whose first element names
// one of the library's roots ("photos/2024/"), as GET /folders lists them. It is mapped to
// stored paths in memory (Server.absFolder), never opened.
func folderParam(v string) (string, error) {
	if strings.ContainsRune(v, 0) || len(v) > 4096 {
		return "", badRequest("folder %q: want a folder as GET %s/folders lists it", clip(v), APIPrefix)
	}
	if strings.HasPrefix(v, "/") {
		return "", badRequest("folder %q: want a folder relative to the library, as GET %s/folders lists it "+
			"(e.g. photos/2024/), not a server path", clip(v), APIPrefix)
	}
	c := path.Clean(v)
	if (c != strings.TrimSuffix(v, "/") && c != v) || c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", badRequest("folder %q: want a clean path (no '.', '..' or '//')", clip(v))
	}
	return c + "/", nil
}

// parseID reads a positive decimal id (no sign, no leading zeros, no path characters).
func parseID(raw string) (uint64, error) {
	ok := len(raw) > 0 && len(raw) <= 20 && raw[0] != '0'
	for i := 0; ok && i < len(raw); i++ {
		ok = raw[i] >= '0' && raw[i] <= '9'
	}
	var id uint64
	var err error
	if ok {
		id, err = strconv.ParseUint(raw, 10, 64)
	}
	if !ok || err != nil {
		return 0, errorf(400, CodeInvalidID, "id %q: want a positive integer (ids come from search results)", clip(raw))
	}
	return id, nil
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:64] + "..."
}
