// Package searcher answers Glimpse's queries in two stages, as mPLUG, ALBEF and BLIP evaluate
// retrieval: the contrastive (ITC) embeddings find K candidates through the store's HNSW index,
// then the model's fused image-text-matching (ITM) head scores each (query, candidate) pair
// (package rerank) and its match probability ranks them. Unlike a cosine similarity the ITM
// probability is calibrated, so a minimum score makes "no confident match" a possible answer.
//
// A [Searcher] serves three modes over one store namespace:
//
//   - [Searcher.Images]: text -> images (ITC top-K, ITM rerank), with capture-date and folder
//     filters applied inside the ANN search;
//   - [Searcher.Similar]: image (pixels or an indexed id) -> images, ITC only;
//   - [Searcher.Captions]: image -> indexed texts (ITC top-K, ITM rerank);
//
// plus [Searcher.Explain], a heat map of the ITM head's cross-attention over the image, and
// [Evaluate], the Flickr30k retrieval protocol run through the same functions. Every result
// carries per-stage timings in milliseconds.
package searcher
