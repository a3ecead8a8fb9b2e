package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/glimpse-search/glimpse/encoder"
	"github.com/glimpse-search/glimpse/searcher"
	"github.com/glimpse-search/glimpse/store"
	"github.com/glimpse-search/glimpse/web/client"
)

// Error codes of the API ({"error":{"code","message"}}).
const (
	CodeBadRequest       = "bad_request"            // 400: a parameter is missing, malformed or out of range
	CodeInvalidID        = "invalid_id"             // 400: an id is not a positive integer
	CodeUnauthorized     = "unauthorized"           // 401: no API key, or a wrong one
	CodeForbidden        = "forbidden"              // 403: the server has no API keys, or the path is outside the index roots
	CodeNotFound         = "not_found"              // 404
	CodeMethodNotAllowed = "method_not_allowed"     // 405
	CodeConflict         = "conflict"               // 409: a job already finished
	CodeTooLarge         = "payload_too_large"      // 413
	CodeUnsupportedType  = "unsupported_media_type" // 415
	CodeUnprocessable    = "unprocessable_image"    // 422: not a supported image, or an undecodable one
	CodeRateLimited      = "rate_limited"           // 429
	CodeInternal         = "internal"               // 500
	CodeNotImplemented   = "not_implemented"        // 501: the model cannot do it (no ITM head)
	CodeUnavailable      = "unavailable"            // 503: timeout, overload, shutting down, not ready
)

// apiError is an error with its HTTP status and code; handlers return it and the error handler
// writes it.
type apiError struct {
	status  int
	code    string
	message string
	err     error // the cause, for the log
}

func (e *apiError) Error() string { return e.message }
func (e *apiError) Unwrap() error { return e.err }

func errorf(status int, code, format string, a ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, a...)}
}

func badRequest(format string, a ...any) *apiError {
	return errorf(http.StatusBadRequest, CodeBadRequest, format, a...)
}

// classify maps an error of the engine onto the API's status and code. Messages of input
// errors are shown; internal ones are replaced by a generic sentence (and logged).
func classify(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return fromEcho(he)
	}
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &mb):
		return &apiError{http.StatusRequestEntityTooLarge, CodeTooLarge,
			fmt.Sprintf("the request body is over the %d-byte limit", mb.Limit), err}
	case errors.Is(err, searcher.ErrInput):
		return &apiError{http.StatusBadRequest, CodeBadRequest, trimPrefix(err.Error()), err}
	case errors.Is(err, store.ErrNotFound):
		return &apiError{http.StatusNotFound, CodeNotFound, "no such image or text", err}
	case errors.Is(err, encoder.ErrTooLarge):
		return &apiError{http.StatusRequestEntityTooLarge, CodeTooLarge,
			"the image is too large for the server's upload caps: " + imageDetail(err), err}
	case errors.Is(err, encoder.ErrUnsupportedImage):
		return &apiError{http.StatusUnprocessableEntity, CodeUnprocessable,
			"the upload is not a supported image (PNG, JPEG, GIF, WebP, BMP, TIFF) or is damaged: " + imageDetail(err), err}
	case errors.Is(err, encoder.ErrNoITM), errors.Is(err, searcher.ErrNoAttention):
		return &apiError{http.StatusNotImplemented, CodeNotImplemented,
			"the server's model has no image-text matching head for this request", err}
	case errors.Is(err, store.ErrNoVector):
		return &apiError{http.StatusNotFound, CodeNotFound, "the image has no embedding for the server's model", err}
	case errors.Is(err, context.DeadlineExceeded):
		return &apiError{http.StatusServiceUnavailable, CodeUnavailable,
			"the request took longer than the server's time limit; try again, or ask for fewer results (k)", err}
	case errors.Is(err, context.Canceled):
		return &apiError{http.StatusServiceUnavailable, CodeUnavailable, "the request was cancelled", err}
	}
	return &apiError{http.StatusInternalServerError, CodeInternal, "internal error; the server log has the details", err}
}

// imageDetail is what an image error says after the package prefixes ("searcher: query image:
// image too large: png of 10000x10000 decodes to 762 MiB, over 128 MiB" -> "png of ...").
func imageDetail(err error) string {
	msg := err.Error()
	for _, sep := range []string{encoder.ErrTooLarge.Error() + ": ", encoder.ErrUnsupportedImage.Error() + ": "} {
		if i := strings.LastIndex(msg, sep); i >= 0 {
			return msg[i+len(sep):]
		}
	}
	return msg
}

// trimPrefix drops the searcher's package prefix from an input error's message.
func trimPrefix(msg string) string {
	const p = "searcher: invalid query: "
	if len(msg) > len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}

// fromEcho converts the framework's own errors (unknown route, wrong method, bad bind).
func fromEcho(he *echo.HTTPError) *apiError {
	msg := fmt.Sprint(he.Message)
	code := CodeBadRequest
	switch he.Code {
	case http.StatusNotFound:
		code, msg = CodeNotFound, "no such endpoint or file"
	case http.StatusMethodNotAllowed:
		code, msg = CodeMethodNotAllowed, "this endpoint does not take that method"
	case http.StatusRequestEntityTooLarge:
		code = CodeTooLarge
	case http.StatusUnsupportedMediaType:
		code = CodeUnsupportedType
	case http.StatusUnauthorized:
		code = CodeUnauthorized
	case http.StatusTooManyRequests:
		code = CodeRateLimited
	case http.StatusServiceUnavailable:
		code = CodeUnavailable
	default:
		if he.Code >= 500 {
			code = CodeInternal
		}
	}
	return &apiError{status: he.Code, code: code, message: msg, err: he}
}

// handleError is echo's error handler: every error becomes {"error":{"code","message"}}.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	ae := classify(err)
	if ae.status >= 500 {
		s.o.Logger.Error("request failed", "request_id", requestID(c), "route", c.Path(),
			"status", ae.status, "error", err.Error())
	}
	if ae.status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="glimpse"`)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(ae.status)
		return
	}
	_ = c.JSON(ae.status, client.ErrorBody{Error: client.ErrorDetail{Code: ae.code, Message: ae.message}})
}
