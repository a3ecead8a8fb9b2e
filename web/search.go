package web

import (
	"bytes"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/disintegration/imaging"
	"github.com/labstack/echo/v4"

	"github.com/glimpse-search/glimpse/searcher"
)

// Response headers of GET /explain.
const (
	HeaderPMatch = "X-Glimpse-P-Match"
	HeaderITC    = "X-Glimpse-Itc"
)

// ImageHit is one image of a search answer. Paths stay on the server: Name is the file's base
// name, and the image is fetched by id.
type ImageHit struct {
	ID   uint64 `json:"id"`
	Name string `json:"name"`
	// Score is the ITM match probability when the hit was reranked, else the ITC similarity.
	Score  float64  `json:"score"`
	PMatch *float64 `json:"p_match,omitempty"` // ITM match probability; absent when not reranked
	// ITMLogit is the raw ITM match logit itm_logits[1], what the itm_logit ranks order by (not
	// a probability, nor comparable across models); absent when not reranked.
	ITMLogit *float64   `json:"itm_logit,omitempty"`
	ITC      float64    `json:"itc"` // cosine similarity of the embeddings
	Width    int        `json:"width,omitempty"`
	Height   int        `json:"height,omitempty"`
	Captured *time.Time `json:"captured,omitempty"`
	ThumbURL string     `json:"thumb_url"`
	ImageURL string     `json:"image_url"`
}

// TextHit is one indexed text of an image -> text answer.
type TextHit struct {
	ID   uint64 `json:"id"`
	Text string `json:"text"`
	// Source is where the text came from: its id, "SOURCE:N" for texts posted without one, or
	// "FILE:LINE" for a file given to `indexer add-texts`. Paths stay on the server: a
	// path-like source is cut to its base name (see sourceName); the store keeps it whole.
	Source   string   `json:"source,omitempty"`
	Score    float64  `json:"score"`
	PMatch   *float64 `json:"p_match,omitempty"`
	ITMLogit *float64 `json:"itm_logit,omitempty"`
	ITC      float64  `json:"itc"`
}

// Timings are a search's stages in milliseconds (the searcher's), plus the upload's decode and
// the whole request inside the server.
type Timings struct {
	searcher.Timings
	Decode float64 `json:"decode,omitempty"`
	Server float64 `json:"server"`
}

