package weaviate

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
)

// Object is one image in the collection.
type Object struct {
	ID       uint64    // the image id, at most MaxID
	Vector   []float32 // Options.Dim values
	Path     string    // filtered by prefix
	Captured time.Time // zero when unknown
}

// Hit is one search result.
type Hit struct {
	ID    uint64
	Score float32 // cosine similarity, 1 - Weaviate's cosine distance
}

// Filter restricts a search. Zero fields do not restrict.
type Filter struct {
	From, To   time.Time // capture time in [From, To); objects without one fail a set bound
	PathPrefix string
}

func (f *Filter) empty() bool {
	return f == nil || (f.From.IsZero() && f.To.IsZero() && f.PathPrefix == "")
}

// Property names of the class.
const (
	propPath     = "path"
	propCaptured = "captured"
)

// MaxID is the largest image id a UUID can carry (48 bits).
const MaxID = 1<<48 - 1

// uuidPrefix marks Glimpse's objects ("glmp"); the last 48 bits are the
// image id, so Weaviate's cursor (UUID order) walks the images in id order.
const uuidPrefix = "676c6d70-0000-4000-8000-"

// UUID returns the object id of image id.
func UUID(id uint64) string { return fmt.Sprintf("%s%012x", uuidPrefix, id) }

// ParseUUID returns the image id of an object id made by UUID.
func ParseUUID(s string) (uint64, error) {
	rest, ok := strings.CutPrefix(strings.ToLower(s), uuidPrefix)
	if !ok || len(rest) != 12 {
		return 0, fmt.Errorf("weaviate: object id %q was not written by Glimpse", s)
	}
	id, err := strconv.ParseUint(rest, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("weaviate: object id %q: %w", s, err)
	}
	return id, nil
}

// micros is t in Unix microseconds, rounded down.
func micros(t time.Time) int64 { return t.UnixMicro() }

// microsCeil is t in Unix microseconds, rounded up, so that for a
// capture time c stored in whole microseconds, c >= microsCeil(t) exactly
// when c >= t (and likewise for <).
func microsCeil(t time.Time) int64 {
	m := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		m++
	}
	return m
}

// likePrefix turns a path prefix into a Weaviate Like pattern. Like knows
// no escape, so the wildcards * and ? inside the prefix become ? (any one
// character): the pattern then matches a superset, and exact reports
// whether it matches exactly the paths with that prefix (otherwise the
// caller checks each hit's path).
func likePrefix(prefix string) (pattern string, exact bool) {
	exact = !strings.ContainsAny(prefix, "*?")
	return strings.NewReplacer("*", "?").Replace(prefix) + "*", exact
}

// where builds the Weaviate filter of f (nil when f is empty) and reports
// whether it is exact (see likePrefix).
func (f *Filter) where() (*filters.WhereBuilder, bool) {
	if f.empty() {
		return nil, true
	}
	var ops []*filters.WhereBuilder
	exact := true
	if !f.From.IsZero() {
		ops = append(ops, filters.Where().WithPath([]string{propCaptured}).
			WithOperator(filters.GreaterThanEqual).WithValueInt(microsCeil(f.From)))
	}
	if !f.To.IsZero() {
		ops = append(ops, filters.Where().WithPath([]string{propCaptured}).
			WithOperator(filters.LessThan).WithValueInt(microsCeil(f.To)))
	}
	if f.PathPrefix != "" {
		var pat string
		pat, exact = likePrefix(f.PathPrefix)
		ops = append(ops, filters.Where().WithPath([]string{propPath}).
			WithOperator(filters.Like).WithValueText(pat))
	}
	if len(ops) == 1 {
		return ops[0], exact
	}
	return filters.Where().WithOperator(filters.And).WithOperands(ops), exact
}

// properties is an object's property map.
func (o *Object) properties() map[string]any {
	p := map[string]any{propPath: o.Path}
	if !o.Captured.IsZero() {
		p[propCaptured] = micros(o.Captured)
	}
	return p
}
