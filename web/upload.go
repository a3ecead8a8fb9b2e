package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/glimpse-search/glimpse/searcher"
	"github.com/glimpse-search/glimpse/store"
)

// multipartSlack is the room a multipart body gets for headers and boundaries beyond its image.
const multipartSlack = 1 << 20

// imageRequest is what search/image and score read: an uploaded image or an indexed id, and
// for score a text.
type imageRequest struct {
	input    searcher.ImageInput
	text     string
	decodeMS float64 // time to decode the upload
}

// readImageRequest reads multipart/form-data (fields "image" and, with wantText, "text") or
// JSON ({"id"} and, with wantText, {"text"}). Other content types are 415.
func (s *Server) readImageRequest(c echo.Context, wantText bool) (imageRequest, error) {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		mt = ""
	}
	want := `multipart/form-data (field "image") or application/json ({"id": N})`
	if wantText {
		want = `multipart/form-data (fields "image" and "text") or application/json ({"id": N, "text": "..."})`
	}
	var r imageRequest
	switch mt {
	case "multipart/form-data":
		r, err = s.readMultipart(c, params["boundary"], wantText)
	case "application/json":
		r, err = s.readImageJSON(c, wantText)
	default:
		return r, errorf(http.StatusUnsupportedMediaType, CodeUnsupportedType, "send %s, not Content-Type %q", want, clip(ct))
	}
	if err != nil {
		return r, err
	}
	if wantText {
		if strings.TrimSpace(r.text) == "" {
			return r, badRequest("text is required: the text to match against the image")
		}
		if len(r.text) > s.o.MaxQueryBytes {
			return r, badRequest("text is %d bytes, over the %d-byte limit", len(r.text), s.o.MaxQueryBytes)
		}
	}
	return r, nil
}

func (s *Server) readMultipart(c echo.Context, boundary string, wantText bool) (imageRequest, error) {
	var r imageRequest
	if boundary == "" {
		return r, badRequest("multipart/form-data without a boundary")
	}
	if err := limitBody(c, s.o.MaxUploadBytes+multipartSlack); err != nil {
		return r, err
	}
	mr := multipart.NewReader(c.Request().Body, boundary)
	var data []byte
	got, gotText := false, false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return r, bodyError(err)
		}
		switch part.FormName() {
		case "image":
			if got {
				return r, badRequest(`more than one "image" field`)
			}
			got = true
			if data, err = io.ReadAll(io.LimitReader(part, s.o.MaxUploadBytes+1)); err != nil {
				return r, bodyError(err)
			}
			if int64(len(data)) > s.o.MaxUploadBytes {
				return r, errorf(http.StatusRequestEntityTooLarge, CodeTooLarge,
					"the image is over the %d-byte upload limit", s.o.MaxUploadBytes)
			}
		case "text":
			b, err := io.ReadAll(io.LimitReader(part, int64(s.o.MaxQueryBytes)+1))
			if err != nil {
				return r, bodyError(err)
			}
			r.text, gotText = string(b), true
		default:
			if _, err := io.Copy(io.Discard, part); err != nil {
				return r, bodyError(err)
			}
		}
	}
	switch {
	case !got:
		return r, badRequest(`the multipart form has no "image" field`)
	case len(data) == 0:
		return r, badRequest(`the "image" field is empty`)
	case wantText && !gotText:
		return r, badRequest(`the multipart form has no "text" field`)
	}
	t0 := time.Now()
	img, err := s.s.Decode(bytes.NewReader(data))
	if err != nil {
		return r, err
	}
	r.input.Image = img
	r.decodeMS = float64(time.Since(t0).Microseconds()) / 1e3
	return r, nil
}

// bodyError turns a read error of a request body into a 413 (over the cap) or a 400.
func bodyError(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return classify(err)
	}
	return badRequest("unreadable request body: %v", err)
}

func (s *Server) readImageJSON(c echo.Context, wantText bool) (imageRequest, error) {
	var r imageRequest
	if err := limitBody(c, s.o.MaxBodyBytes); err != nil {
		return r, err
	}
	var body struct {
		ID   json.RawMessage `json:"id"`
		Text *string         `json:"text"`
	}
	if err := decodeJSON(c.Request().Body, &body); err != nil {
		return r, err
	}
	raw := strings.Trim(string(body.ID), `"`)
	if len(body.ID) == 0 || raw == "null" {
		return r, badRequest(`the JSON body needs "id": an indexed image id`)
	}
	id, err := parseID(raw)
	if err != nil {
		return r, err
	}
	if _, err := s.lib.DB().Image(id); errors.Is(err, store.ErrNotFound) {
		return r, errorf(http.StatusNotFound, CodeNotFound, "no image with id %d", id)
	}
	r.input.ImageID = id
	if body.Text != nil {
		r.text = *body.Text
	} else if wantText {
		return r, badRequest(`the JSON body needs "text"`)
	}
	return r, nil
}

// decodeJSON reads one JSON value from a capped body.
func decodeJSON(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		var mb *http.MaxBytesError
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mb):
			return classify(err)
		case errors.As(err, &se):
			return badRequest("invalid JSON at byte %d: %v", se.Offset, err)
		case errors.As(err, &te):
			return badRequest("JSON field %q: want %s, got %s", te.Field, te.Type, te.Value)
		case errors.Is(err, io.EOF):
			return badRequest("empty JSON body")
		}
		return badRequest("invalid JSON: %v", err)
	}
	if dec.More() {
		return badRequest("more than one JSON value in the body")
	}
	return nil
}

// requireJSON refuses a body that is not application/json (415).
func requireJSON(c echo.Context, what string) error {
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, CodeUnsupportedType, "send %s as application/json, not Content-Type %q",
			what, clip(c.Request().Header.Get(echo.HeaderContentType)))
	}
	return nil
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) float64 {
	v, _ := strconv.ParseFloat(fmt.Sprintf("%.3f", float64(d.Microseconds())/1e3), 64)
	return v
}
