package web

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/glimpse-search/glimpse/indexer"
)

// TextsRequest is the JSON body of POST /texts.
type TextsRequest struct {
	Texts []TextItem `json:"texts"`
	// Source names the corpus for texts without an id (default "api"): their source is
	// "SOURCE:N", N the text's position from 1.
	Source string `json:"source,omitempty"`
}

// TextItem is one text; ID is kept as its source when set.
type TextItem struct {
	ID   string `json:"id,omitempty"`
	Text string `json:"text"`
}

// TextsResult answers POST /texts.
type TextsResult struct {
	Received  int `json:"received"`
	Added     int `json:"added"`
	Unchanged int `json:"unchanged"` // the same text with the same source was stored before
}

// addTexts is POST /texts: store texts with their embeddings (the corpus of image -> text
// search). JSON {"texts":[{"id","text"}]}, or a texts file as text/plain (one per line) or
// application/x-ndjson (lines {"id","text"}).
func (s *Server) addTexts(c echo.Context) error {
	if err := limitBody(c, s.o.MaxTextsBytes); err != nil {
		return err
	}
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	var lines []indexer.TextLine
	source := "api"
	switch mt {
	case "application/json":
		var req TextsRequest
		if err := decodeJSON(c.Request().Body, &req); err != nil {
			return err
		}
		if req.Source != "" {
			source = req.Source
		}
		for i, t := range req.Texts {
			text := strings.TrimSpace(t.Text)
			if text == "" {
				return badRequest("texts[%d] has no text", i)
			}
			lines = append(lines, indexer.TextLine{ID: t.ID, Text: text, Line: i + 1})
		}
	case "text/plain", "application/x-ndjson", "application/jsonl":
		data, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return bodyError(err)
		}
		if lines, err = indexer.ParseTexts(bytes.NewReader(data)); err != nil {
			return badRequest("%v", err)
		}
	default:
		return errorf(http.StatusUnsupportedMediaType, CodeUnsupportedType,
			`send application/json {"texts":[{"id","text"}]}, text/plain (one text per line) or application/x-ndjson, not %q`,
			clip(c.Request().Header.Get(echo.HeaderContentType)))
	}
	switch {
	case len(lines) == 0:
		return badRequest("no texts in the body")
	case len(lines) > s.o.MaxTexts:
		return badRequest("%d texts, over the limit of %d per request", len(lines), s.o.MaxTexts)
	}
	for _, l := range lines {
		if len(l.Text) > s.o.MaxQueryBytes {
			return badRequest("text %d is %d bytes, over the %d-byte limit", l.Line, len(l.Text), s.o.MaxQueryBytes)
		}
	}
	s.texts.Lock()
	defer s.texts.Unlock()
	ix, err := indexer.New(s.lib, s.m, s.info, indexer.Options{Logger: s.o.Logger, Tokens: indexer.TokensLazy}) // texts only
	if err != nil {
		return err
	}
	sum, err := ix.AddTexts(c.Request().Context(), lines, source)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, TextsResult{Received: len(lines), Added: sum.Added, Unchanged: sum.Unchanged})
}
