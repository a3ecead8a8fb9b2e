// Package encoder runs a Glimpse model bundle: it loads and validates the bundle (docs/models.md),
// turns images into normalised pixel tensors the way the reference exporter's PIL pipeline does,
// and runs the bundle's ONNX graphs through ONNX Runtime.
//
// A [Model] holds up to three encoders, all created once by [Open] and safe for concurrent use:
//
//   - [Vision]: images -> ITC embeddings [D] and image tokens [N*C] (the ITM input);
//   - [Text]: texts -> token ids, attention masks, ITC embeddings [D] and text states [L*C];
//   - [ITM]: (image tokens, text states) pairs -> 2-way match logits and, when the graph has it,
//     the last fusion layer's cross-attention [L*N]. Dual encoders such as CLIP have no ITM.
//
// Preprocessing ([Preprocessor]; the decoding is package photo's) needs no ONNX Runtime, so
// indexer workers can decode and resize in parallel and hand finished tensors to
// [Vision.EncodePixels].
//
// ONNX Runtime is a shared library loaded once per process ([FindLibrary] says where it is
// looked for); no ONNX Runtime type leaves this package.
package encoder
