package web

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// Limits of an API key.
const (
	MinKeyLen = 16
	MaxKeyLen = 512
)

// ErrBadKeys: an API key file line is not a usable key.
var ErrBadKeys = errors.New("web: bad API key file")

// Keys is a set of API keys, held only as sha256 digests. It is read-only after creation and
// safe for concurrent use.
type Keys struct {
	digests [][sha256.Size]byte
}

// ParseKeys reads an API key file: one key per line, blank lines and lines starting with '#'
// ignored, surrounding spaces trimmed. A key must be MinKeyLen..MaxKeyLen printable ASCII
// characters without spaces; errors name the line, never the key.
func ParseKeys(r io.Reader) (*Keys, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64<<10)
	var keys []string
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := checkKey(line); err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrBadKeys, n, err)
		}
		keys = append(keys, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKeys, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys (one per line; '#' starts a comment)", ErrBadKeys)
	}
	return NewKeys(keys...)
}

// NewKeys returns the set of the given keys.
func NewKeys(keys ...string) (*Keys, error) {
	k := &Keys{}
	for i, key := range keys {
		if err := checkKey(key); err != nil {
			return nil, fmt.Errorf("%w: key %d: %v", ErrBadKeys, i+1, err)
		}
		k.digests = append(k.digests, sha256.Sum256([]byte(key)))
	}
	return k, nil
}

func checkKey(key string) error {
	if len(key) < MinKeyLen || len(key) > MaxKeyLen {
		return fmt.Errorf("a key has %d..%d characters, this one %d", MinKeyLen, MaxKeyLen, len(key))
	}
	for _, c := range []byte(key) {
		if c <= ' ' || c > '~' {
			return errors.New("a key is printable ASCII without spaces")
		}
	}
	return nil
}

// Len is the number of keys.
func (k *Keys) Len() int {
	if k == nil {
		return 0
	}
	return len(k.digests)
}

// Match reports whether key is one of the set. It compares the key's digest with every stored
// digest in constant time and does not stop at the first match, so the time taken says
// nothing about the keys.
func (k *Keys) Match(key string) bool {
	if k == nil {
		return false
	}
	d := sha256.Sum256([]byte(key))
	ok := 0
	for i := range k.digests {
		ok |= subtle.ConstantTimeCompare(d[:], k.digests[i][:])
	}
	return ok == 1
}

// bearer returns the token of an "Authorization: Bearer TOKEN" header.
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// requireKey lets a request through only with a valid API key.
func (s *Server) requireKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.o.Keys.Len() == 0 {
			return errorf(http.StatusForbidden, CodeForbidden,
				"this endpoint needs an API key, and the server has none: start it with --api-key-file FILE")
		}
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		if h == "" {
			return errorf(http.StatusUnauthorized, CodeUnauthorized,
				"this endpoint needs an API key: send the header Authorization: Bearer KEY")
		}
		key, ok := bearer(h)
		if !ok {
			return errorf(http.StatusUnauthorized, CodeUnauthorized,
				"the Authorization header must be \"Bearer KEY\"")
		}
		if !s.o.Keys.Match(key) {
			s.metrics.authFailures.Inc()
			return errorf(http.StatusUnauthorized, CodeUnauthorized, "the API key is not valid")
		}
		return next(c)
	}
}

// requireRead guards every route but the health checks when Options.ReadKeys is set: a request
// needs a read key or a write key (Options.Keys), as "Authorization: Bearer KEY" or as the
// password of HTTP Basic authentication, which browsers ask for once and then send with every
// request of the page, thumbnails included (the user name is ignored). A 401 carries
// WWW-Authenticate: Basic, so opening the UI brings up the browser's login prompt.
func (s *Server) requireRead(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.o.ReadKeys.Len() == 0 {
			return next(c)
		}
		switch c.Request().URL.Path {
		case "/healthz", "/readyz":
			return next(c)
		}
		key, ok := "", false
		if _, pass, basic := c.Request().BasicAuth(); basic {
			key, ok = pass, pass != ""
		} else {
			key, ok = bearer(c.Request().Header.Get(echo.HeaderAuthorization))
		}
		if ok && (s.o.ReadKeys.Match(key) || s.o.Keys.Match(key)) {
			return next(c)
		}
		if ok {
			s.metrics.authFailures.Inc()
		}
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Basic realm="glimpse", charset="UTF-8"`)
		return errorf(http.StatusUnauthorized, CodeUnauthorized,
			"this server needs a key to read: send Authorization: Bearer KEY (or the key as the Basic password)")
	}
}
