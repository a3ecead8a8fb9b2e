// Package rerank is the second retrieval stage: it scores (image, text) candidate pairs with a
// model's fused image-text-matching (ITM) head, the way mPLUG, ALBEF and BLIP rerank the top-K
// candidates of the contrastive (ITC) embeddings.
//
// A [Model] batches the pairs of one query to [encoder.ITM]: the query side (a text's states or
// an image's tokens) is computed once and paired with every candidate. The ITM input of a stored
// image, its tokens [N*C], is either recomputed by the vision encoder ([Recompute]) or read from
// a [TokenCache] of fp16 files beside the store, bounded by a size budget and evicted
// least-recently-used, that falls back to recomputing on a miss. A recompute reads the image's
// model-resolution copy when the indexer wrote one (a small JPEG of the model's input, see
// [ImageRef]), else the original file, else its thumbnail.
//
// ONNX Runtime stays inside package encoder; this package only sees Go slices.
package rerank