// Page is what every search answer shares.
type Page struct {
	Offset     int      `json:"offset"`
	Limit      int      `json:"limit"`
	Total      int      `json:"total"`      // results past the threshold; this page shows [offset, offset+limit)
	Candidates int      `json:"candidates"` // from the embeddings (ANN)
	Reranked   int      `json:"reranked"`   // scored by the ITM head
	K          int      `json:"k"`
	Rank       string   `json:"rank,omitempty"`
	MinScore   *float64 `json:"min_score,omitempty"`
	// NoConfidentMatch is true only when candidates were reranked and none reached min_score
	// (total 0): the calibrated "nothing matches". An empty index, filters that exclude every
	// image or an offset past the end also give an empty page, with the flag false; Reason
	// says which, and explains every empty page.
	NoConfidentMatch bool   `json:"no_confident_match"`
	Reason           string `json:"reason,omitempty"`
	// Note says how results were ranked when it is not what was asked (a model without an
	// ITM head ranks by ITC alone).
	Note     string   `json:"note,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Timings  Timings  `json:"timings_ms"`
}

// ImageResult answers GET /search and POST /search/image?target=images.
type ImageResult struct {
	Hits []ImageHit `json:"hits"`
	Page
}

// TextResult answers POST /search/image?target=texts.
type TextResult struct {
	Hits []TextHit `json:"hits"`
	Page
}

// ScoreResult answers POST /score: [p_no_match, p_match], the shape of ModelScope's pipeline.
type ScoreResult struct {
	Scores [2]float32 `json:"scores"`
}

func (s *Server) page(pg searcher.Page, start time.Time, decode float64) Page {
	p := Page{Offset: pg.Offset, Limit: pg.Limit, Total: pg.Total, Candidates: pg.Candidates, Reranked: pg.Reranked,
		K: pg.K, Rank: string(pg.Rank), MinScore: pg.MinScore, NoConfidentMatch: pg.NoConfidentMatch, Reason: pg.Reason, Note: pg.Note,
		Timings: Timings{Timings: pg.Timings, Decode: decode, Server: ms(time.Since(start))}}
	if n := len(pg.Warnings); n > 0 { // they name server paths: count them here, log them
		p.Warnings = []string{fmt.Sprintf("%d candidates were not reranked: their files are missing, moved or "+
			"unreadable (the server log names them)", n)}
	}
	s.metrics.observe(pg.Timings)
	return p
}

func imageHits(hs []searcher.ImageHit) []ImageHit {
	out := make([]ImageHit, len(hs))
	for i, h := range hs {
		id := strconv.FormatUint(h.ImageID, 10)
		out[i] = ImageHit{ID: h.ImageID, Name: filepath.Base(h.Path), Score: h.ITC, PMatch: h.PMatch, ITMLogit: h.ITMLogit,
			ITC: h.ITC, Width: h.Width, Height: h.Height, Captured: h.Captured,
			ThumbURL: APIPrefix + "/thumbs/" + id, ImageURL: APIPrefix + "/images/" + id}
		if h.PMatch != nil {
			out[i].Score = *h.PMatch
		}
	}
	return out
}

func textHits(hs []searcher.TextHit) []TextHit {
	out := make([]TextHit, len(hs))
	for i, h := range hs {
		out[i] = TextHit{ID: h.TextID, Text: h.Text, Source: sourceName(h.Source), Score: h.ITC, PMatch: h.PMatch,
			ITMLogit: h.ITMLogit, ITC: h.ITC}
		if h.PMatch != nil {
			out[i].Score = *h.PMatch
		}
	}
	return out
}

// sourceName is what the API shows of a text's source: a path-like one, any with a '/' or a
// '\', such as "/srv/corpus/captions.txt:12" from `indexer add-texts`, is cut to its base name
// ("captions.txt:12"), so that neither absolute nor relative server paths leak (an id with a
// slash, "coco/123", shows as "123"); ids and "api:N" pass unchanged.
func sourceName(source string) string {
	return source[strings.LastIndexAny(source, `/\`)+1:]
}

// searchText is GET /search: text -> images.
func (s *Server) searchText(c echo.Context) error {
	start := time.Now()
	q := c.QueryParams()
	text := q.Get("q")
	switch {
	case strings.TrimSpace(text) == "":
		return badRequest("q is required: the text to search for, e.g. ?q=a+red+circle")
	case len(text) > s.o.MaxQueryBytes:
		return badRequest("q is %d bytes, over the %d-byte limit", len(text), s.o.MaxQueryBytes)
	}
	p, err := s.parseParams(q, true)
	if err != nil {
		return err
	}
	res, err := s.s.Images(c.Request().Context(), searcher.ImageQuery{Text: text, Params: p.Params, Filter: p.Filter})
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, ImageResult{Hits: imageHits(res.Hits), Page: s.page(res.Page, start, 0)})
}

// searchImage is POST /search/image: image -> images (target=images) or texts (target=texts).
func (s *Server) searchImage(c echo.Context) error {
	start := time.Now()
	q := c.QueryParams()
	target := q.Get("target")
	if target == "" {
		target = "images"
	}
	if target != "images" && target != "texts" {
		return badRequest("target %q: want images or texts", clip(target))
	}
	p, err := s.parseParams(q, target == "images")
	if err != nil {
		return err
	}
	r, err := s.readImageRequest(c, false)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	c.Response().Header().Set("Cache-Control", "no-store")
	if target == "texts" {
		res, err := s.s.Captions(ctx, searcher.CaptionQuery{ImageInput: r.input, Params: p.Params})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, TextResult{Hits: textHits(res.Hits), Page: s.page(res.Page, start, r.decodeMS)})
	}
	res, err := s.s.Similar(ctx, searcher.SimilarQuery{ImageInput: r.input, Params: p.Params, Filter: p.Filter})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ImageResult{Hits: imageHits(res.Hits), Page: s.page(res.Page, start, r.decodeMS)})
}

// score is POST /score: the ITM head's [p_no_match, p_match] for one image and one text.
func (s *Server) score(c echo.Context) error {
	r, err := s.readImageRequest(c, true)
	if err != nil {
		return err
	}
	scores, err := s.s.Score(c.Request().Context(), searcher.ScoreQuery{ImageInput: r.input, Text: r.text})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ScoreResult{Scores: scores})
}

// explain is GET /explain?id=&q=: a PNG heat map of where the ITM head looks for q in the
// image, at most ExplainSide pixels on its longest side.
func (s *Server) explain(c echo.Context) error {
	q := c.QueryParams()
	text := q.Get("q")
	if strings.TrimSpace(text) == "" {
		return badRequest("q is required: the text whose attention to show")
	}
	if len(text) > s.o.MaxQueryBytes {
		return badRequest("q is %d bytes, over the %d-byte limit", len(text), s.o.MaxQueryBytes)
	}
	raw := q.Get("id")
	if raw == "" {
		return badRequest("id is required: the indexed image to explain")
	}
	id, err := parseID(raw)
	if err != nil {
		return err
	}
	e, err := s.s.Explain(c.Request().Context(), searcher.ExplainQuery{ImageInput: searcher.ImageInput{ImageID: id}, Text: text})
	if err != nil {
		return err
	}
	if b := e.Image.Bounds(); max(b.Dx(), b.Dy()) > s.o.ExplainSide {
		e.Image = imaging.Fit(e.Image, s.o.ExplainSide, s.o.ExplainSide, imaging.Linear)
	}
	var buf bytes.Buffer
	if err := e.WritePNG(&buf); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(HeaderPMatch, strconv.FormatFloat(e.PMatch, 'f', 6, 64))
	h.Set(HeaderITC, strconv.FormatFloat(e.ITC, 'f', 6, 64))
	h.Set("Cache-Control", "private, max-age=300")
	return c.Blob(http.StatusOK, "image/png", buf.Bytes())
}
