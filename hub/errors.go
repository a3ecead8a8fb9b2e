package hub

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// Sentinel errors. Errors returned by this package wrap one of them with the context (repository,
// file, URL) that explains it; test with errors.Is.
var (
	// ErrNotFound: the hub has no such repository, revision or file (HTTP 404, or a file the
	// caller asked for by name that the repository's listing does not hold).
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: the hub refused the request (HTTP 401 or 403: a private or gated
	// repository, a missing or wrong token).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrUnreachable: no HTTP answer came back (DNS, refused connection, proxy, TLS, no response
	// headers in time). The error names the URL, so a caller can tell the user where to fetch the
	// files by hand.
	ErrUnreachable = errors.New("hub unreachable")
	// ErrTimeout: the server stopped sending a response body for longer than Options.IdleTimeout.
	ErrTimeout = errors.New("transfer stalled")
	// ErrChecksum: a downloaded file does not match the digest or size the hub publishes.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrNoSpace: the destination's file system has less free space than the files need.
	ErrNoSpace = errors.New("not enough disk space")
	// ErrBadResponse: the hub answered something this package cannot use (malformed JSON, an
	// unsafe file path, a byte range it did not ask for, an unexpected status).
	ErrBadResponse = errors.New("bad hub response")
	// ErrInput: an argument is malformed (repository id, revision, pattern, Options).
	ErrInput = errors.New("invalid argument")
)

// HTTPError is an HTTP error status from the hub. Code and Message are the hub's own reason when
// it sends one: Hugging Face's X-Error-Code / X-Error-Message headers (RepoNotFound,
// RevisionNotFound, EntryNotFound, GatedRepo), ModelScope's JSON Code / Message.
//
// It matches ErrNotFound for 404 and ErrUnauthorized for 401 and 403.
type HTTPError struct {
	Method  string
	URL     string
	Status  int
	Code    string
	Message string
	// RetryAfter is the server's Retry-After (HTTP 429, 503), 0 when it sent none.
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.URL, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is makes errors.Is(err, ErrNotFound) and errors.Is(err, ErrUnauthorized) work.
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == 404
	case ErrUnauthorized:
		return e.Status == 401 || e.Status == 403
	case ErrBadResponse:
		return e.Status != 404 && e.Status != 401 && e.Status != 403
	}
	return false
}

// NetError is a request that got no HTTP response. It matches ErrUnreachable, and ErrTimeout too
// when the cause was a timeout; Unwrap gives the network error itself.
type NetError struct {
	Method string
	URL    string
	Err    error
}

func (e *NetError) Error() string {
	return fmt.Sprintf("cannot reach %s (%s): %v", e.URL, e.Method, e.Err)
}

func (e *NetError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnreachable) work (and ErrTimeout for a timed-out dial or wait for
// response headers).
func (e *NetError) Is(target error) bool {
	switch target {
	case ErrUnreachable:
		return true
	case ErrTimeout:
		var ne net.Error
		return errors.As(e.Err, &ne) && ne.Timeout()
	}
	return false
}

// ChecksumError is a downloaded file whose digest (or size) differs from the one the hub
// publishes. The file has been deleted. It matches ErrChecksum.
type ChecksumError struct {
	Path string // the file's path in the repository
	Algo string // "sha256", "git-sha1" (a git blob id) or "size"
	Want string
	Got  string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: %s mismatch: expected %s, got %s", e.Path, e.Algo, e.Want, e.Got)
}

// Is makes errors.Is(err, ErrChecksum) work.
func (e *ChecksumError) Is(target error) bool { return target == ErrChecksum }

// SpaceError is a download refused before it started because the destination lacks the space.
// It matches ErrNoSpace.
type SpaceError struct {
	Dir  string
	Need int64 // bytes still to download
	Free int64 // bytes available to an unprivileged user
}

func (e *SpaceError) Error() string {
	return fmt.Sprintf("needs %s, %s free on %s", FormatBytes(e.Need), FormatBytes(e.Free), e.Dir)
}

// Is makes errors.Is(err, ErrNoSpace) work.
func (e *SpaceError) Is(target error) bool { return target == ErrNoSpace }

// FormatBytes writes n in decimal units, as file managers and the hub's web pages do:
// "512 B", "1.5 kB", "351.5 MB", "2.1 GB".
func FormatBytes(n int64) string {
	if n < 1000 && n > -1000 {
		return strconv.FormatInt(n, 10) + " B"
	}
	f := float64(n)
	for _, unit := range []string{"kB", "MB", "GB", "TB"} {
		f /= 1000
		if f < 1000 && f > -1000 || unit == "TB" {
			return strconv.FormatFloat(f, 'f', 1, 64) + " " + unit
		}
	}
	panic("unreachable")
}
