package searcher

import (
	"math"
	"time"
)

// Timings are the milliseconds a query spent per stage. Model compute is TextEncode,
// ImageEncode, TokenEncode and Rerank; the rest is the engine's own cost.
type Timings struct {
	Tokenize    float64 `json:"tokenize"`     // text query -> token ids
	TextEncode  float64 `json:"text_encode"`  // text encoder: the query, or candidate texts to rerank
	ImageEncode float64 `json:"image_encode"` // vision encoder on a query image
	ANN         float64 `json:"ann"`          // HNSW candidate search (filters included)
	Fetch       float64 `json:"fetch"`        // records, and candidate image tokens (cache reads or file decodes)
	TokenEncode float64 `json:"token_encode"` // vision encoder recomputing candidate tokens
	Rerank      float64 `json:"rerank"`       // ITM head over the candidate pairs
	Total       float64 `json:"total"`
}

// round rounds every stage to the microsecond (sums of laps carry float noise).
func (t Timings) round() Timings {
	r := func(v float64) float64 { return math.Round(v*1e3) / 1e3 }
	return Timings{Tokenize: r(t.Tokenize), TextEncode: r(t.TextEncode), ImageEncode: r(t.ImageEncode), ANN: r(t.ANN),
		Fetch: r(t.Fetch), TokenEncode: r(t.TokenEncode), Rerank: r(t.Rerank), Total: r(t.Total)}
}

// Model is the model-compute share of Total.
func (t Timings) Model() float64 { return t.TextEncode + t.ImageEncode + t.TokenEncode + t.Rerank }

// Overhead is everything except model compute.
func (t Timings) Overhead() float64 { return t.Total - t.Model() }

// ms converts d to milliseconds, rounded to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

// ImageHit is one image of a result.
type ImageHit struct {
	ImageID  uint64     `json:"id"`
	Path     string     `json:"path"`
	Width    int        `json:"width,omitempty"`
	Height   int        `json:"height,omitempty"`
	Captured *time.Time `json:"captured,omitempty"`
	// Score orders the results: the page's Rank formula of a reranked result (the ITM match
	// probability for itm, the match logit for itm_logit, either plus the ITC similarity for
	// itm+itc and itm_logit+itc), or the ITC similarity alone for unreranked results.
	Score float64 `json:"score"`
	// PMatch is the ITM match probability; nil when the hit was not reranked.
	PMatch *float64 `json:"p_match,omitempty"`
	// ITMLogit is the raw ITM match logit itm_logits[1] (not a probability, nor comparable
	// across models); nil when the hit was not reranked.
	ITMLogit *float64 `json:"itm_logit,omitempty"`
	ITC      float64  `json:"itc"` // cosine similarity of the embeddings
}

// TextHit is one indexed text of a result. Score, PMatch, ITMLogit and ITC are an ImageHit's.
type TextHit struct {
	TextID   uint64   `json:"id"`
	Text     string   `json:"text"`
	Source   string   `json:"source,omitempty"`
	Score    float64  `json:"score"`
	PMatch   *float64 `json:"p_match,omitempty"`
	ITMLogit *float64 `json:"itm_logit,omitempty"`
	ITC      float64  `json:"itc"`
}

// Page is what every result shares: the pagination, the reason for an empty page and timings.
type Page struct {
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
	// Total is the number of results past the threshold, of which this page shows
	// [Offset, Offset+Limit).
	Total int `json:"total"`
	// Candidates is the number the ANN stage returned; Reranked how many the ITM head scored.
	Candidates int  `json:"candidates"`
	Reranked   int  `json:"reranked"`
	K          int  `json:"k"`
	Rank       Rank `json:"rank,omitempty"`
	// MinScore is the minimum ITM match probability applied (absent when nothing was reranked).
	MinScore *float64 `json:"min_score,omitempty"`
	// NoConfidentMatch is true only when candidates were reranked and none reached MinScore
	// (Total 0): the calibrated answer "nothing indexed matches". It is false for every other
	// empty page: an empty index, filters that exclude every image, candidates that could not
	// be reranked, an offset past the end. Reason says which.
	NoConfidentMatch bool `json:"no_confident_match"`
	// Reason explains an empty page: one of the Reason constants (ReasonNoConfident and
	// ReasonPastEnd followed by details).
	Reason string `json:"reason,omitempty"`
	// Note says how the results were ranked when it is not what was asked: NoteNoITM when the
	// model is a dual encoder (CLIP) and no rerank could run.
	Note     string   `json:"note,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Timings  Timings  `json:"timings_ms"`
}

// ImageResult answers Images and Similar.
type ImageResult struct {
	Query string     `json:"query,omitempty"`
	Hits  []ImageHit `json:"hits"`
	Page
}

// TextResult answers Captions.
type TextResult struct {
	Hits []TextHit `json:"hits"`
	Page
}

// NoteNoITM is Page.Note for a model without an ITM head: nothing is reranked, there is no match
// probability and no threshold, and results are in ITC order.
const NoteNoITM = "ranked by ITC similarity alone: the model has no ITM head (a dual encoder such as CLIP), " +
	"so there is no rerank, match probability or threshold"

// Reasons for an empty page. Only ReasonNoConfident comes with Page.NoConfidentMatch.
const (
	ReasonNoIndex  = "nothing is indexed for this model yet"
	ReasonNoImages = "the image index is empty"
	ReasonNoTexts  = "no texts are indexed yet"
	ReasonFiltered = "no indexed image passes the filters"
	// ReasonNoOthers: an image -> image query by id over an index holding only that image.
	ReasonNoOthers = "no other image is indexed"
	// ReasonNoConfident: candidates were reranked and none reached the minimum score; the
	// reason goes on with the best match probability.
	ReasonNoConfident = "no confident match"
	// ReasonNotReranked: a threshold applies, but no candidate could be reranked (see
	// Page.Warnings), so none can pass it.
	ReasonNotReranked = "no candidate could be reranked"
	ReasonPastEnd     = "offset is past the last result"
)
